"""The `python` code blocks of the documentation run as written, page by page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SLOW_PAGES = {"keras.md", "augment.md", "distributed.md", "reports.md"}


def _pages():
    for page in sorted(DOCS.rglob("*.md")):
        if BLOCK.search(page.read_text()):
            marks = (pytest.mark.slow,) if page.name in SLOW_PAGES else ()
            yield pytest.param(page, id=str(page.relative_to(DOCS)), marks=marks)


@pytest.mark.parametrize("page", list(_pages()))
def test_page_code_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DA_BRIDGE_FAST", "1")
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for i, code in enumerate(BLOCK.findall(page.read_text())):
        exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)  # noqa: S102
