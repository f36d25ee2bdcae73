"""What flows along the edges while a pipeline architecture is compiled.

Each module appends to an immutable chain of steps; a union merges the chains
of its branches. Branches of one union share the chain built before the fork
(the same objects), so the merge finds the fork point by identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from da_bridge.errors import SpaceError


@dataclass(frozen=True, eq=False)
class Step:
    """One pipeline step: a name and an unfitted estimator."""

    name: str
    estimator: Any


@dataclass(frozen=True, eq=False)
class Columns:
    """A column selection; the branch it starts becomes a `ColumnTransformer` entry."""

    name: str
    columns: Any


@dataclass(frozen=True, eq=False)
class Union:
    """Parallel branches whose outputs are concatenated."""

    name: str
    branches: tuple[tuple[str, Chain], ...]


Chain = tuple[Step | Columns | Union, ...]
EMPTY: Chain = ()


def extend(chain: Any, item: Step | Columns, name: str) -> Chain:
    """`chain` plus `item`; `name` is the module, for the error about a foreign input."""
    return check_chain(chain, f"the input of scikit-learn module {name!r}") + (item,)


def merge(name: str, keys: list[str], chains: list[Any]) -> Chain:
    """The chains of a union's branches as the shared prefix plus one `Union` step."""
    chains = [check_chain(chain, f"an input of union {name!r}") for chain in chains]
    shared = 0
    while all(len(c) > shared and c[shared] is chains[0][shared] for c in chains):
        shared += 1
    branches = tuple((key, chain[shared:]) for key, chain in zip(keys, chains))
    return chains[0][:shared] + (Union(name, branches),)


def check_chain(chain: Any, what: str) -> Chain:
    """`chain` if it is one; else a `SpaceError` saying `what` got something else."""
    if not isinstance(chain, tuple) or not all(
            isinstance(item, (Step, Columns, Union)) for item in chain):
        raise SpaceError(f"{what} is not a pipeline in the making (got {type(chain).__name__}): "
                         "build pipeline spaces from sklearn_module, select_columns and "
                         "siso_union, and compile them with to_pipeline")
    return chain
