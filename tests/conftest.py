"""Make `tests/strategies.py` importable under pytest's importlib import mode, and run
Hypothesis deterministically in CI (random exploration stays on for local runs)."""

import os
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# CI must not pass or fail by the luck of the draw; known open bugs found by local runs are
# pinned as strict xfail tests instead (see tests/adapters/test_hyperopt.py).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
