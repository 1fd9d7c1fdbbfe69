"""The tools around the library, each behind `python -m rnnscratch COMMAND`:

    cli     the command line's dispatch (run, demo, train, bench, check, info)
    args    argparse types and file/folder checks the commands share
    bench   timings against the NumPy reference, the book's classes and PyTorch
    demo    the chapter-5 language model, trained end to end (the main job)
    train   the chapter-6 models on PTB, resumable
    check   a course folder's classes (the book's common/, or a student's) against ours

The library (rnnscratch.layers, models, training, ...) never imports from here.
"""
