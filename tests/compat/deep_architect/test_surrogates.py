"""DeepArchitect's surrogates and its SMBO loop over them, on a ported space.

The loop is DeepArchitect's (`searchers/smbo_random.py`, `smbo_mcts.py`) as its users
write it: sample, forward, score, update. The score is minus the number of layers a
forward pass applies, so the best architectures are the shortest ones.
"""

from __future__ import annotations

import da_readme_space
import pytest

import da_bridge.compat.deep_architect.core as co
import da_bridge.compat.deep_architect.modules as mo
from da_bridge import OptionError
from da_bridge.compat.deep_architect.searchers.common import random_specify
from da_bridge.compat.deep_architect.searchers.smbo_mcts import SMBOSearcherWithMCTSOptimizer
from da_bridge.compat.deep_architect.searchers.smbo_random import SMBOSearcher
from da_bridge.compat.deep_architect.surrogates.common import extract_features
from da_bridge.compat.deep_architect.surrogates.dummy import DummySurrogate
from da_bridge.compat.deep_architect.surrogates.hashing import HashingSurrogate

SPACE = da_readme_space.model_search_space


def _random_architecture(seed):
    import numpy as np

    np.random.seed(seed)
    inputs, outputs = mo.SearchSpaceFactory(SPACE).get_search_space()
    random_specify(outputs)
    co.forward({inputs["in"]: ["x"]})
    return extract_features(inputs, outputs), -len(outputs["out"].val)


def test_extract_features_names_modules_connections_and_values():
    feats, _ = _random_architecture(0)
    assert set(feats) == {"module_feats", "connection_feats", "module_hyperp_feats"}
    assert "Dense" in feats["module_feats"]  # the softmax head, at the top scope
    assert any(f.endswith("|-> Dense:in") for f in feats["connection_feats"])
    assert "Dense/activation : Dense.activation = softmax" in feats["module_hyperp_feats"]
    assert len(feats["connection_feats"]) == len(feats["module_feats"]) - 1  # a chain


def test_hashing_surrogate_learns_from_its_updates():
    data = [_random_architecture(seed) for seed in range(40)]
    surrogate = HashingSurrogate(hash_size=2048, refit_interval=10)
    assert {surrogate.eval(f) for f, _ in data} == {0.0}  # no model before the first refit
    for feats, score in data[:9]:
        surrogate.update(score, feats)
    assert surrogate.model is None
    for feats, score in data[9:30]:
        surrogate.update(score, feats)
    predictions = [surrogate.eval(f) for f, _ in data[30:]]
    assert len(set(predictions)) > 1
    # unseen architectures: the predictions rank them as the true scores do, mostly
    truth = [s for _, s in data[30:]]
    pairs = [(i, j) for i in range(10) for j in range(10) if truth[i] < truth[j]]
    agree = sum(predictions[i] < predictions[j] for i, j in pairs)
    assert pairs and agree > 0.75 * len(pairs)


def test_hashing_surrogate_refuses_no_features():
    with pytest.raises(OptionError, match="use_"):
        HashingSurrogate(64, 1, use_module_feats=False, use_connection_feats=False,
                         use_module_hyperp_feats=False, use_other_hyperp_feats=False)


def _run(searcher, n=30):
    scores = []
    for _ in range(n):
        inputs, outputs, _, token = searcher.sample()
        co.forward({inputs["in"]: ["x"]})
        scores.append(-len(outputs["out"].val))
        searcher.update(scores[-1], token)
    return scores


@pytest.mark.parametrize("make", [
    pytest.param(lambda s: SMBOSearcher(SPACE, s, 32, 0.1, seed=0), id="smbo_random"),
    pytest.param(lambda s: SMBOSearcherWithMCTSOptimizer(SPACE, s, 32, 0.1, 5, seed=0),
                 id="smbo_mcts"),
])
def test_deep_architects_smbo_loop_with_a_hashing_surrogate_finds_short_models(make):
    surrogate = HashingSurrogate(hash_size=1024, refit_interval=1)
    scores = _run(make(surrogate))
    assert len(surrogate.vals_lst) == 30 and surrogate.model is not None
    # a random architecture applies 5.5 layers on average (1, 2 or 4 cells of a dense
    # layer and an optional dropout, and the head); the last proposals are short ones
    assert sum(scores[-10:]) > sum(scores[:10])
    assert sorted(scores[-10:])[5] >= -4
    assert max(scores) == -3  # the shortest: input, one dense cell, the softmax head


def test_with_a_dummy_surrogate_the_loop_is_random_search():
    scores = _run(SMBOSearcher(SPACE, DummySurrogate(), 4, 0.0, seed=0), n=20)
    assert len(set(scores)) > 1
