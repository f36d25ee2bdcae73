"""MkDocs hook: lay out the package as it installs, so the API reference can read it.

`adapters/` and `spaces/` install as `da_bridge.adapters` and `da_bridge.spaces`
(`package_dir` in setup.py); griffe reads source trees, so this hook links them
into `build/api_src/da_bridge/` before the reference pages are rendered.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).parents[1]
TREE = ROOT / "build" / "api_src" / "da_bridge"


def on_startup(**kwargs) -> None:
    """Runs before the plugins read their configuration (they drop paths that don't exist)."""
    if TREE.parent.exists():
        shutil.rmtree(TREE.parent)
    TREE.mkdir(parents=True)
    for entry in (ROOT / "da_bridge").iterdir():
        (TREE / entry.name).symlink_to(entry)
    (TREE / "adapters").symlink_to(ROOT / "adapters")
    (TREE / "spaces").symlink_to(ROOT / "spaces")
