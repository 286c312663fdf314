"""``python -m maps.cli``: the same as the ``camplan`` command."""

import sys

from maps.cli.main import main

sys.exit(main())
