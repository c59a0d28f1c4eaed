#!/usr/bin/env bash
# test_consumer.sh — TAP: installs the built hood into a temporary DESTDIR, compiles
# examples/consumer.c with `pkg-config --cflags --libs hood` against that install only, runs it
# and checks what it prints; then links it with libhood.a alone through
# `pkg-config --static --libs hood`. Proves the installed header, libraries and hood.pc are
# usable, that --cflags is hood's include path alone, and that hood-bench is installed.
# Usage: test_consumer.sh BUILD_DIR SOURCE_DIR [B_SANITIZE [BENCH]]   (meson passes all four)
set -u
build=${1:?build dir}
src=${2:?source dir}
# A sanitizer build's libhood needs its runtime loaded first: build the consumer the same way.
sanitize=()
case "${3:-none}" in none | "") ;; *) sanitize=(-fsanitize="$3") ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-consumer.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$T/log" 2>/dev/null | head -40; }

if meson install -C "$build" --no-rebuild --destdir "$T/root" >"$T/log" 2>&1; then
    pass "meson install --destdir"
else
    fail "meson install --destdir"
fi

# The .pc file says prefix=/usr/local (or the configured prefix); point it into DESTDIR.
pc=$(find "$T/root" -name hood.pc | head -1)
prefix=$(sed -n 's/^prefix=//p' "$pc" 2>/dev/null)
if [ -n "$pc" ] && [ -f "$T/root$prefix/include/hood.h" ]; then
    pass "hood.pc and hood.h are installed"
else
    : >"$T/log"
    fail "hood.pc and hood.h are installed"
fi
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --define-variable=prefix="$T/root$prefix" --cflags --libs hood 2>"$T/log")
libdir=$(pkg-config --define-variable=prefix="$T/root$prefix" --variable=libdir hood 2>/dev/null)
if cc -std=c11 -Wall -Wextra -Werror "${sanitize[@]}" "$src/examples/consumer.c" $flags -o "$T/consumer" \
    >"$T/log" 2>&1; then
    pass "examples/consumer.c builds with pkg-config --cflags --libs hood"
else
    fail "examples/consumer.c builds with pkg-config --cflags --libs hood"
fi

# Run it against the installed library, not the build tree's.
if LD_LIBRARY_PATH="$libdir" "$T/consumer" >"$T/log" 2>&1 && grep -q '^consumer: ok$' "$T/log" &&
    grep -qE '^loss: [0-9.]+ - accuracy: (0\.9|1\.0)' "$T/log"; then
    pass "the consumer trains, evaluates (accuracy >= 0.9) and predicts"
else
    fail "the consumer trains, evaluates (accuracy >= 0.9) and predicts"
fi
if LD_LIBRARY_PATH="$libdir" ldd "$T/consumer" 2>/dev/null | grep 'libhood' | grep -qF "$T/root"; then
    pass "the consumer loads the installed libhood"
else
    LD_LIBRARY_PATH="$libdir" ldd "$T/consumer" >"$T/log" 2>&1
    fail "the consumer loads the installed libhood"
fi

# hood.h needs only standard headers: --cflags is one -I, libvips' paths stay out.
cflags=$(pkg-config --define-variable=prefix="$T/root$prefix" --cflags hood 2>"$T/log")
if [ "$(echo $cflags)" = "-I$T/root$prefix/include" ]; then
    pass "pkg-config --cflags hood is hood's include path only"
else
    echo "cflags: $cflags" >"$T/log"
    fail "pkg-config --cflags hood is hood's include path only"
fi

# Static: a copy of the install without libhood.so, so -lhood can only be libhood.a; every
# library libhood needs must then come from --static --libs.
cp -a "$T/root" "$T/static"
rm -f "$T/static$prefix"/lib*/*/libhood.so* "$T/static$prefix"/lib*/libhood.so*
sflags=$(pkg-config --define-variable=prefix="$T/static$prefix" --static --cflags --libs hood \
    2>"$T/log")
if cc -std=c11 -Wall -Wextra -Werror "${sanitize[@]}" "$src/examples/consumer.c" $sflags \
    -o "$T/consumer-static" >"$T/log" 2>&1; then
    pass "examples/consumer.c links libhood.a with pkg-config --static --libs hood"
else
    fail "examples/consumer.c links libhood.a with pkg-config --static --libs hood"
fi
if "$T/consumer-static" >"$T/log" 2>&1 && grep -q '^consumer: ok$' "$T/log" &&
    ! ldd "$T/consumer-static" 2>/dev/null | grep -q libhood; then
    pass "the statically linked consumer runs without libhood.so"
else
    ldd "$T/consumer-static" >>"$T/log" 2>&1
    fail "the statically linked consumer runs without libhood.so"
fi

if [ "${4:-true}" != true ] || [ -x "$T/root$prefix/bin/hood-bench" ]; then
    pass "hood-bench is installed (when built)"
else
    : >"$T/log"
    fail "hood-bench is installed (when built)"
fi
echo "1..$n"
