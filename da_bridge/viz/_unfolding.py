"""Drawing a space as it unfolds: one frame per assignment, and a page that steps through them."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from da_bridge.errors import ReplayError
from da_bridge.space import SearchSpace, Unfolding
from da_bridge.viz._dot import check_format, escape, pipe, short_text, to_graphviz


class UnfoldingFrames(NamedTuple):
    """What `draw_unfolding` wrote: the frame files, first to last, and the stepping page.

    Example:
        >>> UnfoldingFrames([Path("frame_000.svg")], Path("index.html")).html.name
        'index.html'
    """

    frames: list[Path]
    html: Path


def draw_unfolding(space: SearchSpace, values: Mapping[str, Any], folder: str | Path, *,
                   format: str = "svg", **options: Any) -> UnfoldingFrames:
    """Draw `space` before any choice and after each assignment of `values`.

    Writes `frame_000.<format>` (the first instance) to `frame_<n>.<format>`
    (after the n-th assignment) and `index.html`, a self-contained page that
    steps through the frames (buttons, slider, arrow keys). Values are assigned
    in the order the space asks for them; a map that stops early draws the
    partial instance it reaches.

    Args:
        space: The search space.
        values: `{path: value}`, plain or in JSON form (e.g. a trial's values map).
        folder: Where to write; created if needed.
        format: "svg" or "png".
        **options: As in `to_graphviz` (`title` is set per frame).

    Returns:
        The frame paths (assignments + 1 of them) and the page's path.

    Raises:
        ReplayError: `values` names a hyperparameter that never became live.

    Example:
        >>> import tempfile
        >>> from da_bridge.spaces.examples import poster_space
        >>> arch = poster_space().sample(1)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     drawn = draw_unfolding(poster_space(), arch.values, folder)
        ...     len(drawn.frames) == len(arch.values) + 1, drawn.html.name
        (True, 'index.html')
    """
    check_format(format, ("svg", "png"))
    unfold_values(space, values)  # bad values fail before any frame is written
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames, captions = [], []
    for step, (unfolding, caption) in enumerate(_steps(space, values)):
        dot = to_graphviz(unfolding, **{**options, "title": caption})
        frame = folder / f"frame_{step:03d}.{format}"
        frame.write_bytes(pipe(dot, format))
        frames.append(frame)
        captions.append(caption)
    page = folder / "index.html"
    page.write_text(_stepper_page(repr(space), frames, captions, format), encoding="utf-8")
    return UnfoldingFrames(frames, page)


def _steps(space: SearchSpace, values: Mapping[str, Any]) -> Iterator[tuple[Unfolding, str]]:
    _check_values(values)
    u = space.unfold()
    yield u, "initial instance: nothing assigned"
    step = 0
    while (h := u.next()) is not None and h.name in values:
        value = h.decode(values[h.name], h.name)
        u.assign(value)
        step += 1
        yield u, f"step {step}: {h.name} = {short_text(value)}"
    _check_used(u, values)


def unfold_values(space: SearchSpace, values: Mapping[str, Any]) -> Unfolding:
    """`space` unfolded with `values` in the order it asks for them, up to the first gap."""
    _check_values(values)
    u = space.unfold(values)
    _check_used(u, values)
    return u


def _check_values(values: Any) -> None:
    if not isinstance(values, Mapping):
        raise ReplayError(f"a values map must be a {{path: value}} mapping; "
                          f"got {type(values).__name__}")


def _check_used(u: Unfolding, values: Mapping[str, Any]) -> None:
    unused = sorted(set(values) - set(u.values))
    if not unused:
        return
    h = u.next()
    where = (f"unfolding stopped at {h.name!r}, which has no value" if h is not None
             else "they are not hyperparameters of this architecture")
    raise ReplayError(f"{unused[:5]} were not used: {where} (assigned: {list(u.values)[:8]})")


def _stepper_page(title: str, frames: list[Path], captions: list[str], format: str) -> str:
    mime = "image/svg+xml" if format == "svg" else "image/png"
    data = [{"src": f"data:{mime};base64,{base64.b64encode(f.read_bytes()).decode()}",
             "caption": caption} for f, caption in zip(frames, captions)]
    script_data = json.dumps(data).replace("</", "<\\/")
    return (_STEPPER.replace("$TITLE", escape(title)).replace("$LAST", str(len(frames) - 1))
            .replace("$FRAMES", script_data))


_STEPPER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Unfolding of $TITLE</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#222}
.controls{display:flex;gap:.4rem;align-items:center;margin:.6rem 0;flex-wrap:wrap}
button{font-size:1rem;padding:.2rem .7rem}
#caption{font-family:ui-monospace,monospace;margin-left:.6rem}
main{display:flex;gap:1.5rem;align-items:flex-start}
#frame{max-width:75vw;border:1px solid #ddd}
ol{font-family:ui-monospace,monospace;font-size:.85rem}
li.current{color:#d62728;font-weight:bold} li.future{color:#aaa}
</style></head><body>
<h1>Unfolding of $TITLE</h1>
<div class="controls">
<button id="first" title="first (Home)">|&#x25C0;</button>
<button id="prev" title="previous (&#x2190;)">&#x25C0;</button>
<button id="play" title="play / pause (space)">play</button>
<button id="next" title="next (&#x2192;)">&#x25B6;</button>
<button id="last" title="last (End)">&#x25B6;|</button>
<input id="slider" type="range" min="0" max="$LAST" value="0" aria-label="frame">
<span id="caption"></span></div>
<main><img id="frame" alt="unfolding frame"><ol id="steps"></ol></main>
<script>
const FRAMES = $FRAMES;
let current = 0, timer = null;
const $ = (id) => document.getElementById(id);
FRAMES.slice(1).forEach((f) => {
  const li = document.createElement("li"); li.textContent = f.caption.replace(/^step \\d+: /, "");
  $("steps").appendChild(li);
});
function show(i) {
  current = Math.max(0, Math.min(FRAMES.length - 1, i));
  $("frame").src = FRAMES[current].src;
  $("slider").value = current;
  $("caption").textContent = `frame ${current} of ${FRAMES.length - 1}: ${FRAMES[current].caption}`;
  [...$("steps").children].forEach((li, k) => {
    li.className = k + 1 === current ? "current" : k + 1 > current ? "future" : "";
  });
}
function play() {
  if (timer) { clearInterval(timer); timer = null; $("play").textContent = "play"; return; }
  if (current === FRAMES.length - 1) show(0);
  $("play").textContent = "pause";
  timer = setInterval(() => { if (current === FRAMES.length - 1) play(); else show(current + 1); },
                      900);
}
$("first").onclick = () => show(0); $("last").onclick = () => show(FRAMES.length - 1);
$("prev").onclick = () => show(current - 1); $("next").onclick = () => show(current + 1);
$("play").onclick = play; $("slider").oninput = (e) => show(Number(e.target.value));
document.addEventListener("keydown", (e) => {
  const keys = {ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0,
                End: FRAMES.length - 1};
  if (e.key in keys) show(keys[e.key]); else if (e.key === " ") { e.preventDefault(); play(); }
});
show(0);
</script></body></html>
"""
