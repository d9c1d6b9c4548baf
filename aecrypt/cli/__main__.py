"""`python -m aecrypt.cli`: the `aecrypt` command, as before the package had `python -m aecrypt`."""

import sys

from aecrypt.cli.main import main

sys.exit(main())
