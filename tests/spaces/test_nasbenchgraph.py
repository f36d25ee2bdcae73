"""NAS-Bench-Graph: the structural space, the tabular evaluator, the CLI task.

Reference numbers are entries of nas-bench-graph 1.4.0's package data,
`nas_bench_graph/light/<dataset>.bench` (read with its `light_read`), under
the key `Arch(link, ops).valid_hash()`, copied here by hand. The cora optimum
is the best `valid_perf` of the whole table (Qin et al., NeurIPS 2022
Datasets and Benchmarks).
"""

from __future__ import annotations

import pytest

from da_bridge import DomainError
from da_bridge.cli import main
from da_bridge.spaces.nasbenchgraph import (
    LINK_PATTERNS,
    OPERATIONS,
    OPERATIONS_PROTEINS,
    NASBenchGraphEvaluator,
    macro_architecture,
    nasbenchgraph_space,
    node_path,
)

# (dataset, link, ops, stored entry)
PUBLISHED = [
    ("cora", "0123", ["fc", "gat", "fc", "gin"],
     {"valid_perf": 0.8193333333333334, "perf": 0.8263333333333334, "para": 0.634631}),
    ("cora", "0123", ["skip", "skip", "gcn", "gcn"],
     {"valid_perf": 0.7913333333333333, "perf": 0.8016666666666667, "para": 0.502535}),
    ("citeseer", "0012", ["gcn", "gat", "sage", "fc"],
     {"valid_perf": 0.7113333333333333, "perf": 0.6883333333333334, "para": 2.228998}),
    ("pubmed", "0112", ["gcn", "cheb", "gin", "fc"],
     {"valid_perf": 0.79, "perf": 0.7693333333333333, "para": 0.131843}),
    ("proteins", "0000", ["gcn", "sage", "arma", "fc"],
     {"valid_perf": 0.799, "perf": 0.7504814235200724, "para": 0.755312}),
]


def values(link, ops):
    return {"link": link, **{node_path(k): op for k, op in enumerate(ops, start=1)}}


def test_link_pattern_is_chosen_before_the_operations_appear():
    space = nasbenchgraph_space()
    u = space.unfold()
    assert [h.name for h in u.pending()] == ["link"]
    u.assign("0012")
    assert [h.name for h in u.pending()] == [node_path(k) for k in range(1, 5)]
    assert space.count() == len(LINK_PATTERNS) * len(OPERATIONS) ** 4


def test_link_pattern_wires_the_nodes():
    arch = nasbenchgraph_space().replay(values("0013", ["gcn", "gat", "sage", "fc"]))
    # node 1 and 2 read the features, node 3 reads node 1, node 4 reads node 3
    assert arch.forward({"in": "x"}) == {"out": "output(gat(x), fc(sage(gcn(x))))"}
    assert macro_architecture(arch) == ([0, 0, 1, 3], ["gcn", "gat", "sage", "fc"])


@pytest.mark.parametrize(("dataset", "link", "ops", "entry"), PUBLISHED)
def test_evaluator_returns_the_published_values(dataset, link, ops, entry):
    evaluate = NASBenchGraphEvaluator(dataset)
    space = nasbenchgraph_space(evaluate.operations)
    arch = space.replay(values(link, ops))
    stored = evaluate.query(arch)
    for metric, expected in entry.items():
        assert stored[metric] == pytest.approx(expected, abs=1e-12)
    assert evaluate(arch) == stored["valid_perf"]
    assert NASBenchGraphEvaluator(dataset, metric="perf")(arch) == stored["perf"]


def test_optimum_is_the_best_table_entry():
    score, best = NASBenchGraphEvaluator("cora").optimum()
    assert score == pytest.approx(0.8193333333333334)
    assert NASBenchGraphEvaluator("cora")(best) == score


def test_isomorphic_architectures_share_one_entry():
    evaluate = NASBenchGraphEvaluator("cora")
    assert evaluate(values("0000", ["gcn", "sage", "arma", "fc"])) == \
        evaluate(values("0000", ["fc", "arma", "sage", "gcn"])) == pytest.approx(0.7366666666)


def test_proteins_has_its_own_operations():
    evaluate = NASBenchGraphEvaluator("proteins")
    assert evaluate.operations == OPERATIONS_PROTEINS
    assert nasbenchgraph_space(OPERATIONS_PROTEINS).count() == 9 * 5 ** 4
    with pytest.raises(DomainError, match=r"macro/node_1\.op"):
        evaluate(values("0000", ["gat", "gcn", "gcn", "gcn"]))


def test_bad_input_names_what_is_wrong():
    evaluate = NASBenchGraphEvaluator("cora")
    with pytest.raises(DomainError, match="skip"):
        evaluate(values("0123", ["skip"] * 4))
    with pytest.raises(DomainError, match="link"):
        evaluate(values("1234", ["gcn"] * 4))
    with pytest.raises(DomainError, match=r"macro/node_4\.op"):
        evaluate({k: v for k, v in values("0123", ["gcn"] * 4).items() if k != node_path(4)})
    with pytest.raises(DomainError, match="dataset"):
        NASBenchGraphEvaluator("reddit")


def test_cli_task_searches_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path))
    code = main(["search", "nasbenchgraph", "--dataset", "citeseer", "--trials", "8",
                 "--study", "g", "--seed", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "table optimum on citeseer" in out
    assert "Arch([" in out
