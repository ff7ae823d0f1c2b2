"""``python -m l2h``: the same as the ``l2h`` command."""

import sys

from l2h.cli import main

if __name__ == "__main__":
    sys.exit(main())
