"""`deep_architect.surrogates.common`: `SurrogateModel` and `extract_features`.

`extract_features(inputs, outputs)` returns DeepArchitect's three lists of
strings for a specified architecture: module names, connections
(`"module:out |-> module:in"`) and module hyperparameters
(`"module/property : name = value"`). Names are the engine's paths, which
are stable across instances of one space (DeepArchitect's were counter-based
names, reset per sample); ports are named `module:port`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from da_bridge.compat.deep_architect import core as co
from da_bridge.modules import Input, Output

__all__ = ["SurrogateModel", "extract_features"]


class SurrogateModel:
    """A performance predictor for SMBO: `eval(feats)` predicts, `update(val, feats)`
    learns (higher is better, as the searchers' `update`)."""

    def eval(self, feats: Mapping[str, list[str]]) -> float:
        raise NotImplementedError

    def update(self, val: float, feats: Mapping[str, list[str]]) -> None:
        raise NotImplementedError


def _port_name(port: Input | Output) -> str:
    return f"{port.module.path}:{port.name}"


def extract_features(inputs: Mapping[str, Input], outputs: Mapping[str, Output]
                     ) -> dict[str, list[str]]:
    """String features of a specified architecture, by kind (DeepArchitect's).

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> from da_bridge.compat.deep_architect.searchers.common import random_specify
        >>> inputs, outputs = mo.SearchSpaceFactory(
        ...     lambda: mo.siso_repeat(mo.identity, D([2]))).get_search_space()
        >>> _ = random_specify(outputs)
        >>> extract_features(inputs, outputs)["connection_feats"][1]
        'SISORepeat/0/Identity:out |-> SISORepeat/1/Identity:in'
    """
    modules: list[Any] = []
    co.traverse_backward(outputs, modules.append)
    module_feats: list[str] = []
    connection_feats: list[str] = []
    module_hyperp_feats: list[str] = []
    for m in modules:
        name = m.get_name()
        module_feats.append(name)
        for port in m.outputs.values():
            connection_feats.extend(f"{_port_name(port)} |-> {_port_name(target)}"
                                    for target in port.targets)
        for local_name, h in m.get_hyperps().items():
            if isinstance(h, co.BoundHyperparameter):
                h_name, value = h.get_name(), h.get_value()
            else:  # a fixed value (DeepArchitect wrapped these as one-value hyperparameters)
                h_name, value = f"{name}.{local_name}", h
            module_hyperp_feats.append(f"{name}/{local_name} : {h_name} = {value}")
    return {"module_feats": module_feats, "connection_feats": connection_feats,
            "module_hyperp_feats": module_hyperp_feats}
