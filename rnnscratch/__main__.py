"""python -m rnnscratch: the command line (rnnscratch.tools.cli)."""
import sys

from .tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
