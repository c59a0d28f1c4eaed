"""hood.keras.layers — the layers hood runs: Dense, plus Input and Flatten, which only say the
shape of the data before the first Dense. Keras' signatures and defaults; arguments hood cannot
honour are refused at construction (NotImplementedError), never ignored."""
import itertools
import math
import weakref

_counters = {}


def _unique_name(base):
    n = next(_counters.setdefault(base, itertools.count()))
    return base if n == 0 else "%s_%d" % (base, n)


def _activation_name(activation):
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation.lower()
    name = getattr(activation, "__name__", None)
    if name in ("linear", "relu", "tanh", "sigmoid", "softmax"):
        return name
    raise NotImplementedError("hood: activation %r: only the names linear, relu, tanh, sigmoid "
                              "and softmax are supported" % (activation,))


class _ModelRef:
    """A weak reference to the owning model, so model <-> layer makes no reference cycle (a
    dropped model frees its hood memory at once, not at the next garbage collection); pickled
    as nothing, the model re-attaches itself."""

    def __get__(self, obj, owner=None):
        ref = obj.__dict__.get("_model_ref") if obj is not None else None
        return ref() if ref is not None else None

    def __set__(self, obj, model):
        obj.__dict__["_model_ref"] = weakref.ref(model) if model is not None else None


def _state_without_model(obj):
    state = obj.__dict__.copy()
    state["_model_ref"] = None
    return state


class Layer:
    """Base of hood's layers (name, the model it belongs to)."""

    _model = _ModelRef()
    __getstate__ = _state_without_model

    def __init__(self, name=None, input_shape=None, input_dim=None, **kwargs):
        kwargs.pop("dtype", None)
        kwargs.pop("trainable", None)
        if kwargs:
            raise TypeError("unexpected arguments: %s" % ", ".join(sorted(kwargs)))
        self.name = name or _unique_name(type(self).__name__.lower())
        if input_dim is not None:
            input_shape = (int(input_dim),)
        self._input_shape = tuple(input_shape) if input_shape is not None else None
        self._model = None
        self._index = None  # position among the model's Dense layers

    def get_weights(self):
        return []

    def count_params(self):
        return 0


class InputLayer(Layer):
    """Input(shape=(...)): the shape of one sample, without the batch dimension."""

    def __init__(self, shape=None, batch_size=None, name=None, **kwargs):
        kwargs.pop("dtype", None)
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input(shape=(28, 28))")
        super().__init__(name=name or _unique_name("input_layer"), input_shape=tuple(shape),
                         **kwargs)
        self.shape = (None,) + tuple(shape)


def Input(shape=None, batch_size=None, name=None, **kwargs):
    """Keras' Input(shape): only as the first entry of a Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs)


class Flatten(Layer):
    """Flattens each sample; hood's data is already flat, so only before the first Dense."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)


class Dense(Layer):
    """Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform', ...),
    as Keras. Kernel initializers: glorot_uniform, he_normal, he_uniform, orthogonal, zeros;
    the bias starts at zero."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError("Dense: units must be a positive integer, got %r" % (units,))
        self.units = int(units)
        self.activation = _activation_name(activation)
        self.use_bias = bool(use_bias)
        if not isinstance(kernel_initializer, str):
            raise NotImplementedError("hood: kernel_initializer must be a name")
        self.kernel_initializer = kernel_initializer.lower()
        if bias_initializer not in ("zeros", "Zeros"):
            raise NotImplementedError("hood: the bias always starts at zeros")
        extras = [kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                  bias_constraint, lora_rank]
        if any(e is not None for e in extras):
            raise NotImplementedError("hood: regularizers, constraints and LoRA are not supported")

    def _model_weights(self):
        if self._model is None or self._index is None:
            raise ValueError("layer %s is not built: add it to a model and build it" % self.name)
        return self._model._layer_weights(self._index)

    def get_weights(self):
        """[kernel (in, units), bias (units,)] (no bias when use_bias=False)."""
        return self._model_weights()

    def set_weights(self, weights):
        self._model._set_layer_weights(self._index, weights)

    @property
    def kernel(self):
        return self.get_weights()[0]

    @property
    def bias(self):
        return self.get_weights()[1] if self.use_bias else None

    def count_params(self):
        if self._model is None or self._index is None:
            return 0
        return self._model._layer_params(self._index)

    def get_config(self):
        return {"name": self.name, "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer}


def _features(shape):
    return int(math.prod(shape))
