"""Test an installed rnnscratch (a wheel), not the source tree.

    python .ci/wheel_tests.py PROJECT_DIR [pytest arguments...]

Run by cibuildwheel's test-command on every wheel and by .ci/wheel.sh. It
copies the parts of PROJECT_DIR the tests read (tests/, notebooks/, the READMEs, BENCHMARKS.md,
pyproject.toml; not rnnscratch/) into a temporary folder, so that neither
pytest nor the subprocesses the tests start (PYTHONPATH = that folder) can
import the sources; checks that `rnnscratch` and its compiled core come from
site-packages; runs the README's main job (`python -m rnnscratch demo`), then
pytest on the copy. The optional oracles (the book's code, the PTB files,
PyTorch) are skipped with their reason where missing: CI is unset for the
run, since tests/needs.py turns a missing oracle into a failure under CI
(.ci/run provides them all).
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main(argv):
    if len(argv) < 2 or not os.path.isdir(os.path.join(argv[1], "tests")):
        print("usage: python .ci/wheel_tests.py PROJECT_DIR [pytest args...] "
              "(PROJECT_DIR must hold tests/)")
        return 2
    project, extra = os.path.abspath(argv[1]), argv[2:]
    env = dict(os.environ)
    env.pop("CI", None)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="rnnscratch-wheel-tests-") as tmp:
        for name in ("tests", "notebooks"):
            src = os.path.join(project, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(tmp, name),
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("README.md", "README.ja.md", "BENCHMARKS.md", "CONTRIBUTING.md",
                     "pyproject.toml"):
            if os.path.isfile(os.path.join(project, name)):
                shutil.copy2(os.path.join(project, name), tmp)
        where = subprocess.run(
            [sys.executable, "-c",
             "import rnnscratch, rnnscratch._core as c; print(rnnscratch.__file__); print(c.__file__)"],
            cwd=tmp, env=env, capture_output=True, text=True)
        if where.returncode != 0:
            print("wheel_tests: rnnscratch does not import:\n" + where.stderr)
            return 1
        pkg, core = where.stdout.split()
        print("rnnscratch from", pkg)
        print("compiled core  ", core)
        if os.path.commonpath([os.path.abspath(pkg), project]) == project:
            print("wheel_tests: rnnscratch was imported from the source tree, not the wheel")
            return 1
        demo = subprocess.run([sys.executable, "-m", "rnnscratch", "demo"], cwd=tmp, env=env)
        if demo.returncode != 0:
            print("wheel_tests: python -m rnnscratch demo failed")
            return 1
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"] + extra
        print("+", " ".join(cmd), "(in a copy of tests/)", flush=True)
        return subprocess.run(cmd, cwd=tmp, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
