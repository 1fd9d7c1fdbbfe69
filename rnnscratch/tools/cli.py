"""The command line: python -m rnnscratch {run,demo,train,bench,check,info}."""
import argparse
import os
import sys
import time

import numpy as np


def cmd_info(args):
    import rnnscratch

    rnnscratch.show_config()
    return 0


def cmd_check(args):
    """Compare the compiled TimeRNN with the NumPy reference on random data."""
    import rnnscratch
    from rnnscratch import reference
    from rnnscratch._policy import ACTIVATIONS

    rng = np.random.default_rng(0)
    N, T, D, H = args.batch, args.time, args.input, args.hidden
    worst = 0.0
    for dtype in (np.float32, np.float64):
        for act in ACTIVATIONS:
            Wx = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
            Wh = (rng.standard_normal((H, H)) * 0.5 / np.sqrt(H)).astype(dtype)
            b = (rng.standard_normal(H) * 0.1).astype(dtype)
            xs = rng.standard_normal((N, T, D)).astype(dtype)
            dhs = rng.standard_normal((N, T, H)).astype(dtype)
            outs = []
            for mod in (rnnscratch, reference):
                layer = mod.TimeRNN(Wx, Wh, b, activation=act)
                t0 = time.perf_counter()
                hs = layer.forward(xs)
                dxs = layer.backward(dhs)
                outs.append(([hs, dxs, layer.dh, *layer.grads], time.perf_counter() - t0))
            (a, ta), (r, tr) = outs
            err = max(float(np.max(np.abs(x - y) / (1 + np.abs(y)), initial=0)) for x, y in zip(a, r))
            worst = max(worst, err / (1e-4 if dtype == np.float32 else 1e-10))
            print(f"{np.dtype(dtype).name:8s} {act:8s} max rel. difference {err:.2e}   "
                  f"compiled {ta * 1e3:7.2f} ms   reference {tr * 1e3:7.2f} ms")
    ok = worst <= 1
    print("OK: compiled and reference agree" if ok else "MISMATCH between compiled and reference")
    return 0 if ok else 1


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
                   help="print what was replaced (to stderr) when the script ends")
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
        status = run_path(args.script, args.args, exclude=args.exclude)
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
    p = sub.add_parser("check", help="compare compiled and reference TimeRNN on random data; "
                                     "--course DIR: the classes of DIR/common/ with ours")
    p.add_argument("--batch", type=positive_int, default=20)
    p.add_argument("--time", type=positive_int, default=35)
    p.add_argument("--input", type=positive_int, default=100)
    p.add_argument("--hidden", type=positive_int, default=100)
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
