# tests/tap.sh — the TAP helpers the shell suites share; sourced, never run. Keeps the case
# count in n: pass DESC; fail DESC [DETAIL...] (one "#   " line per detail, then whatever the
# suite's optional tap_fail_context function prints); skip DESC WHY. A suite ends with
# `echo "1..$n"`.
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
    n=$((n + 1))
    echo "not ok $n - $1"
    shift
    local line
    for line in "$@"; do echo "#   $line"; done
    if declare -F tap_fail_context >/dev/null; then tap_fail_context; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
