"""DeepArchitect's README space (README.md).

Source: negrinho/deep_architect@3427c5d, MIT license (see LICENSE-deep_architect.md).
Only the imports differ: da_bridge.compat.deep_architect, Keras helpers and layers -> stand-ins; the script part (data, training) is left out.
"""
# ruff: noqa
from da_standins import Dense, Dropout, hke

import da_bridge.compat.deep_architect.modules as mo
import da_bridge.compat.deep_architect.hyperparameters as hp
import da_bridge.compat.deep_architect.core as co
from da_bridge.compat.deep_architect.searchers.common import random_specify

batch_size = 128
num_classes = 10
epochs = 20

D = hp.Discrete


def dense(h_units, h_activation):
    return hke.siso_keras_module_from_keras_layer_fn(Dense, {
        'units': h_units,
        'activation': h_activation
    })


def dropout(h_rate):
    return hke.siso_keras_module_from_keras_layer_fn(Dropout, {'rate': h_rate})


def cell(h_units, h_activation, h_rate, h_opt_drop):
    return mo.siso_sequential([
        dense(h_units, h_activation),
        mo.siso_optional(lambda: dropout(h_rate), h_opt_drop)
    ])


def model_search_space():
    h_activation = D(['relu', 'sigmoid'])
    h_rate = D([0.0, 0.25, 0.5])
    h_num_repeats = D([1, 2, 4])
    return mo.siso_sequential([
        mo.siso_repeat(
            lambda: cell(
                D([256, 512, 1024]), h_activation, D([0.2, 0.5, 0.7]), D([0, 1])
            ), h_num_repeats),
        dense(D([num_classes]), D(['softmax']))
    ])


