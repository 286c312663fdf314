"""``python -m maps.cli``: the same as the ``camplan`` command.

The arguments are passed on, so the process ends normally (a profiler wrapping it,
``python -m cProfile -m maps.cli``, still writes its results).
"""

import sys

from maps.cli.main import main

sys.exit(main(sys.argv[1:]))
