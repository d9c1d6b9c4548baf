"""`python -m aecrypt`: the `aecrypt` command."""

import sys

from aecrypt.cli.main import main

sys.exit(main())
