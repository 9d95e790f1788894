"""``python -m lstmtune.cli``: the same as the ``lstmtune`` command."""

import sys

from lstmtune.cli.app import main

if __name__ == "__main__":  # not when a spawned helper process imports this module as its main
    sys.exit(main())
