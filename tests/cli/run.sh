# tests/cli/run.sh — the command helpers the CLI suites share, beside tests/tap.sh; sourced after
# it, never run. Needs $T (the suite's temp folder). run CMD...: runs CMD with its stdout and
# stderr in $T/out and $T/err, exit status in rc; check DESC COMMAND...: pass when COMMAND
# succeeds; out_has / err_has PATTERN: grep the last run's output; on a failed case the TAP
# log shows the last run's exit status, stdout and stderr.
tap_fail_context() {
    echo "#   rc: ${rc:-?}"
    echo "#   stdout: $(head -c 600 "$T/out" 2>/dev/null | tr '\n' '|')"
    echo "#   stderr: $(head -c 600 "$T/err" 2>/dev/null | tr '\n' '|')"
}

run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

check() {
    local desc=$1
    shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}

out_has() { grep -q -- "$1" "$T/out"; }
err_has() { grep -q -- "$1" "$T/err"; }
