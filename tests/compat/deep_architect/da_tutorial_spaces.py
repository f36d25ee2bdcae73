"""DeepArchitect tutorial spaces (docs/source/tutorials/search_space_constructs.rst).

Source: negrinho/deep_architect@3427c5d, MIT license (see LICENSE-deep_architect.md).
Only the imports differ (da_bridge.compat.deep_architect; Keras helpers -> stand-ins).
"""
# ruff: noqa
from da_standins import Dense, hke

import da_bridge.compat.deep_architect.core as co
import da_bridge.compat.deep_architect.modules as mo
import da_bridge.compat.deep_architect.hyperparameters as hp
from da_bridge.compat.deep_architect.searchers.common import random_specify, specify

D = hp.Discrete
wrap_search_space_fn = lambda fn: mo.SearchSpaceFactory(fn).get_search_space


def dense(h_units, h_activation):
    return hke.siso_keras_module_from_keras_layer_fn(Dense, {
        "units": h_units,
        "activation": h_activation
    })


def search_space0():
    return mo.siso_sequential([
        dense(D([32, 64, 128, 256]), D(["relu", "sigmoid"])),
        dense(D([32, 64, 128, 256]), D(["relu", "sigmoid"])),
        dense(D([10]), D(["softmax"]))
    ])


def search_space1():
    h_activation = D(["relu", "sigmoid"])
    return mo.siso_sequential([
        dense(D([32, 64, 128, 256]), h_activation),
        dense(D([32, 64, 128, 256]), h_activation),
        dense(D([10]), D(["softmax"]))
    ])


def search_space2():
    h_activation = D(["relu", "sigmoid"])
    h_units = D([32, 64, 128, 256])
    h_units_dep = co.DependentHyperparameter(lambda dh: 2 * dh["units"],
                                             {"units": h_units})

    return mo.siso_sequential([
        dense(h_units, h_activation),
        dense(h_units_dep, h_activation),
        dense(D([10]), D(["softmax"]))
    ])


def search_space3():
    h_activation = D(["relu", "sigmoid"])
    h_units = D([32, 64, 128, 256])
    h_units_dep = co.DependentHyperparameter(lambda dh: 2 * dh["units"],
                                             {"units": h_units})
    h_opt = D([0, 1])

    return mo.siso_sequential([
        dense(h_units, h_activation),
        mo.siso_optional(lambda: dense(h_units_dep, h_activation), h_opt),
        dense(D([10]), D(["softmax"]))
    ])


def search_space4():
    h_activation = D(["relu", "sigmoid"])
    h_units = D([32, 64, 128, 256])
    h_units_dep = co.DependentHyperparameter(lambda dh: 2 * dh["units"],
                                             {"units": h_units})
    h_opt = D([0, 1])
    h_num_repeats = D([1, 2, 4])

    return mo.siso_sequential([
        mo.siso_repeat(lambda: dense(h_units, h_activation), h_num_repeats),
        mo.siso_optional(lambda: dense(h_units_dep, h_activation), h_opt),
        dense(D([10]), D(["softmax"]))
    ])


def search_space5():
    h_activation = D(["relu", "sigmoid"])
    h_units = D([32, 64, 128, 256])
    h_units_dep = co.DependentHyperparameter(lambda dh: 2 * dh["units"],
                                             {"units": h_units})
    h_opt = D([0, 1])
    h_num_repeats = D([1, 2, 4])

    return mo.siso_sequential([
        mo.siso_repeat(lambda: dense(h_units, h_activation), h_num_repeats),
        mo.siso_optional(
            lambda: mo.siso_repeat(lambda: dense(h_units_dep, h_activation),
                                   h_num_repeats), h_opt),
        dense(D([10]), D(["softmax"]))
    ])


