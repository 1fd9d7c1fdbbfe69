"""The command line: python -m rnnscratch {run,demo,train,bench,check,info}."""
import argparse
import os
import sys


def cmd_info(args):
    import rnnscratch

    rnnscratch.show_config()
    return 0


def cmd_check(args):
    """Every compiled class against its NumPy reference twin, on random data."""
    from .check import check_compiled, format_rows

    rows = check_compiled(N=args.batch, T=args.time, D=args.input, H=args.hidden,
                          seed=args.seed)
    print(format_rows(rows, title="rnnscratch's compiled classes compared with "
                                  "rnnscratch.reference (NumPy)"))
    bad = [r.name for r in rows if r.result != "matches"]
    if bad:
        print("MISMATCH: %s" % ", ".join(bad))
        return 1
    print("OK: every compiled class agrees with its NumPy reference (%d comparisons)" % len(rows))
    return 0


def cmd_course(args):
    """check --course DIR: each class of DIR/common/ against ours."""
    from .check import check_course, format_rows

    rows = check_course(args.course)
    print(format_rows(rows, args.course))
    return 1 if any(r.result == "differs" for r in rows) else 0


def _run_parser():
    p = argparse.ArgumentParser(
        prog="python -m rnnscratch run",
        description="Run a script of the book as `python SCRIPT ARGS` would, with "
                    "rnnscratch.patch() on: the book's classes in common.* are the "
                    "compiled ones.")
    p.add_argument("--exclude", metavar="NAME", action="append", default=[],
                   help="keep the book's (or your own) class NAME (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print what was replaced (to stderr) when the script ends, and "
                        "what was added to sys.path")
    p.add_argument("script", metavar="SCRIPT", help="the Python file to run")
    p.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER,
                   help="the script's own arguments")
    return p


def cmd_run(argv):
    from .args import check_input_file
    from ..patching import _normalize_exclude, report, run_path

    p = _run_parser()
    args = p.parse_args(argv)
    check_input_file(p, "SCRIPT", args.script)
    try:
        _normalize_exclude(args.exclude)
    except ValueError as e:
        p.error("argument --exclude: " + str(e).partition(": ")[2])
    try:
        status = run_path(args.script, args.args, exclude=args.exclude,
                          verbose=args.verbose)
    finally:
        if args.verbose:
            print(report(), file=sys.stderr)
    return status


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # subcommands with options of their own
    if argv and argv[0] == "run":
        return cmd_run(argv[1:])
    if argv and argv[0] == "bench":
        from .bench import main as bench_main
        return bench_main(argv[1:])
    if argv and argv[0] == "train":
        from .train import main as train_main
        return train_main(argv[1:])
    if argv and argv[0] == "demo":
        from .demo import main as demo_main
        return demo_main(argv[1:])
    from .args import check_input_dir, positive_int

    parser = argparse.ArgumentParser(prog="python -m rnnscratch",
                                     description="rnnscratch: compiled RNN layers for the scratch courses")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run a book script with the compiled classes: run SCRIPT [ARGS]")
    sub.add_parser("demo", help="train the chapter-5 language model (the main job); demo --help")
    sub.add_parser("train", help="train a chapter-6 language model on PTB (the book's recipe), "
                                 "resumable; train --help")
    sub.add_parser("bench", help="time TimeRNN against the NumPy reference and torch; bench --help")
    p = sub.add_parser("info", help="show the kernel path, threads, compiler and flags")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("check", help="compare every compiled class with its NumPy reference "
                                     "on random data; --course DIR: the classes of "
                                     "DIR/common/ with ours")
    p.add_argument("--batch", type=positive_int, default=4, help="N of the layers' data")
    p.add_argument("--time", type=positive_int, default=6, help="T of the layers' data")
    p.add_argument("--input", type=positive_int, default=5, help="D of the layers' data")
    p.add_argument("--hidden", type=positive_int, default=7, help="H of the layers' data")
    p.add_argument("--seed", type=int, default=0, help="seed of the random data (default 0)")
    p.add_argument("--course", metavar="DIR", default=None,
                   help="a course folder (the book's, or your own) holding common/: "
                        "compare each of its classes with ours, as a table")
    p.set_defaults(func=cmd_check)
    args = parser.parse_args(argv)
    if args.command == "check" and args.course is not None:
        check_input_dir(p, "--course", args.course)
        if not os.path.isdir(os.path.join(args.course, "common")):
            p.error("argument --course: %s has no common/ folder (the book's library)"
                    % args.course)
        return cmd_course(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
