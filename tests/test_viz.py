"""Drawings rendered by the real Graphviz: architectures, partial instances, unfoldings."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import da_bridge
from da_bridge import (
    DomainError,
    MissingExtraError,
    ReplayError,
)
from da_bridge.cli import main
from da_bridge.spaces.examples import mobile_net_space, poster_space
from da_bridge.viz import draw, draw_unfolding, render, to_graphviz
from da_bridge.viz._dot import short_text

SVG = "{http://www.w3.org/2000/svg}"
SUBSTITUTION_FILL = "#fde6c4"


def sklearn_pipeline():
    from da_bridge.spaces.sklearn import classification_space

    return classification_space()


def keras_mobile_net():
    from da_bridge.spaces.keras import mobile_net

    return mobile_net()


SPACES = {
    "poster": poster_space,
    "mobile_net": mobile_net_space,
    "keras_mobile_net": keras_mobile_net,
    "sklearn_pipeline": sklearn_pipeline,
}


# --- reading what Graphviz wrote ---------------------------------------------------------------

def parse_svg(data: bytes | str) -> dict:
    """Nodes (title -> fill, stroke, dashed, texts) and edges ((tail, head) titles) of an SVG."""
    root = ET.fromstring(data.encode() if isinstance(data, str) else data)
    assert root.tag == f"{SVG}svg"
    nodes, edges = {}, set()
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title")
        texts = [(t.text or "").strip() for t in group.iter(f"{SVG}text")]
        if group.get("class") == "node":
            shape = next(e for e in group if e.tag in (f"{SVG}path", f"{SVG}polygon",
                                                       f"{SVG}ellipse"))
            nodes[title] = {"fill": shape.get("fill"), "stroke": shape.get("stroke"),
                            "dashed": shape.get("stroke-dasharray") is not None, "texts": texts}
        elif group.get("class") == "edge":
            tail, head = title.split("->")
            edges.add((tail, head, " ".join(texts)))
    return {"nodes": nodes, "edges": edges}


def node_with(svg: dict, text: str) -> str:
    """The title of the one node whose first text line is `text`."""
    found = [title for title, node in svg["nodes"].items() if node["texts"][:1] == [text]]
    assert len(found) == 1, (text, found)
    return found[0]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# --- architectures ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SPACES))
def test_renders_svg_and_png_with_every_module_and_value(name):
    arch = SPACES[name]().sample(3)
    svg = parse_svg(render(arch, "svg"))
    module_nodes = {t: n for t, n in svg["nodes"].items() if t.startswith("m")}
    assert len(module_nodes) == len(arch.modules)
    for module in arch.modules:
        texts = module_nodes[f"m{module.index}"]["texts"]
        assert module.name in texts and (module.path == module.name or module.path in texts)
        for prop, value in module.values.items():
            assert f"{prop} = {short_text(value)}" in texts, (module.path, prop)
    assert not any(n["fill"] == SUBSTITUTION_FILL for n in svg["nodes"].values())
    width, height = png_size(render(arch, "png"))
    assert width > 100 and height > 100


def test_poster_drawing_shows_ports_inputs_outputs_and_hyperparameters():
    arch = poster_space().replay({
        "conv.filters": 64, "optional.include": True, "optional/dropout.rate": 0.5,
        "chain1.n": 1, "chain1/0/conv.filters": 128,
        "chain2/0/conv.filters": 64, "chain2/1/conv.filters": 128})
    svg = parse_svg(render(arch, "svg"))
    concat = node_with(svg, "concat")
    heads = {edge[2] for edge in svg["edges"] if edge[1] == concat}
    assert any("in0" in label for label in heads) and any("in1" in label for label in heads)
    assert node_with(svg, "in").startswith("input") and node_with(svg, "out").startswith("output")
    rate = node_with(svg, "optional/dropout.rate")
    dropout = node_with(svg, "dropout")
    assert svg["nodes"][rate]["texts"][1] == "= 0.5"
    assert (rate, dropout, "rate") in svg["edges"]
    assert "rate = 0.5" in svg["nodes"][dropout]["texts"]


def test_sklearn_parallel_feature_branches_meet_at_their_union():
    space = sklearn_pipeline()
    arch = next(a for a in map(space.sample, range(200)) if a.values["features.choice"] == "union")
    svg = parse_svg(render(arch, "svg", hyperparameters=False))
    names = {m.index: m.name for m in arch.modules}
    by_name = {name: f"m{index}" for index, name in names.items()}
    fork, combine = by_name["fork"], by_name["combine"]
    branches = {head for tail, head, _ in svg["edges"] if tail == fork}
    assert {names[int(b[1:])] for b in branches} == {"pca", "selectpercentile"}
    into_combine = {(tail, label) for tail, head, label in svg["edges"] if head == combine}
    assert {tail for tail, _ in into_combine} == branches
    assert sorted(sorted(label.split()) for _, label in into_combine) == [["in0", "out"],
                                                                          ["in1", "out"]]
    png_size(render(arch, "png"))


def test_toggles_remove_hyperparameter_nodes_port_labels_and_values():
    arch = poster_space().sample(0)
    full = parse_svg(render(arch, "svg"))
    bare = parse_svg(render(arch, "svg", hyperparameters=False, port_labels=False, values=False))
    assert any(t.startswith("h") for t in full["nodes"])
    assert not any(t.startswith("h") for t in bare["nodes"])
    assert any("out" in label for _, _, label in full["edges"])
    assert all(label == "" for _, _, label in bare["edges"])
    assert not any("filters" in " ".join(n["texts"]) for n in bare["nodes"].values())


def test_substitution_modules_differ_while_unassigned_and_next_choice_is_marked():
    u = poster_space().unfold({"conv.filters": 64, "optional.include": True})
    svg = parse_svg(render(u, "svg"))
    for module in u.modules():
        node = svg["nodes"][f"m{module.index}"]
        is_substitution = module.kind == "substitution"
        assert (node["fill"] == SUBSTITUTION_FILL) == is_substitution, module.path
        assert node["dashed"] == is_substitution, module.path
    assert {m.name for m in u.modules() if m.kind == "substitution"} == {"chain1", "chain2"}
    upcoming = node_with(svg, "optional/dropout.rate")
    assert svg["nodes"][upcoming]["stroke"] == "#d62728" and svg["nodes"][upcoming]["dashed"]
    assert svg["nodes"][node_with(svg, "conv.filters")]["stroke"] != "#d62728"


def test_dependent_hyperparameters_are_linked_to_their_parents():
    svg = parse_svg(render(poster_space().unfold({"conv.filters": 64}), "svg"))
    chain1_n, chain2_n = node_with(svg, "chain1.n"), node_with(svg, "chain2.n")
    assert (chain1_n, chain2_n, "n") in svg["edges"]
    assert "waits for its parents" in svg["nodes"][chain2_n]["texts"][1]

    arch = mobile_net_space().replay({
        "initial_filters": 16, "initial_kernel_size": 3, "bn_opt": False, "drop_opt": False,
        "block_chain.num_reductions": 2, "kernel_size": 3,
        "block_chain/reduction_1/repeat.n": 1, "filter_multiplier": 4,
        "block_chain/reduction_2/repeat.n": 1})
    svg = parse_svg(render(arch, "svg"))
    dependent = node_with(svg, "block_chain/reduction_2/conv.filters")
    assert svg["nodes"][dependent]["texts"][1] == "= 64"
    parents = {(tail, label) for tail, head, label in svg["edges"] if head == dependent}
    assert parents == {(node_with(svg, "initial_filters"), "filters"),
                       (node_with(svg, "filter_multiplier"), "multiplier")}
    shared_rows = [n for n in svg["nodes"].values() if "(kernel_size)" in n["texts"]]
    assert len(shared_rows) == 4  # 2 reductions x (strided block + 1 repeated block)


def test_draw_writes_each_format_and_infers_it_from_the_suffix(tmp_path):
    arch = poster_space().sample(0)
    assert draw(arch, tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    png_size(draw(arch, tmp_path / "sub" / "a.PNG").read_bytes())
    assert draw(arch, tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"
    assert draw(arch, tmp_path / "plain") == tmp_path / "plain.svg"
    assert draw(arch, tmp_path / "forced", "png").name == "forced.png"
    with pytest.raises(DomainError, match=r"\.gif"):
        draw(arch, tmp_path / "a.gif")
    with pytest.raises(DomainError, match="'format' got 'jpg'"):
        render(arch, "jpg")
    with pytest.raises(DomainError, match="an Architecture, an Unfolding or a SearchSpace"):
        draw({"conv.filters": 64}, tmp_path / "a.svg")


def test_a_search_space_draws_as_its_first_instance():
    source = to_graphviz(poster_space()).source
    assert source.count("<I>substitution</I>") == 3  # optional, chain1, chain2
    assert da_bridge.draw is draw


# --- unfolding --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["poster", "mobile_net", "sklearn_pipeline"])
def test_unfolding_has_one_frame_per_assignment_plus_the_first(tmp_path, name):
    space = SPACES[name]()
    arch = space.sample(5)
    drawn = draw_unfolding(space, arch.json_values(), tmp_path)
    assert len(drawn.frames) == len(arch.values) + 1
    expected = [f"frame_{i:03d}.svg" for i in range(len(drawn.frames))]
    assert [f.name for f in drawn.frames] == expected
    first, last = (parse_svg(drawn.frames[i].read_bytes()) for i in (0, -1))
    assert any(n["fill"] == SUBSTITUTION_FILL for n in first["nodes"].values())
    assert not any(n["fill"] == SUBSTITUTION_FILL for n in last["nodes"].values())
    page = drawn.html.read_text()
    assert page.count("data:image/svg+xml;base64,") == len(drawn.frames)
    assert "http" not in page.split("<script>")[1]  # nothing fetched from the network
    frames = json.loads(re.search(r"const FRAMES = (.*);\n", page).group(1))
    assert [f["caption"].split(":")[0] for f in frames[1:]] == [
        f"step {i}" for i in range(1, len(arch.values) + 1)]
    assert frames[1]["caption"].startswith(f"step 1: {next(iter(arch.values))} = ")


def test_unfolding_of_a_partial_map_stops_where_values_stop(tmp_path):
    drawn = draw_unfolding(poster_space(), {"conv.filters": 128, "optional.include": False},
                           tmp_path, format="png")
    assert len(drawn.frames) == 3 and all(png_size(f.read_bytes()) for f in drawn.frames)
    assert drawn.html.read_text().count("data:image/png;base64,") == 3


def test_unfolding_rejects_values_that_never_become_live(tmp_path):
    with pytest.raises(ReplayError, match=r"optional/dropout\.rate"):
        draw_unfolding(poster_space(), {"conv.filters": 64, "optional.include": False,
                                        "optional/dropout.rate": 0.5, "chain1.n": 1,
                                        "chain1/0/conv.filters": 64, "chain2/0/conv.filters": 64,
                                        "chain2/1/conv.filters": 64}, tmp_path)
    with pytest.raises(DomainError, match=r"'conv\.filters' got 3"):
        draw_unfolding(poster_space(), {"conv.filters": 3}, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written for bad values
    with pytest.raises(DomainError, match="'format' got 'pdf'"):
        draw_unfolding(poster_space(), {}, tmp_path, format="pdf")


# --- command line -----------------------------------------------------------------------------

def test_cli_draws_values_from_json_text_a_file_or_an_architecture_json(tmp_path, capsys):
    arch = poster_space().sample(2)
    text = json.dumps(arch.json_values())
    assert main(["draw", "poster", "--values", text, "--out", str(tmp_path / "a.svg")]) == 0
    (tmp_path / "arch.json").write_text(json.dumps(arch.to_json()))
    assert main(["draw", "poster", "--values", str(tmp_path / "arch.json"),
                 "--out", str(tmp_path / "b.png"), "--no-hyperparameters"]) == 0
    assert main(["draw", "poster", "--out", str(tmp_path / "space.svg")]) == 0
    assert main(["draw", "poster", "--values", '{"conv.filters": 64}', "--unfolding",
                 "--out", str(tmp_path / "frames")]) == 0
    assert (tmp_path / "a.svg").read_bytes() == render(arch, "svg")
    png_size((tmp_path / "b.png").read_bytes())
    assert "substitution" in (tmp_path / "space.svg").read_text()
    assert len(list((tmp_path / "frames").glob("frame_*.svg"))) == 2
    assert "wrote 2 frames" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["draw", "poster", "--values", "{oops", "--out", "x.svg"], "--values is not JSON"),
    (["draw", "poster", "--values", '{"nope": 1}', "--out", "x.svg"], "nope"),
    (["draw", "--out", "x.svg"], "give SPACE"),
    (["draw", "poster", "--trial", "1", "--out", "x.svg"], "--trial needs --study"),
    (["draw", "--study", "missing", "--out", "x.svg"], "no study 'missing'"),
])
def test_cli_draw_errors_are_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# --- Graphviz missing -------------------------------------------------------------------------

def run_python(code: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_missing_dot_program_gives_an_install_hint_and_nothing_else_breaks(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    code = """
import da_bridge
from da_bridge.spaces.examples import poster_space
arch = poster_space().sample(0)
print(arch.forward({"in": "x"})["out"][:6])
print("source" if "digraph" in da_bridge.viz.to_graphviz(arch).source else "no source")
try:
    da_bridge.draw(arch, "a.svg")
except da_bridge.MissingExtraError as exc:
    print("error:", exc)
"""
    out = run_python(code, env, tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["concat", "source"]
    assert "'dot' is not on PATH" in lines[2] and "apt-get install graphviz" in lines[2]
    assert not (tmp_path / "a.svg").exists()

    cli = subprocess.run([sys.executable, "-m", "da_bridge", "draw", "poster", "--out", "a.svg"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2
    assert cli.stderr.startswith("da-bridge: error: the Graphviz program 'dot' is not on PATH")


def test_missing_graphviz_package_names_the_extra(tmp_path):
    code = """
import sys
sys.modules["graphviz"] = None  # as if the package were not installed
import da_bridge
from da_bridge.spaces.examples import poster_space
try:
    da_bridge.draw(poster_space().sample(0), "a.svg")
except da_bridge.MissingExtraError as exc:
    print(exc)
"""
    out = run_python(code, dict(os.environ), tmp_path)
    assert out.stdout.strip() == "graphviz is needed here: pip install 'da_bridge[viz]'"
    assert issubclass(MissingExtraError, ImportError)


def test_import_da_bridge_does_not_import_graphviz():
    out = run_python("import sys, da_bridge; da_bridge.draw; "
                     "print(sorted(m for m in ('graphviz', 'matplotlib', 'optuna') "
                     "if m in sys.modules))", dict(os.environ), Path.cwd())
    assert out.stdout.strip() == "[]", out.stderr
