"""Make the ported DeepArchitect files importable by their plain names (`import da_standins`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
