"""Framework-free stand-ins for DeepArchitect's framework helpers and ops.

DeepArchitect's helpers (`helpers.keras_support`, `helpers.tensorflow_support`,
`helpers.tensorflow_eager_support`) and its `deep_learning_backend` ops need
Keras 2 / TensorFlow 1. The ported spaces import these stand-ins instead: same
names and signatures, built on `da_bridge.compat.deep_architect.core.Module`, and
each module's forward appends a label to the list it receives, so a forward pass
returns the layers an architecture applies, in order. `tf` is a stub namespace for
the few compile functions that name TensorFlow; they are never run by the tests.
"""

import json
from types import SimpleNamespace

import da_bridge.compat.deep_architect.core as co
from da_bridge.compat.deep_architect.hyperparameters import D


class StandInModule(co.Module):
    """DeepArchitect's `TensorflowModule` / `KerasModule` shape: `compile_fn(di, dh)`."""

    def __init__(self, name, compile_fn, name_to_hyperp, input_names, output_names,
                 scope=None):
        co.Module.__init__(self, scope, name)
        self._register(input_names, output_names, name_to_hyperp)
        self._compile_fn_da = compile_fn

    def _compile(self):
        di = {name: port.val for name, port in self.inputs.items()}
        dh = {name: h.get_value() if isinstance(h, co.BoundHyperparameter) else h
              for name, h in self.get_hyperps().items()}
        compiled = self._compile_fn_da(di, dh)
        self._forward_fn = compiled[0] if isinstance(compiled, tuple) else compiled

    def _forward(self):
        di = {name: port.val for name, port in self.inputs.items()}
        for name, value in self._forward_fn(di).items():
            self.outputs[name].val = value


def _trace(label):
    """A compile function whose forward appends `label(values)` to the merged inputs."""
    def compile_fn(di, dh):
        text = label + "".join(f"[{k}={v}]" for k, v in sorted(dh.items()))

        def forward_fn(di, is_training=True):
            merged = [x for name in sorted(di) for x in di[name]]
            return {"out": merged + [text]}

        return forward_fn

    return compile_fn


def siso_module(name, compile_fn, name_to_hyperp, scope=None):
    return StandInModule(name, compile_fn, name_to_hyperp, ["in"], ["out"], scope).get_io()


def siso_module_from_layer_fn(layer_fn, name_to_hyperp, scope=None, name=None):
    name = name or getattr(layer_fn, "__name__", "Layer")
    return siso_module(name, _trace(name), name_to_hyperp, scope)


# helpers.keras_support, helpers.tensorflow_support, helpers.tensorflow_eager_support
hke = SimpleNamespace(KerasModule=StandInModule, siso_keras_module=siso_module,
                      siso_keras_module_from_keras_layer_fn=siso_module_from_layer_fn)
htf = SimpleNamespace(TensorflowModule=StandInModule, siso_tensorflow_module=siso_module)
htfe = SimpleNamespace(
    TensorflowEagerModule=StandInModule, siso_tensorflow_eager_module=siso_module,
    siso_tensorflow_eager_module_from_tensorflow_op_fn=siso_module_from_layer_fn)
siso_tensorflow_module = siso_module


# deep_learning_backend ops, same signatures
def _op(name, **hyperps):
    return siso_module(name, _trace(name), hyperps)


def relu():
    return _op("ReLU")


def batch_normalization():
    return _op("BatchNormalization")


def conv2d(h_num_filters, h_filter_width, h_stride=1, h_dilation_rate=1, h_use_bias=True,
           h_padding="SAME"):
    return _op("Conv2D", num_filters=h_num_filters, filter_width=h_filter_width,
               stride=h_stride, dilation_rate=h_dilation_rate, use_bias=h_use_bias,
               padding=h_padding)


def separable_conv2d(h_num_filters, h_filter_width, h_stride=1, h_dilation_rate=1,
                     h_use_bias=True, h_padding="SAME"):
    return _op("SeparableConv2D", num_filters=h_num_filters, filter_width=h_filter_width,
               stride=h_stride, dilation_rate=h_dilation_rate, use_bias=h_use_bias,
               padding=h_padding)


def max_pool2d(h_kernel_size, h_stride=1, h_padding="SAME"):
    return _op("MaxPool2D", kernel_size=h_kernel_size, stride=h_stride, padding=h_padding)


def min_pool2d(h_kernel_size, h_stride=1, h_padding="SAME"):
    return _op("MinPool2D", kernel_size=h_kernel_size, stride=h_stride, padding=h_padding)


def avg_pool2d(h_kernel_size, h_stride=1, h_padding="SAME"):
    return _op("AvgPool2D", kernel_size=h_kernel_size, stride=h_stride, padding=h_padding)


def dropout(h_keep_prob):
    return _op("Dropout", keep_prob=h_keep_prob)


def global_pool2d():
    return _op("GlobalAveragePooling2D")


def flatten():
    return _op("Flatten")


def fc_layer(h_num_units):
    return _op("Dense", num_units=h_num_units)


def add(num_inputs):
    return StandInModule("Add", _trace("Add"), {}, [f"in{i}" for i in range(num_inputs)],
                         ["out"]).get_io()


# Keras layer classes for `siso_keras_module_from_keras_layer_fn(Dense, ...)`
def Dense(**kwargs):  # noqa: N802 - Keras's name
    raise NotImplementedError("stand-in: only its name is used")


def Dropout(**kwargs):  # noqa: N802
    raise NotImplementedError("stand-in: only its name is used")


def BatchNormalization(**kwargs):  # noqa: N802
    raise NotImplementedError("stand-in: only its name is used")


def Activation(name):  # noqa: N802
    return lambda x: x + [f"Activation[{name}]"]


class _StubType(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return stub(f"{cls.__name__}.{name}")


class _Stub(metaclass=_StubType):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return stub(type(self).__name__ + "()")()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return stub(f"{type(self).__name__}.{name}")()

    def __getitem__(self, key):
        return self


def stub(name):
    """A stand-in for any TensorFlow name: attributes, calls and subclassing all work."""
    return _StubType(name, (_Stub,), {})


tf = stub("tf")
tf_utils = stub("tf_utils")
__all__ = ["D", "hke", "htf", "htfe", "tf"]

# deep_architect.utils, as the hierarchical space uses it
ut = SimpleNamespace(json_object_to_json_string=lambda d: json.dumps(d, sort_keys=True))

# tensorflow.keras.layers names the hierarchical space passes to the op-fn helper
GlobalAveragePooling2D = stub("GlobalAveragePooling2D")
Conv2D = stub("Conv2D")
DepthwiseConv2D = stub("DepthwiseConv2D")
SeparableConv2D = stub("SeparableConv2D")
MaxPooling2D = stub("MaxPooling2D")
AveragePooling2D = stub("AveragePooling2D")
Concatenate = stub("Concatenate")
