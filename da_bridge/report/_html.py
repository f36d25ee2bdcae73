"""The report's HTML: one stylesheet, no scripts, nothing loaded from the network."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence

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
h3{font-size:1rem;margin:0 0 .5rem}
a{color:var(--accent)}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1.4rem;margin:0}
dt{color:var(--muted)}dd{margin:0}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:.45rem .8rem;margin:.4rem 0}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:var(--soft);padding:.6rem;overflow:auto;max-height:20rem;margin:0;
border-radius:4px}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:.6rem;background:#fff}
figure img{width:100%;height:auto;display:block}
figcaption{font-weight:600;margin-bottom:.3rem}
.arch{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1rem;
border:1px solid var(--line);border-radius:6px;padding:.8rem;margin-bottom:1rem}
.drawing{max-height:38rem;overflow:auto;background:#fff;border:1px solid var(--soft)}
.drawing svg{max-width:100%;height:auto;display:block;margin:auto}
.score{font-size:1.05rem;margin:.2rem 0 .6rem}
table.trials{border-collapse:collapse;width:100%;font-size:.83rem}
table.trials th,table.trials td{border-bottom:1px solid var(--line);padding:.22rem .5rem;
text-align:left;vertical-align:top}
table.trials th{background:var(--soft);position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.values{max-width:34rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
font-family:ui-monospace,monospace;font-size:.78rem;color:var(--muted)}
tr.best td{background:#eef7ee}
.COMPLETE{color:#1a7f37}.FAIL{color:#cf222e}.PRUNED{color:#9a6700}.RUNNING{color:#0b5cad}
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
            + f"<footer>Made by da_bridge {esc(__version__)}; plots by Optuna's matplotlib "
              "visualization, drawings by Graphviz. Works offline.</footer></main></body></html>\n")


def section(title: str, body: str, ident: str) -> str:
    return f'<section id="{esc(ident)}"><h2>{esc(title)}</h2>{body}</section>'


def summary_list(items: Sequence[tuple[str, str]]) -> str:
    """A definition list; values are HTML already."""
    return '<dl class="summary">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>"
                                            for k, v in items) + "</dl>"


def notes(messages: Sequence[str]) -> str:
    return "".join(f'<p class="note">{esc(m)}</p>' for m in messages)


def plots_grid(plots: Sequence[Plot]) -> str:
    figures = []
    for plot in plots:
        if plot.src:
            body = f'<img src="{plot.src}" alt="{esc(plot.title)}">'
        else:
            body = f'<p class="note">{esc(plot.note)}</p>'
        figures.append(f'<figure class="plot"><figcaption>{esc(plot.title)}</figcaption>'
                       f"{body}</figure>")
    return '<div class="plots">' + "".join(figures) + "</div>"


def scores_text(row: TrialRow, names: Sequence[str]) -> str:
    if not row.scores:
        return "no score"
    return ", ".join(f"{name} {score:.6g}" for name, score in zip(names, row.scores))


def architecture_card(rank: int, row: TrialRow, names: Sequence[str], svg: str | None,
                      missing: str, link: str) -> str:
    """One of the best architectures: drawing, score and values map."""
    drawing = (f'<div class="drawing">{inline_svg(svg, f"t{row.number}-")}</div>' if svg
               else f'<p class="note">{esc(missing)}</p>')
    return (f'<div class="arch" id="best-{rank}"><div>{drawing}</div><div>'
            f'<h3>#{rank}: <a href="{esc(link)}">trial {row.number}</a></h3>'
            f'<p class="score">{esc(scores_text(row, names))}</p>'
            f"<pre>{esc(row.values_json)}</pre></div></div>")


def trials_table(rows: Sequence[TrialRow], names: Sequence[str], links: dict[int, str],
                 drawn: set[int], best: set[int]) -> str:
    head = ("<tr><th>trial</th><th>state</th>" + "".join(f"<th>{esc(n)}</th>" for n in names)
            + "<th>seconds</th><th>started</th><th>values map</th><th>drawing</th></tr>")
    body = []
    for row in rows:
        scores = [f"{s:.6g}" for s in row.scores] if row.scores else [""] * len(names)
        cells = "".join(f'<td class="num">{s}</td>' for s in scores)
        seconds = "" if row.seconds is None else f"{row.seconds:.2f}"
        compact = json.dumps(row.values if row.values is not None else row.params)
        label = "drawing" if row.number in drawn else "details"
        link = f'<a href="{esc(links[row.number])}">{label}</a>'
        body.append(f'<tr id="trial-{row.number}"{" class=best" if row.number in best else ""}>'
                    f'<td class="num">{row.number}</td><td class="{esc(row.state)}">'
                    f"{esc(row.state.lower())}</td>{cells}"
                    f'<td class="num">{seconds}</td><td>{esc(row.started)}</td>'
                    f'<td class="values" title="{esc(compact)}">{esc(compact)}</td>'
                    f"<td>{link}</td></tr>")
    return f'<table class="trials"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def trial_page(study_name: str, row: TrialRow, names: Sequence[str], svg: str | None,
               missing: str, svg_file: str | None) -> str:
    """A trial's own page: the drawing, its score, values map and parameters."""
    drawing = (f'<div class="drawing">{inline_svg(svg, "")}</div>' if svg
               else f'<p class="note">{esc(missing)}</p>')
    items = [("state", f'<span class="{esc(row.state)}">{esc(row.state.lower())}</span>'),
             ("score", esc(scores_text(row, names))), ("started", esc(row.started)),
             ("seconds", "" if row.seconds is None else f"{row.seconds:.3f}")]
    if svg_file:
        items.append(("drawing file", f'<a href="{esc(svg_file)}">{esc(svg_file)}</a>'))
    return page(f"Trial {row.number}", f'study {esc(study_name)} &middot; '
                f'<a href="../index.html#trial-{row.number}">back to the report</a>',
                [section("Summary", summary_list(items), "summary"),
                 section("Architecture", drawing, "architecture"),
                 section("Values map", f"<pre>{esc(row.values_json)}</pre>", "values"),
                 section("Optuna parameters",
                         f"<pre>{esc(json.dumps(row.params, indent=1))}</pre>", "params")])


_XML_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_IDS = re.compile(r'\bid="([^"]*)"')


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG file's text, ready to sit inside HTML: no prolog, ids unique per drawing."""
    body = _XML_PROLOG.sub("", svg, count=1)
    return _IDS.sub(lambda m: f'id="{prefix}{m.group(1)}"', body) if prefix else body
