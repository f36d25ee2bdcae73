"""`python -m da_bridge` runs the command line."""

import sys

from da_bridge.cli import main

if __name__ == "__main__":
    sys.exit(main())
