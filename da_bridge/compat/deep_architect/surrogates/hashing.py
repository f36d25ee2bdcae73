"""`deep_architect.surrogates.hashing`: `HashingSurrogate`, ridge regression on hashed
features, over scikit-learn (imported on first use; install the `sklearn` extra).

As in DeepArchitect, each string of `extract_features` adds 1.0 to bucket
`hash(feature) % hash_size` of a sparse vector, and a `Ridge(alpha=
weight_decay_coeff)` is refit on every vector seen each `refit_interval`
updates; `eval` is 0.0 until the first refit. One difference: the hash is
CRC-32 of the UTF-8 string, not Python's `hash()`, which is salted per
process (DeepArchitect's predictions changed from run to run).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from da_bridge._imports import require
from da_bridge.compat.deep_architect.surrogates.common import SurrogateModel
from da_bridge.errors import OptionError

__all__ = ["HashingSurrogate"]

#: DeepArchitect's feature kinds, and the constructor flag of each.
KINDS = {"module_feats": "use_module_feats", "connection_feats": "use_connection_feats",
         "module_hyperp_feats": "use_module_hyperp_feats",
         "other_hyperp_feats": "use_other_hyperp_feats"}


class HashingSurrogate(SurrogateModel):
    """`HashingSurrogate(hash_size, refit_interval, weight_decay_coeff=1e-5,
    use_module_feats=True, use_connection_feats=True, use_module_hyperp_feats=True,
    use_other_hyperp_feats=True)`.

    Example:
        >>> s = HashingSurrogate(64, refit_interval=2)
        >>> s.update(1.0, {"module_feats": ["a"]}); s.eval({"module_feats": ["a"]})
        0.0
        >>> s.update(0.0, {"module_feats": ["b"]})  # the second update refits
        >>> s.eval({"module_feats": ["a"]}) > s.eval({"module_feats": ["b"]})
        True
    """

    def __init__(self, hash_size: int, refit_interval: int, weight_decay_coeff: float = 1e-5,
                 use_module_feats: bool = True, use_connection_feats: bool = True,
                 use_module_hyperp_feats: bool = True, use_other_hyperp_feats: bool = True
                 ) -> None:
        for name, value in (("hash_size", hash_size), ("refit_interval", refit_interval)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise OptionError(f"{name} must be an integer >= 1; got {value!r}")
        self.hash_size = hash_size
        self.refit_interval = refit_interval
        self.weight_decay_coeff = weight_decay_coeff
        self.feats_name_to_use_flag = {
            "connection_feats": use_connection_feats,
            "module_hyperp_feats": use_module_hyperp_feats,
            "module_feats": use_module_feats,
            "other_hyperp_feats": use_other_hyperp_feats}
        if not any(self.feats_name_to_use_flag.values()):
            raise OptionError("HashingSurrogate needs at least one kind of features; every "
                              f"use_* flag is False ({', '.join(KINDS.values())})")
        self.vecs_lst: list[Any] = []
        self.vals_lst: list[float] = []
        self.model: Any = None

    def eval(self, feats: Mapping[str, list[str]]) -> float:
        """The model's prediction for `feats`; 0.0 before the first refit."""
        if self.model is None:
            return 0.0
        return float(self.model.predict(self._feats2vec(feats))[0])

    def update(self, val: float, feats: Mapping[str, list[str]]) -> None:
        """Keep `(feats, val)`; refit on everything kept every `refit_interval` updates."""
        self.vecs_lst.append(self._feats2vec(feats))
        self.vals_lst.append(val)
        if len(self.vals_lst) % self.refit_interval == 0:
            self._refit()

    def _feats2vec(self, feats: Mapping[str, list[str]]) -> Any:
        sparse = require("scipy.sparse", "sklearn")
        counts: dict[int, float] = {}
        for name, fs in feats.items():
            if name not in self.feats_name_to_use_flag:
                raise OptionError(f"unknown feature kind {name!r}; expected one of "
                                  f"{list(KINDS)} (extract_features' keys)")
            if self.feats_name_to_use_flag[name]:
                for f in fs:
                    index = zlib.crc32(str(f).encode()) % self.hash_size
                    counts[index] = counts.get(index, 0.0) + 1.0
        columns = sorted(counts)
        return sparse.csr_matrix(([counts[c] for c in columns], ([0] * len(columns), columns)),
                                 shape=(1, self.hash_size))

    def _refit(self) -> None:
        sparse = require("scipy.sparse", "sklearn")
        np = require("numpy", "sklearn")
        if self.model is None:
            linear_model = require("sklearn.linear_model", "sklearn")
            self.model = linear_model.Ridge(alpha=self.weight_decay_coeff)
        self.model.fit(sparse.vstack(self.vecs_lst, format="csr"), np.array(self.vals_lst))
