"""``python -m tapegrad.viz``: see tapegrad.viz.cli."""

import sys

from .cli import main

sys.exit(main())
