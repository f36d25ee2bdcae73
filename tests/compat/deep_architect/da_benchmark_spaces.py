"""DeepArchitect's benchmark spaces (examples/benchmarks/search_spaces.py): 'dnn' and 'conv'.

Source: negrinho/deep_architect@3427c5d, MIT license (see LICENSE-deep_architect.md).
Only the imports differ: da_bridge.compat.deep_architect and the ported da_dnn / da_cnn2d.
"""
# ruff: noqa
import da_dnn as css_dnn
import da_cnn2d as css_cnn2d
from da_standins import D
import da_bridge.compat.deep_architect.modules as mo


def get_dnn_search_space_fn(num_classes):
    return mo.SearchSpaceFactory(
        lambda: css_dnn.dnn_net(num_classes)).get_search_space


def get_conv_search_space_fn(num_classes):

    def search_space_fn():
        h_num_spatial_reductions = D([2, 3, 4])
        h_pool_op = D(['max', 'avg'])
        return mo.siso_sequential([
            css_cnn2d.conv_net(h_num_spatial_reductions),
            css_cnn2d.spatial_squeeze(h_pool_op, D([num_classes]))
        ])

    return mo.SearchSpaceFactory(search_space_fn).get_search_space


name_to_search_space_fn = {
    'dnn': get_dnn_search_space_fn,
    'conv': get_conv_search_space_fn,
}
