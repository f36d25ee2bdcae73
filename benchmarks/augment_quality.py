"""Quality of the augmentation policy search: 300 training digits, no augmentation vs a random
policy vs the best policy after 30 trials, over 3 seeds.

Protocol. For each seed, sklearn's 1,797 digits are split (stratified, by the seed) into 300
training images, 500 validation images the search scores on, and 997 test images nobody
looks at until the end. A policy is scored by `SklearnEvaluator`: an RBF `SVC` on raw
pixels (sensitive to small shifts, so augmentation can help) trained on the 300 images plus
4 augmented copies (1,500 images), accuracy on the validation images; the seed also seeds
the augmentation draws. Methods, all in `autoaugment_space(5, 2)` (all 16 ops):

- `none`: no augmentation (the 300 images only).
- `random policy`: one policy sampled from the space with the seed.
- `searched policy`: the best of 30 trials of `da_bridge.search` (Optuna TPE, seeded).

"valid" is the validation accuracy (for the searched policy the best of 30 noisy estimates,
so optimistic); "test" is the accuracy on the 997 untouched images (unbiased). "gain" is
the paired difference to `none` on the same seed. The goal of issue 8: the searched policy
beats no augmentation by a margin larger than the seeds' spread; the verdict lines check
it on the test accuracy, unpaired (margin of the means vs the larger std of the two
methods) and paired (mean gain vs the std of the gains).

Recorded results (SVC and CNN evaluators) and what they mean: docs/howto/augment.md.

Usage:
    python benchmarks/augment_quality.py [--quick] [--trials 30] [--seeds 0 1 2]
                                         [--searcher optuna] [--evaluator sklearn|cnn]
"""

from __future__ import annotations

import argparse
import statistics
import time

import da_bridge
from da_bridge.spaces.augment import (
    DEFAULT_OPS,
    CNNEvaluator,
    SklearnEvaluator,
    autoaugment_space,
    load_data,
    to_policy,
)

from _common import machine, mean_std, quiet, std

METHODS = ("none", "random policy", "searched policy")


def measure(seed: int, args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    """`{method: (valid accuracy, test accuracy, seconds)}` for one seed."""
    data = load_data("digits", train_size=300, valid_size=500, seed=seed)
    if args.evaluator == "sklearn":
        evaluator = SklearnEvaluator(data, copies=args.copies, seed=seed)
    else:
        evaluator = CNNEvaluator(data, copies=args.copies, epochs=args.epochs, seed=seed)
    space = autoaugment_space(5, 2, ops=args.ops)
    rows = {}
    for method in METHODS:
        started = time.perf_counter()
        if method == "none":
            arch = None
        elif method == "random policy":
            arch = space.sample(seed)
        else:
            result = da_bridge.search(space, evaluator, args.searcher, n_trials=args.trials,
                                      direction="maximize", seed=seed, storage=":memory:")
            arch = result.best_architecture
        valid, test = evaluator(arch), evaluator.score(arch, on="test")
        rows[method] = (valid, test, time.perf_counter() - started)
        print(f"  seed {seed} {method:<16} valid {valid:.4f}  test {test:.4f}  "
              f"{rows[method][2]:6.1f} s", flush=True)
        if arch is not None and method == "searched policy":
            print("    " + to_policy(arch).describe(multiline=True).replace("\n", "\n    "))
    return rows


def table(results: dict[str, list[tuple[float, float, float]]], args) -> str:
    head = (f"{'method':<18}{'valid':>17}{'test':>17}{'valid gain':>18}{'test gain':>18}"
            f"{'time s':>9}")
    ops = "all ops" if list(args.ops) == list(DEFAULT_OPS) else ",".join(args.ops)
    lines = [f"accuracy on digits, 300 training images, {args.evaluator} evaluator, "
             f"{args.copies} copies, {args.trials} trials, autoaugment_space(5, 2) over {ops}; "
             f"mean ± std over seeds {args.seeds}",
             head, "-" * len(head)]
    none = results["none"]
    for method in METHODS:
        rows = results[method]
        gains = [[r[k] - n[k] for r, n in zip(rows, none)] for k in (0, 1)]
        lines.append(f"{method:<18}{mean_std([r[0] for r in rows]):>17}"
                     f"{mean_std([r[1] for r in rows]):>17}"
                     f"{mean_std(gains[0], signed=True):>18}{mean_std(gains[1], signed=True):>18}"
                     f"{statistics.mean(r[2] for r in rows):>9.1f}")
    return "\n".join(lines + [""] + verdict(results))


def verdict(results: dict[str, list[tuple[float, float, float]]]) -> list[str]:
    lines = []
    for k, name in ((1, "test"), (0, "valid")):
        best = [r[k] for r in results["searched policy"]]
        none = [r[k] for r in results["none"]]
        gains = [b - n for b, n in zip(best, none)]
        margin = statistics.mean(best) - statistics.mean(none)
        spread = max(std(best), std(none))
        lines.append(
            f"{name:>5}: margin {margin:+.4f}; unpaired spread (larger std) {spread:.4f} -> "
            f"{'met' if margin > spread else 'NOT met'}; paired: gain std {std(gains):.4f}, "
            f"every seed gains: {all(g > 0 for g in gains)} -> "
            f"{'met' if margin > std(gains) and all(g > 0 for g in gains) else 'NOT met'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 trials, seed 0 only")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--searcher", default="optuna",
                        choices=sorted(da_bridge.study.runner.SEARCHERS))
    parser.add_argument("--evaluator", choices=("sklearn", "cnn"), default="sklearn")
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=20, help="CNN epochs")
    parser.add_argument("--ops", nargs="+", default=list(DEFAULT_OPS),
                        help="the ops of the space (default: all 16)")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.seeds = 5, [0]
    quiet()
    print(f"{machine()}, {args.trials} trials, "
          f"seeds {args.seeds}, searcher {args.searcher}", flush=True)
    results: dict[str, list] = {method: [] for method in METHODS}
    for seed in args.seeds:
        for method, row in measure(seed, args).items():
            results[method].append(row)
    print()
    print(table(results, args))


if __name__ == "__main__":
    main()
