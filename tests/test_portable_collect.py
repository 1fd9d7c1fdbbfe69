"""The suite collects where POSIX-only modules are missing (Windows): every test module
imports `resource` and the like inside the tests that need them, which skip with a reason.

Proved here by running pytest in a subprocess whose sys.modules poisons those modules (an
import of a name mapped to None raises ImportError), as on Windows."""
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
POSIX_ONLY = ["resource", "fcntl", "termios", "pty", "tty", "pwd", "grp", "syslog", "posix_ipc"]


def _run_without_posix_modules(code, timeout=600):
    """Run `code` in a subprocess with this sys.path, the POSIX-only modules poisoned."""
    script = "import sys\nsys.path[:0] = %r\nfor name in %r:\n    sys.modules[name] = None\n" % (
        list(sys.path), POSIX_ONLY) + textwrap.dedent(code)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run([sys.executable, "-c", script], cwd=os.path.dirname(HERE), env=env,
                          capture_output=True, text=True, timeout=timeout)


def _pytest_without_posix_modules(*args):
    return _run_without_posix_modules("import pytest\nsys.exit(pytest.main(%r))" % (list(args),))


def test_poison_makes_resource_unimportable():
    """The subprocess really has no `resource` (else the tests below prove nothing)."""
    r = _run_without_posix_modules("""
        try:
            import resource
        except ImportError:
            print("no resource")
        else:
            print("resource imported:", resource)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "no resource", r.stdout + r.stderr


def test_suite_collects_without_posix_modules():
    r = _pytest_without_posix_modules("--collect-only", "-q", "-p", "no:cacheprovider", HERE)
    out = r.stdout + r.stderr
    assert r.returncode == 0, "collection failed without POSIX-only modules:\n" + out[-4000:]
    assert "error" not in out.lower().split("\n")[-2], out[-2000:]
    n = sum(1 for line in r.stdout.splitlines() if "::" in line)
    assert n > 1000, "only %d tests collected:\n%s" % (n, out[-2000:])


def test_memory_tests_run_without_resource():
    """Without `resource` the memory tests still check traced memory and reference counts,
    and the RSS check skips with its reason."""
    r = _pytest_without_posix_modules("-q", "-rs", "-p", "no:cacheprovider",
                                      os.path.join(HERE, "test_memory.py"),
                                      "-k", "rss_is_measured or error_paths_no_growth_and_refcounts")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert "1 passed, 1 skipped" in out, out[-2000:]
    assert "no `resource` module on this platform" in out, out[-2000:]
