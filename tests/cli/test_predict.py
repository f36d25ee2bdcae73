"""`da-bridge predict`: a surrogate trained on a study scores an unseen architecture."""

from __future__ import annotations

import json
import re

import pytest

from da_bridge.cli import main
from da_bridge.spaces.nasbench201 import EDGES, edge_path

CONV = json.dumps({edge_path(e): "nor_conv_3x3" for e in EDGES})
EMPTY = json.dumps({edge_path(e): "none" for e in EDGES})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DA_BRIDGE_RUNS", str(folder))
        assert main(["search", "nasbench201", "--trials", "40", "--study", "nb", "--seed", "0",
                     "--searcher", "random", "--no-progress"]) == 0
        yield folder


def predicted(text: str) -> float:
    return float(re.search(r"predicted score: (\S+)", text).group(1))


def test_predicts_with_a_held_out_report(runs, capsys):
    capsys.readouterr()
    assert main(["predict", "--study", "nb", CONV]) == 0
    conv = capsys.readouterr().out
    assert "surrogate on 40 trials" in conv
    assert "held-out MAE" in conv and "mean predictor" in conv
    (runs / "empty.json").write_text(EMPTY)
    assert main(["predict", "--study", "nb", str(runs / "empty.json")]) == 0
    assert predicted(conv) > predicted(capsys.readouterr().out)


def test_unknown_paths_are_pointed_out(runs, capsys):
    assert main(["predict", "--study", "nb", json.dumps({"conv.filters": 64})]) == 0
    assert "no trial of the study has ['conv.filters']" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "{}"])
def test_bad_values_exit_2(runs, capsys, text):
    assert main(["predict", "--study", "nb", text]) == 2
    assert "VALUES_JSON" in capsys.readouterr().err


def test_a_value_outside_its_domain_is_named(runs, capsys):
    capsys.readouterr()
    bad = json.dumps({**json.loads(CONV), edge_path(EDGES[0]): "conv_9x9"})
    assert main(["predict", "--study", "nb", bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and repr(edge_path(EDGES[0])) in err and "'conv_9x9'" in err
    assert "allowed: one of [" in err
