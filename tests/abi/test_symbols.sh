#!/usr/bin/env bash
# test_symbols.sh — TAP: the ABI surface of the built libhood.so. Its exported symbols must be
# exactly include/hood.symbols (an accidental export or a removal fails here: change the list
# in the same commit, docs/abi.md says when that needs a new SONAME), every name hood.h declares
# HOOD_API must be in it, and every public function returning hood_status must clear the
# thread's last error first (hood.h, Conventions).
# Usage: test_symbols.sh LIBHOOD_SO SOURCE_DIR   (meson passes both)
set -u
lib=${1:?libhood.so}
src=${2:?source dir}
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-symbols.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$T/log" | head -40; }

nm -D --defined-only "$lib" | awk 'NF == 3 {print $3}' | LC_ALL=C sort >"$T/exported"
if LC_ALL=C sort -c "$src/include/hood.symbols" 2>"$T/log" &&
    diff -u "$src/include/hood.symbols" "$T/exported" >"$T/log"; then
    pass "libhood.so exports exactly include/hood.symbols ($(wc -l <"$T/exported") names)"
else
    fail "libhood.so exports exactly include/hood.symbols (- listed only, + exported only)"
fi

# Every HOOD_API declaration's name (the word before the first '(' after HOOD_API).
tr '\n' ' ' <"$src/include/hood.h" | grep -o 'HOOD_API [A-Za-z][^(;#]*(' |
    sed 's/.*[ *]\(hood_[a-z_0-9]*\)($/\1/' | LC_ALL=C sort >"$T/declared"
if diff -u "$src/include/hood.symbols" "$T/declared" >"$T/log"; then
    pass "hood.h declares exactly the listed names"
else
    fail "hood.h declares exactly the listed names (- listed only, + declared only)"
fi

# Public hood_status functions: the first statement after the opening brace clears the error.
: >"$T/log"
for f in "$src"/engine/*.c "$src"/io/*.c; do
    awk -v file="${f#"$src"/}" '
        /^hood_status hood_[a-z]/ { name = $2; sub(/\(.*/, "", name); want = 1; next }
        want && /^\{/ { brace = 1; next }
        want && brace { if ($0 !~ /^    hood__clear_error\(\);/) print file ": " name;
                        want = 0; brace = 0 }' "$f" >>"$T/log"
done
if [ ! -s "$T/log" ]; then
    pass "every public hood_status function clears the last error first"
else
    fail "every public hood_status function clears the last error first (these do not)"
fi
echo "1..$n"
