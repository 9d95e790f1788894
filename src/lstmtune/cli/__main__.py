"""``python -m lstmtune.cli``: the same as the ``lstmtune`` command."""

import sys

from lstmtune.cli.app import main

sys.exit(main())
