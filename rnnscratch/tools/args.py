"""Argument checks shared by the command-line tools (demo, bench, check, run).

Every mistake a user can make on the command line is found before any work
starts and reported as argparse does: one line `prog: error: ...` on stderr,
exit status 2, no traceback. argparse `type=` callables raise
ArgumentTypeError; `check_output_file` and friends take the parser and call
parser.error() themselves.
"""
import argparse
import math
import os

__all__ = ["positive_int", "nonnegative_int", "finite_float", "positive_float",
           "check_output_file", "check_input_file", "check_input_dir"]


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("invalid int value: %r" % (text,)) from None


def positive_int(text):
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got %d" % v)
    return v


def nonnegative_int(text):
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError("must be 0 or more, got %d" % v)
    return v


def finite_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("invalid float value: %r" % (text,)) from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError("must be a finite number, got %r" % (text,))
    return v


def positive_float(text):
    v = finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0, got %r" % (text,))
    return v


def check_output_file(parser, option, path):
    """parser.error() unless `path` can be written (checked now, not after the run)."""
    if path is None:
        return
    if os.path.isdir(path):
        parser.error("argument %s: %s is a directory, expected a file name" % (option, path))
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.exists(parent) and not os.path.isdir(parent):
        parser.error("argument %s: cannot write %s: %s is not a directory"
                     % (option, path, parent))
    if not os.path.isdir(parent):
        parser.error("argument %s: cannot write %s: the directory %s does not exist"
                     % (option, path, parent))
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            parser.error("argument %s: cannot write %s: permission denied" % (option, path))
    elif not os.access(parent, os.W_OK | os.X_OK):
        parser.error("argument %s: cannot write %s: the directory %s is not writable"
                     % (option, path, parent))


def check_input_file(parser, option, path):
    """parser.error() unless `path` is a readable file."""
    if path is None:
        return
    if not os.path.exists(path):
        parser.error("argument %s: %s does not exist" % (option, path))
    if os.path.isdir(path):
        parser.error("argument %s: %s is a directory, expected a file" % (option, path))
    if not os.access(path, os.R_OK):
        parser.error("argument %s: cannot read %s: permission denied" % (option, path))


def check_input_dir(parser, option, path):
    """parser.error() unless `path` is a directory."""
    if path is None:
        return
    if not os.path.exists(path):
        parser.error("argument %s: %s does not exist" % (option, path))
    if not os.path.isdir(path):
        parser.error("argument %s: %s is not a directory" % (option, path))
