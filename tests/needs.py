"""What some tests need from outside the package: the book's code
($RNNSCRATCH_COURSE_DIR), the PTB files ($RNNSCRATCH_DATA) and PyTorch (the
independent oracle). Where one is missing, the test skips with the variable
to set; with CI set (as .ci/run runs), it FAILS instead, so that a CI run
never passes without its oracles."""
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def missing(reason):
    """Skip (on a developer's machine) or fail (in CI) with ``reason``."""
    if os.environ.get("CI"):
        pytest.fail("%s (CI is set: a missing oracle is a failure, not a skip)" % reason,
                    pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def course_dir(*rel):
    """$RNNSCRATCH_COURSE_DIR, checked to hold the file ``rel`` (say
    "ch06", "better_rnnlm.py")."""
    d = os.environ.get("RNNSCRATCH_COURSE_DIR", "")
    want = os.path.join(*rel) if rel else "common"
    if not d or not os.path.exists(os.path.join(d, want)):
        missing("the book's code is needed: set RNNSCRATCH_COURSE_DIR to the directory "
                "holding %s (e.g. ../shared/course); it is %r" % (want, d))
    return d


def find_ptb_dir():
    """The folder holding ptb.train.txt: $RNNSCRATCH_DATA (or its ptb/), else
    ../shared/data/ptb beside the clone; None when there is none."""
    for d in (os.environ.get("RNNSCRATCH_DATA"),
              os.path.join(HERE, "..", "..", "shared", "data", "ptb")):
        if d:
            for cand in (d, os.path.join(d, "ptb")):
                if os.path.isfile(os.path.join(cand, "ptb.train.txt")):
                    return os.path.abspath(cand)
    return None


def ptb_dir():
    d = find_ptb_dir()
    if d is None:
        missing("the PTB files are needed: set RNNSCRATCH_DATA to the folder holding "
                "ptb.train.txt (e.g. ../shared/data/ptb)")
    return d


def torch():
    try:
        import torch as t
    except ImportError:
        missing("PyTorch is needed (the tests' independent oracle): "
                "pip install torch (.ci/run installs the CPU build)")
    return t
