"""The static HTML report: built from real studies, opened in headless Chromium and
optuna-dashboard."""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import optuna
import pytest
from chromium import open_page

from da_bridge import search
from da_bridge.cli import main
from da_bridge.errors import DomainError, SpaceError
from da_bridge.report import dashboard_command, study_space, write_report
from da_bridge.spaces.examples import poster_space
from da_bridge.study.store import load_study

OBJECTIVE = """
def width(arch):
    return sum(v for k, v in arch.values.items() if k.endswith("filters")) / 64 \\
        + 3 * len(arch.values)
"""


SVG = "{http://www.w3.org/2000/svg}"


class Page(HTMLParser):
    """Tags with their attributes, and the id of the section each one is in."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict, str | None]] = []
        self.section: str | None = None
        self.text = text
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        self.tags.append((tag, attrs, self.section))

    def find(self, tag: str, section: str | None = None, **attrs) -> list[dict]:
        return [a for t, a, s in self.tags if t == tag and (section is None or s == section)
                and all(a.get(k) == v for k, v in attrs.items())]

    def sections(self) -> list[str]:
        return [a["id"] for a in self.find("section")]


@pytest.fixture(scope="module")
def report30(tmp_path_factory):
    """A 30-trial study made by `da-bridge search` and its report made by `da-bridge report`."""
    folder = tmp_path_factory.mktemp("report30")
    (folder / "objectives.py").write_text(OBJECTIVE)
    journal = folder / "runs" / "poster-demo.journal"
    assert main(["search", "poster", "--objective", f"{folder / 'objectives.py'}:width",
                 "--trials", "30", "--seed", "0", "--study", "poster-demo",
                 "--storage", str(journal), "--direction", "maximize", "--no-progress",
                 "--searcher", "optuna"]) == 0  # the pages checked below are TPE's trials
    out = folder / "report"
    assert main(["report", "--study", "poster-demo", "--storage", str(journal),
                 "--out", str(out)]) == 0
    study = load_study("poster-demo", str(journal))
    return {"folder": folder, "journal": journal, "out": out, "study": study,
            "page": Page((out / "index.html").read_text())}


def test_report_has_summary_best_plots_choices_trials_and_dashboard(report30):
    page, out, study = report30["page"], report30["out"], report30["study"]
    assert page.sections() == ["summary", "best", "plots", "choices", "trials", "dashboard"]
    assert "30 (30 complete)" in page.text and "25,008" in page.text
    best = sorted(study.trials, key=lambda t: t.value, reverse=True)[:3]
    cards = page.find("article", "best", **{"class": "best"})
    assert [c["id"] for c in cards] == ["best-1", "best-2", "best-3"]
    for rank, trial in enumerate(best, 1):
        card = page.text.split(f'id="best-{rank}"')[1].split("</article>")[0]
        assert f"trial {trial.number}</a>" in card
        assert f'<span class="score">{trial.value:.6g}' in card
        assert "<svg" in card and "concat" in card
        cells = re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", card)
        values = {path: json.loads(html.unescape(value)) for path, value in cells}
        assert values == trial.user_attrs["da_bridge.values"]
    rows = [a for a in page.find("tr", "trials") if a.get("id")]
    assert [r["id"] for r in rows] == [f"trial-{n}" for n in range(30)]
    links = [a["href"] for a in page.find("a", "trials")]
    assert links == [f"trials/trial-{n:05d}.html" for n in range(30)]
    head = re.search(r'<section id="trials">.*?<thead>(.*?)</thead>', page.text, re.S).group(1)
    assert "<th>conv.filters</th><th>optional.include</th><th>chain1.n</th>" in head
    for n in range(30):
        trial_page = (out / links[n]).read_text()
        assert "<svg" in trial_page and f"Trial {n}" in trial_page
        ET.parse(out / "trials" / f"trial-{n:05d}.svg")


def test_trial_page_names_each_score_once_and_shows_the_values_once(report30):
    trial = report30["study"].trials[4]
    text = (report30["out"] / "trials" / "trial-00004.html").read_text()
    assert f"<dt>score</dt><dd>{trial.value:.6g}</dd>" in text and "score score" not in text
    assert text.count('<table class="values">') == 1  # params equal the values map here
    assert "Optuna parameters" not in text


def test_plots_are_inline_svg_with_full_names_on_hover(report30):
    page = report30["page"]
    plots = page.text.split('<section id="plots">')[1].split("</section>")[0]
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", plots)
    assert captions == ["Score by trial", "Hyperparameter importances"]
    charts = re.findall(r'<svg xmlns="[^"]*" class="chart".*?</svg>', plots, re.S)
    assert len(charts) == 2
    history = ET.fromstring(charts[0])
    tips = [t.text for t in history.iter(f"{SVG}title")]
    assert len(tips) == 30 and tips[0].startswith("trial 0: score ")
    assert "PED-ANOVA" in plots and "not which value is better" in plots
    importance = ET.fromstring(charts[1])
    labels = [t.text for t in importance.iter(f"{SVG}text")][::2]
    hovers = [t.text.split(":")[0] for t in importance.iter(f"{SVG}title")]
    assert hovers and all(h.endswith(label.lstrip("…")) for h, label in zip(hovers, labels))
    paths = {p for t in report30["study"].trials for p in t.params}
    assert set(hovers) <= paths
    choices = page.text.split('<section id="choices">')[1].split("</section>")[0]
    assert 'title="optional.include"' in choices and ">false<" in choices


def test_report_needs_no_network(report30):
    page = report30["page"]
    assert not page.find("script") and not page.find("link")
    for tag, attrs, _ in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name, "")
            external = value.startswith(("http:", "https:", "//"))
            assert not external or (tag == "a" and "optuna-dashboard" in value), (tag, value)


def test_report_renders_in_headless_chromium(report30, tmp_path):
    script = """JSON.stringify({
        drawings: document.querySelectorAll("#best .drawing svg").length,
        drawn_nodes: document.querySelectorAll("#best .drawing svg g.node").length,
        plots: [...document.querySelectorAll("#plots svg.chart")].map(
            (s) => s.getBoundingClientRect().width > 300),
        rows: document.querySelectorAll("#trials tbody tr").length,
        height: document.body.scrollHeight})"""
    visit = open_page(report30["out"] / "index.html", tmp_path / "profile", script=script,
                      screenshot=tmp_path / "report.png")
    assert visit.problems == []
    seen = json.loads(visit.evaluated)
    assert seen["drawings"] == 3 and seen["drawn_nodes"] > 20
    assert len(seen["plots"]) >= 2 and all(seen["plots"])
    assert seen["rows"] == 30 and seen["height"] > 2000
    shot = visit.screenshot.read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000  # a page, not a blank


def test_trial_pages_and_unfolding_page_render_in_chromium(report30, tmp_path):
    out = report30["out"]
    visit = open_page(out / "trials" / "trial-00007.html", tmp_path / "profile",
                      script='document.querySelectorAll(".drawing svg g.node").length')
    assert visit.problems == [] and visit.evaluated > 10
    assert main(["draw", "--study", "poster-demo", "--storage", str(report30["journal"]),
                 "--trial", "7", "--unfolding", "--out", str(tmp_path / "frames")]) == 0
    script = """(async () => {
        const before = document.getElementById("caption").textContent;
        document.getElementById("last").click();
        await new Promise((r) => setTimeout(r, 50));
        const img = document.getElementById("frame");
        await img.decode();
        return JSON.stringify([before, document.getElementById("caption").textContent,
                               img.naturalWidth]);
    })()"""
    visit = open_page(tmp_path / "frames" / "index.html", tmp_path / "profile", script=script)
    assert visit.problems == []
    before, after, width = json.loads(visit.evaluated)
    n = len(report30["study"].trials[7].user_attrs["da_bridge.values"])
    assert before == f"frame 0 of {n}: initial instance: nothing assigned"
    assert after.startswith(f"frame {n} of {n}: step {n}: ") and width > 100


def test_the_browser_check_catches_broken_pages(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><img src="missing.png"><img src="https://example.com/a.png">'
                    '<script>console.error("boom"); notAFunction();</script></body></html>')
    problems = " | ".join(open_page(page, tmp_path / "profile").problems)
    for expected in ("console.error: boom", "notAFunction", "ERR_FILE_NOT_FOUND",
                     "ERR_INTERNET_DISCONNECTED"):
        assert expected in problems


def test_dashboard_command_opens_the_store_in_optuna_dashboard(report30):
    page = report30["page"]
    command = re.search(r'<section id="dashboard">.*?<pre>(.*?)</pre>', page.text, re.S).group(1)
    argv = shlex.split(command.replace("&#x27;", "'"))
    assert argv == ["optuna-dashboard", str(report30["journal"].resolve())]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = shutil.which("optuna-dashboard") or argv[0]
    server = subprocess.Popen([executable, *argv[1:], "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        names = _studies_served(port, server)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert names == ["poster-demo"]


def _studies_served(port: int, server: subprocess.Popen) -> list[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as r:
                return [s["study_name"] for s in json.load(r)["study_summaries"]]
        except OSError:
            time.sleep(0.3)
    raise AssertionError("optuna-dashboard did not answer")


def test_multi_objective_report_has_a_pareto_front(tmp_path):
    def objective(arch):
        filters = sum(v for k, v in arch.values.items() if k.endswith("filters"))
        return filters / 64, float(len(arch.values))

    result = search(poster_space(), objective, directions=["maximize", "minimize"],
                    n_trials=12, seed=1, storage=":memory:", study_name="two")
    result.study.set_metric_names(["width", "size"])
    page = Page(write_report(result.study, tmp_path, space=poster_space(), top=4).read_text())
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page.text)
    assert {"width by trial", "size by trial", "Pareto front"} <= set(captions)
    assert "Pareto-optimal architectures" in page.text
    front = {t.number for t in result.study.best_trials}
    pareto = page.text.split('id="plot-pareto"')[1].split("</figure>")[0]
    assert pareto.count("(Pareto-optimal)</title>") == len(front)
    cards = page.find("article", "best", **{"class": "best"})
    assert len(cards) == min(4, len(front))
    assert "<th>width</th><th>size</th>" in page.text
    assert "lives in memory" in page.text  # no dashboard for an in-memory store


def test_without_the_space_the_report_shows_values_and_says_why(tmp_path):
    storage = f"sqlite:///{tmp_path / 'runs.db'}"

    def objective(arch):
        if arch.values["chain1.n"] == 4:
            raise RuntimeError("too deep")
        return float(arch.values["conv.filters"])

    search(poster_space(), objective, n_trials=5, seed=2, storage=storage, study_name="plain")
    index = write_report("plain", tmp_path / "report", storage=storage)
    page = Page(index.read_text())
    assert "could not be rebuilt" in page.text and "give the space explicitly" in page.text
    assert 'class="drawing' not in page.text
    assert page.find("table", "best", **{"class": "values"}) and "conv.filters" in page.text
    assert f"optuna-dashboard {storage}" in page.text
    states = {a["class"] for a in page.find("td", "trials") if a.get("class", "").isupper()}
    assert states == {"COMPLETE", "FAIL"}
    assert not list((tmp_path / "report" / "trials").glob("*.svg"))
    assert "no drawing" in (tmp_path / "report" / "trials" / "trial-00000.html").read_text()
    failed = next(t for t in load_study("plain", storage).trials if t.state.name == "FAIL")
    failed_page = (tmp_path / "report" / "trials" / f"trial-{failed.number:05d}.html")
    assert "<dt>error</dt><dd>RuntimeError: too deep</dd>" in failed_page.read_text()
    drawn = write_report("plain", tmp_path / "drawn", storage=storage, space=poster_space(),
                         top=1, max_drawings=2)
    text = drawn.read_text()
    assert text.count('<div class="drawing') == 1
    assert "Only 2 trials, the best first, are drawn" in text
    assert len(list((tmp_path / "drawn" / "trials").glob("*.svg"))) == 2
    with pytest.raises(DomainError, match="'max_drawings' got -1; allowed: an integer >= 0"):
        write_report("plain", tmp_path / "bad", storage=storage, max_drawings=-1)


def test_report_without_the_dot_program_still_has_plots_and_values(report30, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    code = (f"from da_bridge.report import write_report; "
            f"write_report('poster-demo', {str(tmp_path / 'out')!r}, "
            f"storage={str(report30['journal'])!r})")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PATH": str(empty)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = Page((tmp_path / "out" / "index.html").read_text())
    text = html.unescape(page.text)
    assert "'dot' is not on PATH" in text and "'apt-get install graphviz'" in text
    assert page.text.count('class="chart"') >= 2 and 'class="drawing' not in page.text


def test_study_space_rebuilds_recorded_spaces_or_says_why():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    with pytest.raises(SpaceError, match="not made by `da-bridge search`"):
        study_space(study)
    study.set_user_attr("da_bridge.cli", {"space": "mobile_net", "options": []})
    assert study_space(study).count() == 8640
    # A reference to code is shown, never imported because a store names it.
    study.set_user_attr("da_bridge.cli", {"space": "da_bridge.spaces.examples:mobile_net_space",
                                          "options": []})
    with pytest.raises(SpaceError, match="'da_bridge.spaces.examples:mobile_net_space', which "
                                         "is code"):
        study_space(study)


def test_report_of_the_embedded_store_names_its_journal(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    search(poster_space(), lambda arch: len(arch.values), n_trials=3, seed=0, study_name="emb")
    assert main(["report", "--study", "emb", "--out", str(tmp_path / "r"), "--top", "1"]) == 0
    journal = (tmp_path / "runs" / "emb.journal").resolve()
    assert capsys.readouterr().out.splitlines()[-1] == f"browse it live: optuna-dashboard {journal}"
    text = (tmp_path / "r" / "index.html").read_text()
    assert f"<pre>optuna-dashboard {journal}</pre>" in text
    assert f"<dt>storage</dt><dd><code>{journal}</code>" in text


def test_dashboard_command_forms(tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    assert dashboard_command(None, "s") == f"optuna-dashboard {tmp_path / 'runs' / 's.journal'}"
    assert dashboard_command(":memory:", "s") is None
    assert dashboard_command("postgresql://me:secret@db/x", "s") == \
        "optuna-dashboard 'postgresql://me:***@db/x'"


def test_cli_report_errors_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    assert main(["report", "--study", "missing", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "no study 'missing'" in err and err.count("\n") == 1
