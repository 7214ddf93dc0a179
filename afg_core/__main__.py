"""``python -m afg_core``: the command line (:mod:`afg_core.cli`)."""

import sys

from afg_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
