"""`python -m da_bridge` runs the command line."""

import sys

from da_bridge.cli import main

sys.exit(main())
