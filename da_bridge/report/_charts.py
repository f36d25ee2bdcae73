"""Small inline SVG charts for the report: hover shows full names and exact values.

Plain SVG text, no plotting library: every mark carries a `<title>` (the browser's
tooltip), labels are short path names sized to fit, and the charts scale with the page.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_FONT = 'font-family="system-ui,sans-serif"'
_BLUE, _GREEN, _GREY, _RED = "#0b5cad", "#1a7f37", "#9aa4ae", "#cf222e"
_CHAR = 6.4  # px per character at 11px


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def short_names(paths: Sequence[str]) -> list[str]:
    """The last path segments that tell the paths apart: `a/b/pca.n` -> `pca.n`; a
    segment that is only a number (a repeat's index) keeps its parent: `chain/3/conv.f`.

    Example:
        >>> short_names(["x/pca.n", "y/pca.n", "model.choice"])
        ['x/pca.n', 'y/pca.n', 'model.choice']
        >>> short_names(["features/union/pca/pca.n_components", "model/svc/svc.C"])
        ['pca.n_components', 'svc.C']
        >>> short_names(["chain2/5/conv.filters", "conv.filters"])
        ['chain2/5/conv.filters', 'conv.filters']
    """
    parts = [p.split("/") for p in paths]
    depth = [1] * len(paths)
    while True:
        depth = [d + 1 if d < len(p) and p[-d].isdigit() else d for p, d in zip(parts, depth)]
        names = ["/".join(p[-d:]) for p, d in zip(parts, depth)]
        counts = Counter(names)
        grow = [i for i, n in enumerate(names) if counts[n] > 1 and depth[i] < len(parts[i])]
        if not grow:
            return names
        for i in grow:
            depth[i] += 1


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


@dataclass
class Point:
    x: float
    y: float
    tip: str
    color: str = _BLUE
    radius: float = 3.2


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _ticks(low: float, high: float, n: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / n))
    for m in (1, 2, 2.5, 5, 10):
        if (high - low) / (step * m) <= n:
            step *= m
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _svg(width: int, height: int, body: str, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{esc(label)}" {_FONT} font-size="11">{body}</svg>')


def scatter(points: Sequence[Point], x_label: str, y_label: str, *, line: Sequence[tuple[float,
            float]] = (), width: int = 560, height: int = 300, label: str = "") -> str:
    """Points with axes (and an optional step line, e.g. the best so far)."""
    left, right, top, bottom = 58, 14, 10, 40
    xs = [p.x for p in points] or [0.0]
    ys = [p.y for p in points] + [y for _, y in line] or [0.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - abs(y0) * 0.05 - 0.5, y1 + abs(y1) * 0.05 + 0.5
    pad = (y1 - y0) * 0.06
    y0, y1 = y0 - pad, y1 + pad
    w, h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * h

    body = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fbfcfd" '
            f'stroke="#d1d9e0"/>']
    for t in _ticks(y0, y1):
        body.append(f'<line x1="{left}" x2="{left + w}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" '
                    f'stroke="#eef1f4"/><text x="{left - 5}" y="{sy(t) + 4:.1f}" '
                    f'text-anchor="end" fill="#59636e">{_fmt(t)}</text>')
    for t in _ticks(x0, x1):
        body.append(f'<text x="{sx(t):.1f}" y="{top + h + 15}" text-anchor="middle" '
                    f'fill="#59636e">{_fmt(t)}</text>')
    if line:
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
                        for i, (x, y) in enumerate(line))
        body.append(f'<path d="{path}" fill="none" stroke="{_RED}" stroke-width="1.6"/>')
    for p in points:
        body.append(f'<circle cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="{p.radius}" '
                    f'fill="{p.color}" fill-opacity=".75"><title>{esc(p.tip)}</title></circle>')
    body.append(f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle">'
                f'{esc(x_label)}</text>')
    body.append(f'<text transform="translate(13,{top + h / 2}) rotate(-90)" '
                f'text-anchor="middle">{esc(y_label)}</text>')
    return _svg(width, height, "".join(body), label or f"{y_label} by {x_label}")


def bars(names: Sequence[str], values: Sequence[float], tips: Sequence[str], *,
         width: int = 560, label: str = "", max_label: int = 34) -> str:
    """Horizontal bars, largest first as given; labels are clipped to `max_label` characters,
    the full text is in each bar's tooltip."""
    shown = [clip(n, max_label) for n in names]
    left = int(min(max((len(s) for s in shown), default=4), max_label) * _CHAR) + 12
    row, top = 20, 6
    height = top + row * len(names) + 8
    top_value = max(values, default=0) or 1
    w = width - left - 60
    body = []
    for i, (name, value, tip) in enumerate(zip(shown, values, tips)):
        y = top + i * row
        length = max(1.0, value / top_value * w)
        body.append(f'<g><title>{esc(tip)}</title>'
                    f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{esc(name)}</text>'
                    f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
                    f'fill="{_BLUE}" fill-opacity=".8"/>'
                    f'<text x="{left + length + 4:.1f}" y="{y + 13}" fill="#59636e">'
                    f'{value:.2f}</text></g>')
    return _svg(width, height, "".join(body), label)


def strips(groups: Sequence[tuple[str, Sequence[tuple[float, str]]]], y_label: str, *,
           maximize: bool, width: int = 270, height: int = 200, label: str = "") -> str:
    """One column of points per choice (the score of each trial that made it), its mean as a
    bar; `groups` is `[(choice, [(score, tip), ...]), ...]`."""
    left, right, top, bottom = 46, 8, 8, 34
    scores = [s for _, pts in groups for s, _ in pts] or [0.0]
    y0, y1 = min(scores), max(scores)
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.08
    y0, y1 = y0 - pad, y1 + pad
    w, h = width - left - right, height - top - bottom
    column = w / max(len(groups), 1)

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * h

    body = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fbfcfd" '
            f'stroke="#d1d9e0"/>']
    for t in _ticks(y0, y1, 4):
        body.append(f'<text x="{left - 4}" y="{sy(t) + 4:.1f}" text-anchor="end" '
                    f'fill="#59636e">{_fmt(t)}</text>')
    best = (max if maximize else min)(scores)
    limit = max(3, int(column / _CHAR))
    for i, (choice, pts) in enumerate(groups):
        cx = left + column * (i + 0.5)
        for j, (score, tip) in enumerate(pts):
            jitter = ((j * 37) % 11 - 5) / 5 * min(column * 0.25, 10)
            color = _GREEN if score == best else _BLUE
            body.append(f'<circle cx="{cx + jitter:.1f}" cy="{sy(score):.1f}" r="2.8" '
                        f'fill="{color}" fill-opacity=".6"><title>{esc(tip)}</title></circle>')
        if pts:
            mean = sum(s for s, _ in pts) / len(pts)
            body.append(f'<line x1="{cx - column * 0.32:.1f}" x2="{cx + column * 0.32:.1f}" '
                        f'y1="{sy(mean):.1f}" y2="{sy(mean):.1f}" stroke="{_RED}" '
                        f'stroke-width="2"><title>{esc(choice)}: mean {mean:.4g} over '
                        f'{len(pts)} trials</title></line>')
        body.append(f'<text x="{cx:.1f}" y="{top + h + 14}" text-anchor="middle">'
                    f'<title>{esc(choice)} ({len(pts)} trials)</title>'
                    f'{esc(clip(str(choice), limit))}</text>')
    body.append(f'<text transform="translate(11,{top + h / 2}) rotate(-90)" '
                f'text-anchor="middle">{esc(y_label)}</text>')
    return _svg(width, height, "".join(body), label)
