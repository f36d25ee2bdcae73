"""Each domain's report as its users read it: built from real `da-bridge search` studies, checked
in the HTML (fast) and in headless Chromium (slow; screenshots kept under build/ for CI)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from chromium import open_page

from da_bridge import search
from da_bridge.cli import main
from da_bridge.study.tasks import add_task_arguments, make_task

BUILD = Path(__file__).resolve().parents[1] / "build" / "report-screenshots"

STUDIES = {
    "sklearn": ["sklearn", "--dataset", "iris", "--models", "knn", "--cv", "3",
                "--cv-jobs", "1", "--trials", "8"],
    "augment": ["augment", "--train-size", "60", "--valid-size", "100", "--subpolicies", "2",
                "--copies", "1", "--trials", "4"],
    "nasbench201": ["nasbench201", "--trials", "12"],
    "keras": ["keras", "--epochs", "1", "--trials", "3"],
}

#: What each domain's best panels must show.
PANELS = {
    "sklearn": ["scikit-learn code"],
    "augment": ["Policy", "The policy on training images"],
    "nasbench201": ["Cell", "Cell string"],
    "keras": ["Parameters", "Layers"],
}

#: In the browser: anything clipped, anything past the page's right edge, the drawings' scale,
#: the panels of the best card, the charts.
CHECK = """JSON.stringify((() => {
  const width = document.documentElement.clientWidth;
  const texts = "pre, td, th, dd, dt, figcaption, h3, p";
  const clipped = [...document.querySelectorAll(texts)]
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && !e.closest(".drawing"))
      .map((e) => e.tagName + ": " + e.textContent.slice(0, 80));
  const past = [...document.querySelectorAll("main *")]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest(".drawing, .scroll"))
      .map((e) => e.tagName + "." + e.className);
  const drawings = [...document.querySelectorAll("#best .drawing")].map((box) => {
      const svg = box.querySelector("svg");
      return {box: box.getBoundingClientRect().right <= width,
              scale: svg.getBoundingClientRect().width / svg.width.baseVal.value};
  });
  const card = document.querySelector("#best-1");
  return {
    pageWidth: document.documentElement.scrollWidth <= width,
    clipped, past, drawings,
    panels: [...card.querySelectorAll(".panel figcaption")].map((e) => e.textContent),
    images: [...card.querySelectorAll(".panel img")].map((i) => i.complete && i.naturalWidth),
    panelSvgs: card.querySelectorAll(".panel svg").length,
    charts: [...document.querySelectorAll("#plots svg.chart")].length,
    choices: document.querySelectorAll("#choices svg.chart").length,
    tips: [...document.querySelectorAll("#plot-importance title")].map((t) => t.textContent),
  };
})())"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Made lazily, one per domain: the study by `da-bridge search`, the report by
    `da-bridge report`."""
    folder = tmp_path_factory.mktemp("domains")
    made: dict[str, Path] = {}

    def make(domain: str) -> Path:
        if domain not in made:
            journal = folder / f"{domain}.journal"
            assert main(["search", *STUDIES[domain], "--seed", "0", "--study", domain,
                         "--storage", str(journal), "--no-progress"]) == 0
            out = folder / f"report-{domain}"
            assert main(["report", "--study", domain, "--storage", str(journal),
                         "--out", str(out)]) == 0
            made[domain] = out / "index.html"
        return made[domain]

    return make


def _card(text: str, rank: int = 1) -> str:
    return text.split(f'id="best-{rank}"')[1].split("</article>")[0]


@pytest.mark.parametrize("domain", [
    "sklearn", pytest.param("augment", marks=pytest.mark.slow), "nasbench201"])
def test_best_card_has_the_domains_panels(reports, domain):
    text = reports(domain).read_text()
    card = _card(text)
    captions = re.findall(r'<figure class="panel[^"]*"><figcaption>(.*?)</figcaption>', card)
    assert [c.split(" (")[0] for c in captions] == PANELS[domain]
    assert '<table class="values">' in card and "± SE" not in card


def test_sklearn_report_shows_code_spread_and_key_columns(reports):
    text = reports("sklearn").read_text()
    card = _card(text)
    assert "from sklearn" in card and "Pipeline([" in card
    assert "standard error over 3 CV folds" in card
    head = re.search(r"<thead>(.*?)</thead>", text, re.S).group(1)
    assert "<th>model.choice</th>" in head and "<th>&plusmn; SE</th>" in head
    assert ("is not clearly better" in text) or ("is ahead of the next" in text)
    number = int(re.search(r'id="best-1"><h3>#1: <a href="trials/trial-(\d+).html"', text)[1])
    page = (reports("sklearn").parent / "trials" / f"trial-{number:05d}.html").read_text()
    folds = re.search(r"<dt>CV folds</dt><dd>(.*?)</dd>", page)[1].split(", ")
    assert len(folds) == 3 and "<dt>score</dt>" in page and "score score" not in page


def test_sklearn_plots_use_short_names_with_the_full_path_on_hover(reports):
    text = reports("sklearn").read_text()
    importance = text.split('id="plot-importance"')[1].split("</figure>")[0]
    pairs = re.findall(r"<g><title>([^<:]*): [\d.]+</title><text[^>]*>([^<]*)</text>", importance)
    assert pairs and all(path.endswith(label.lstrip("…")) for path, label in pairs)
    assert any("/" in path and "/" not in label for path, label in pairs)
    choices = text.split('id="choices"')[1].split("</section>")[0]
    assert '<figcaption title="features.choice">features.choice</figcaption>' in choices


@pytest.mark.slow
def test_augment_report_shows_the_policy_and_its_pictures(reports):
    text = reports("augment").read_text()
    card = _card(text)
    assert "one of these per image" in card and "data:image/png;base64," in card
    assert "standard error over 100 validation images" in card
    head = re.search(r"<thead>(.*?)</thead>", text, re.S).group(1)
    assert "<th>sub-policy 1</th><th>sub-policy 2</th>" in head


def test_nas_report_draws_the_cell(reports):
    card = _card(reports("nasbench201").read_text())
    cell = card.split("<figcaption>Cell</figcaption>")[1].split("</figure>")[0]
    assert "<svg" in cell and cell.count('class="edge"') >= 1 and "|" in card


@pytest.mark.slow
@pytest.mark.parametrize("domain", ["sklearn", "augment", "nasbench201", "keras"])
def test_report_reads_well_in_chromium(reports, domain, tmp_path):
    BUILD.mkdir(parents=True, exist_ok=True)
    visit = open_page(reports(domain), tmp_path / "profile", script=CHECK,
                      screenshot=BUILD / f"report-{domain}.png")
    assert visit.problems == []
    seen = json.loads(visit.evaluated)
    assert seen["clipped"] == [] and seen["past"] == [] and seen["pageWidth"]
    assert seen["drawings"] and all(d["box"] for d in seen["drawings"])
    assert all(d["scale"] >= 0.6 for d in seen["drawings"])  # readable, not a thumbnail
    assert [p.split(" (")[0] for p in seen["panels"]] == PANELS[domain]
    assert all(seen["images"]) and seen["charts"] >= 2
    if domain == "nasbench201":
        assert seen["panelSvgs"] == 1
    if domain != "augment":
        assert seen["choices"] >= 1
    assert visit.screenshot.stat().st_size > 30_000


def test_report_space_option_brings_the_tasks_panels(tmp_path):
    options = ["--dataset", "iris", "--models", "knn", "--cv", "3", "--cv-jobs", "1"]
    parser = argparse.ArgumentParser()
    add_task_arguments(parser, "sklearn")
    task = make_task("sklearn", parser.parse_args(options))
    journal = str(tmp_path / "plain.journal")
    search(task.space, task.objective, n_trials=3, seed=0, direction="maximize",
           storage=journal, study_name="plain")  # from Python: nothing says which task it was
    assert main(["report", "--study", "plain", "--storage", journal, "--out",
                 str(tmp_path / "without")]) == 0
    assert "scikit-learn code" not in (tmp_path / "without" / "index.html").read_text()
    assert main(["report", "--study", "plain", "--storage", journal, "--out",
                 str(tmp_path / "with"), "--space", "sklearn", *options]) == 0
    card = _card((tmp_path / "with" / "index.html").read_text())
    assert "<figcaption>scikit-learn code</figcaption>" in card and "Pipeline([" in card
