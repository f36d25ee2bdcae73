"""The report's HTML: one stylesheet, no scripts, nothing loaded from the network."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from da_bridge._version import __version__
from da_bridge.report._plots import Plot
from da_bridge.report._study import TrialRow

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0b5cad}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:var(--fg);background:#fff;line-height:1.45}
header{background:#0b3d6b;color:#fff;padding:1.1rem 2rem}
header h1{margin:0;font-size:1.45rem}header p{margin:.2rem 0 0;opacity:.85}
header a{color:#cfe3ff}
main{padding:.5rem 2rem 3rem;max-width:1280px}
section{margin-top:1.6rem}
h2{font-size:1.15rem;border-bottom:1px solid var(--line);padding-bottom:.3rem;margin:0 0 .8rem}
h3{font-size:1.05rem;margin:0 0 .6rem}
a{color:var(--accent)}
dl.summary{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1.4rem;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:.45rem .8rem;margin:.4rem 0}
.sure{background:#eef7ee;border-left-color:#1a7f37}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:var(--soft);padding:.6rem;margin:0;border-radius:4px;white-space:pre-wrap;
overflow-wrap:anywhere}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,520px),1fr));gap:1rem}
.choices{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,280px),1fr));
gap:.8rem}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:.6rem;background:#fff;
min-width:0}
figure img,svg.chart{width:100%;height:auto;display:block}
figcaption{font-weight:600;margin-bottom:.3rem;overflow-wrap:anywhere}
figcaption small,.caveat{font-weight:400;color:var(--muted);font-size:.8rem}
.caveat{margin:.4rem 0 0}
article.best{border:1px solid var(--line);border-radius:6px;padding:.8rem;margin-bottom:1.2rem}
.score{font-weight:400;color:var(--fg)}.score small{color:var(--muted)}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,380px),1fr));
gap:.8rem;margin-bottom:.8rem}
.panel img{max-width:100%;height:auto;display:block}
.panel.wide{grid-column:1/-1}
.panel p{margin:0;font-size:1.1rem}
.body{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1rem}
@media (max-width:900px){.body{grid-template-columns:minmax(0,1fr)}}
.drawing{max-height:70rem;overflow:auto;background:#fff;border:1px solid var(--soft);
min-width:0}
.drawing svg{display:block;margin:auto;height:auto}
.drawing.fits svg{max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.83rem}
th,td{border-bottom:1px solid var(--line);padding:.22rem .5rem;text-align:left;vertical-align:top}
table.trials th{background:var(--soft);position:sticky;top:0}
table.values{table-layout:fixed}
#values table.values,#params table.values{max-width:56rem}
table.values th{font-weight:400;color:var(--muted);width:58%;overflow-wrap:anywhere;
font-family:ui-monospace,monospace;font-size:.76rem}
table.values td{overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:.8rem}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.key{overflow-wrap:anywhere}
tr.best td{background:#eef7ee}
.COMPLETE{color:#1a7f37}.FAIL{color:#cf222e}.PRUNED{color:#9a6700}.RUNNING{color:#0b5cad}
.scroll{overflow-x:auto}
footer{color:var(--muted);font-size:.8rem;margin-top:2.5rem}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """A whole HTML document."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{subtitle}</p></header><main>"
            + "".join(sections)
            + f"<footer>Made by da_bridge {esc(__version__)}; drawings by Graphviz. "
              "Hover over a point, bar or name for its full name and value. "
              "Works offline.</footer></main></body></html>\n")


def section(title: str, body: str, ident: str) -> str:
    return f'<section id="{esc(ident)}"><h2>{esc(title)}</h2>{body}</section>'


def summary_list(items: Sequence[tuple[str, str]]) -> str:
    """A definition list; values are HTML already."""
    return '<dl class="summary">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>"
                                            for k, v in items) + "</dl>"


def notes(messages: Sequence[str], kind: str = "") -> str:
    return "".join(f'<p class="note {kind}">{esc(m)}</p>' for m in messages)


def caveat(text: str) -> str:
    return f'<p class="caveat">{esc(text)}</p>'


def plots_grid(plots: Sequence[Plot]) -> str:
    figures = []
    for plot in plots:
        if plot.svg:
            body = plot.svg
        elif plot.src:
            body = f'<img src="{plot.src}" alt="{esc(plot.title)}">'
        else:
            body = f'<p class="note">{esc(plot.note)}</p>'
        caveat = f'<p class="caveat">{esc(plot.caveat)}</p>' if plot.caveat else ""
        figures.append(f'<figure class="plot" id="plot-{esc(plot.ident)}"><figcaption>'
                       f"{esc(plot.title)}</figcaption>{body}{caveat}</figure>")
    return '<div class="plots">' + "".join(figures) + "</div>"


def choice_grid(plots: Sequence[Plot]) -> str:
    figures = [f'<figure class="choice"><figcaption title="{esc(p.full_title)}">'
               f"{esc(p.title)}</figcaption>{p.svg}</figure>" for p in plots]
    return '<div class="choices">' + "".join(figures) + "</div>"


def score_html(row: TrialRow, names: Sequence[str]) -> str:
    """`0.9554 ± 0.012 (standard error over 3 CV folds)`, or the named scores of several."""
    if not row.scores:
        return "no score"
    if len(row.scores) == 1:
        text = f"{row.scores[0]:.6g}"
        if row.spread is not None:
            spread = row.spread.text()
            plus, _, why = spread.partition(" (")
            text += f" {esc(plus)} <small>({esc(why)}</small>"
        return text
    return esc(", ".join(f"{name} {score:.6g}" for name, score in zip(names, row.scores)))


def values_table(values: Mapping[str, Any] | None) -> str:
    """The values map as a two-column table; long paths and values wrap, nothing is cut."""
    if not values:
        return '<p class="note">no values map</p>'
    rows = "".join(f"<tr><th>{esc(path)}</th>{_value_cell(value)}</tr>"
                   for path, value in values.items())
    return f'<table class="values">{rows}</table>'


def _value_cell(value: Any) -> str:
    """A value, floats to 6 significant digits with the exact one on hover."""
    exact = json.dumps(value)
    if isinstance(value, float) and f"{value:.6g}" != exact:
        return f'<td title="{esc(exact)}">{esc(f"{value:.6g}")}</td>'
    return f"<td>{esc(exact)}</td>"


def panels_html(panels: Sequence[Any], prefix: str) -> str:
    """A domain's panels: code, text, a PNG picture or an SVG drawing each."""
    if not panels:
        return ""
    figures = []
    for i, panel in enumerate(panels):
        if panel.png is not None:
            data = base64.b64encode(panel.png).decode("ascii")
            body = f'<img src="data:image/png;base64,{data}" alt="{esc(panel.title)}">'
        elif panel.svg is not None:
            body = f'<div class="drawing fits">{inline_svg(panel.svg, f"{prefix}{i}-")}</div>'
        elif panel.code:
            body = f"<pre>{esc(panel.text)}</pre>"
        else:
            body = f"<p>{esc(panel.text)}</p>"
        wide = panel.svg is not None and svg_width(panel.svg) > 360 or panel.code and max(
            map(len, (panel.text or "").splitlines()), default=0) > 64
        figures.append(f'<figure class="panel{" wide" if wide else ""}"><figcaption>'
                       f"{esc(panel.title)}</figcaption>{body}</figure>")
    return '<div class="panels">' + "".join(figures) + "</div>"


def drawing_html(svg: str | None, missing: str, prefix: str) -> str:
    """A drawing at its natural size: it shrinks to the column if a little too wide, and
    scrolls inside its box if much wider (so its text stays readable)."""
    if not svg:
        return f'<p class="note">{esc(missing)}</p>'
    fits = "fits" if svg_width(svg) <= 900 else "wide"
    return f'<div class="drawing {fits}">{inline_svg(svg, prefix)}</div>'


def best_card(rank: int, row: TrialRow, names: Sequence[str], svg: str | None, missing: str,
              link: str, panels: Sequence[Any]) -> str:
    """One of the best architectures: the domain's panels, the drawing and the values map."""
    return (f'<article class="best" id="best-{rank}">'
            f'<h3>#{rank}: <a href="{esc(link)}">trial {row.number}</a> &middot; '
            f'<span class="score">{score_html(row, names)}</span></h3>'
            + panels_html(panels, f"b{rank}-")
            + f'<div class="body"><div>{drawing_html(svg, missing, f"t{row.number}-")}</div>'
              f"<div>{values_table(row.values or row.params)}</div></div></article>")


def trials_table(rows: Sequence[TrialRow], names: Sequence[str], links: dict[int, str],
                 best: set[int], columns: Sequence[str]) -> str:
    """Every trial with its scores, the spread, the domain's key columns and a link."""
    spread = any(r.spread is not None for r in rows)
    head = ("<tr><th>trial</th><th>state</th>" + "".join(f"<th>{esc(n)}</th>" for n in names)
            + ("<th>&plusmn; SE</th>" if spread else "")
            + "".join(f"<th>{esc(c)}</th>" for c in columns)
            + "<th>seconds</th><th>details</th></tr>")
    body = []
    for row in rows:
        scores = [f"{s:.6g}" for s in row.scores] if row.scores else [""] * len(names)
        cells = "".join(f'<td class="num">{s}</td>' for s in scores)
        if spread:
            cells += f'<td class="num">{"" if row.spread is None else f"{row.spread.se:.2g}"}</td>'
        cells += "".join(f'<td class="key">{esc(row.columns.get(c, ""))}</td>' for c in columns)
        seconds = "" if row.seconds is None else f"{row.seconds:.2f}"
        body.append(f'<tr id="trial-{row.number}"{" class=best" if row.number in best else ""}>'
                    f'<td class="num">{row.number}</td><td class="{esc(row.state)}">'
                    f"{esc(row.state.lower())}</td>{cells}"
                    f'<td class="num">{seconds}</td>'
                    f'<td><a href="{esc(links[row.number])}">trial page</a></td></tr>')
    return (f'<div class="scroll"><table class="trials"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def trial_page(study_name: str, row: TrialRow, names: Sequence[str], svg: str | None,
               missing: str, svg_file: str | None, error: str | None) -> str:
    """A trial's own page: its scores, the drawing, the values map (and the Optuna parameters
    when they differ from it)."""
    items = [("state", f'<span class="{esc(row.state)}">{esc(row.state.lower())}</span>')]
    if row.scores and len(row.scores) == 1:
        items.append((names[0], score_html(row, names)))
    elif row.scores:
        items += [(name, f"{score:.6g}") for name, score in zip(names, row.scores)]
    if row.spread is not None and row.spread.samples and len(row.spread.samples) <= 30:
        items.append((row.spread.what, esc(", ".join(f"{v:.4g}" for v in row.spread.samples))))
    if error:
        items.append(("error", esc(error)))
    items += [("started", esc(row.started)),
              ("seconds", "" if row.seconds is None else f"{row.seconds:.3f}")]
    if svg_file:
        items.append(("drawing file", f'<a href="{esc(svg_file)}">{esc(svg_file)}</a>'))
    sections = [section("Summary", summary_list(items), "summary"),
                section("Architecture", drawing_html(svg, missing, ""), "architecture"),
                section("Values map", values_table(row.values or row.params), "values")]
    if row.values is not None and _differs(row.params, row.values):
        sections.append(section("Optuna parameters (choices of objects are stored by index)",
                                values_table(row.params), "params"))
    return page(f"Trial {row.number}", f'study {esc(study_name)} &middot; '
                f'<a href="../index.html#trial-{row.number}">back to the report</a>', sections)


def _differs(params: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return json.dumps(dict(params), sort_keys=True, default=str) != \
        json.dumps(dict(values), sort_keys=True, default=str)


_XML_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_IDS = re.compile(r'\bid="([^"]*)"')
_WIDTH = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)(pt|px)?"')


def svg_width(svg: str) -> float:
    """An SVG's width in CSS pixels (Graphviz writes points)."""
    match = _WIDTH.search(svg)
    if not match:
        return 0.0
    return float(match.group(1)) * (4 / 3 if match.group(2) == "pt" else 1)


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG file's text, ready to sit inside HTML: no prolog, ids unique per drawing."""
    body = _XML_PROLOG.sub("", svg, count=1)
    return _IDS.sub(lambda m: f'id="{prefix}{m.group(1)}"', body) if prefix else body
