"""Quick start: write a conditional space, look at it, search it with Optuna, replay the best.

The "network" here is framework-free (each layer writes its name), and the score is a made-up
trade-off between width and depth, so this runs in a few seconds anywhere:

    python examples/quickstart.py
"""

from __future__ import annotations

import os

import optuna

from da_bridge import (
    Bool,
    Dependent,
    Discrete,
    SearchSpace,
    basic,
    search,
    siso_optional,
    siso_or,
    siso_repeat,
    siso_sequential,
)

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))


def layer(kind: str, **hyperparameters):
    """A stand-in layer whose forward pass writes `kind[args](input)`."""
    def compile_fn(values):
        args = ",".join(f"{k}={v}" for k, v in sorted(values.items()))
        return lambda inputs: {"out": f"{kind}[{args}]({inputs['in']})"}

    return basic(kind, compile_fn, hyperparameters)


def build():
    h_blocks = Discrete([1, 2, 3])
    h_width = Discrete([16, 32, 64])
    return siso_sequential([
        layer("stem", width=h_width),
        siso_repeat(lambda: siso_or({
            "conv": lambda: layer("conv", kernel=Discrete([3, 5]), width=h_width),
            "mlp": lambda: layer("dense", units=Dependent(lambda v: 4 * v["w"], {"w": h_width})),
        }, Discrete(["conv", "mlp"])), h_blocks),
        siso_optional(lambda: layer("dropout", rate=Discrete([0.1, 0.3])), Bool()),
        layer("head"),
    ])


def score(arch) -> float:
    """Wider is better, but each block costs; dropout helps a little."""
    width = arch.values["stem.width"]
    blocks = arch.values["repeat.n"]
    convs = sum(v == "conv" for k, v in arch.values.items() if k.endswith("or.choice"))
    return width / 16 - 0.7 * blocks + 0.5 * convs + 0.2 * arch.values["optional.include"]


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = SearchSpace(build)
    print(f"{space.count()} architectures")
    u = space.unfold()
    print("the first choice:", u.next())
    u.assign(32)
    print("then:", u.next())
    print("a random architecture:", space.sample(0).values)
    result = search(space, score, n_trials=15 if FAST else 60, direction="maximize", seed=0,
                    study_name="quickstart-fast" if FAST else "quickstart",
                    storage=":memory:" if FAST else None)
    print(f"best score {result.best_score:.2f} with {result.best_values}")
    print("forward pass:", result.best_architecture.forward({"in": "x"})["out"])


if __name__ == "__main__":
    main()
