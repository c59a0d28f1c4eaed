"""tap_pytest.py — runs the pytest suite and prints one TAP line per test case (`ok N - name`,
`not ok N - name` with the failure as `#` lines, `# SKIP reason`), so meson's TAP protocol and
scripts/test-summary count the cases. Usage: python3 tap_pytest.py TESTS_DIR [pytest args]."""
import os
import sys


class TapPlugin:
    def __init__(self, out):
        self.n = 0
        self.out = out

    def _line(self, ok, name, directive="", detail=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, directive), file=self.out)
        for text in detail.splitlines()[-60:]:
            print("#   " + text, file=self.out)
        self.out.flush()

    def pytest_runtest_logreport(self, report):
        name = report.nodeid
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
                self._line(True, name, " # SKIP " + str(reason).replace("Skipped: ", ""))
            elif report.passed:
                self._line(True, name)
            else:
                self._line(False, name, detail=report.longreprtext)
        elif report.when == "teardown" and report.failed:
            self._line(False, name + " (teardown)", detail=report.longreprtext)

    def pytest_collectreport(self, report):
        if report.failed:
            self._line(False, "collect " + report.nodeid, detail=report.longreprtext)

    def pytest_sessionfinish(self, session, exitstatus):
        print("1..%d" % self.n, file=self.out)
        self.out.flush()


def main(argv):
    try:
        import pytest
    except ImportError:
        print("not ok 1 - pytest: python3-pytest is not installed (scripts/setup installs it)")
        print("1..1")
        return 1
    # TAP alone on stdout: the plugin writes to a copy of it, pytest's own report (and
    # anything a test prints outside capture) goes to stderr.
    tap = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    args = [argv[1], "-q", "-p", "no:cacheprovider", "--rootdir", argv[1]] + argv[2:]
    return int(pytest.main(args, plugins=[TapPlugin(tap)]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
