"""hood.keras.optimizers — SGD, Adam and RMSprop with Keras' signatures and defaults, turned into
hood_optimizer_config. learning_rate is a float (schedules go through callbacks)."""
import ctypes

from .. import _lib
from .._lib import check, lib
from .layers import _ModelRef, _state_without_model


class Optimizer:
    _kind = None
    _model = _ModelRef()  # weak: no model <-> optimizer cycle
    __getstate__ = _state_without_model

    def __init__(self, learning_rate, name, **kwargs):
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if kwargs.pop(key, None) is not None:
                raise NotImplementedError("hood: optimizer option %s is not supported" % key)
        if kwargs.pop("use_ema", False):
            raise NotImplementedError("hood: use_ema is not supported")
        for key in ("ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                    "gradient_accumulation_steps"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError("unexpected arguments: %s" % ", ".join(sorted(kwargs)))
        if callable(learning_rate):
            raise NotImplementedError("hood: learning_rate schedules: use the "
                                      "LearningRateScheduler callback")
        self._learning_rate = float(learning_rate)
        self.name = name
        self._model = None  # the Sequential compiled with this optimizer

    @property
    def learning_rate(self):
        if self._model is not None:
            return self._model._get_learning_rate()
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = float(value)
        if self._model is not None:
            self._model._set_learning_rate(self._learning_rate)

    def _config(self):
        cfg = _lib.new_options(_lib.OptimizerConfig, lib.hood_optimizer_config_init, self._kind)
        cfg.learning_rate = self._learning_rate
        self._fill(cfg)
        return cfg

    def _fill(self, cfg):
        pass

    def get_config(self):
        return {"name": self.name, "learning_rate": self._learning_rate}


class SGD(Optimizer):
    _kind = 0

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _fill(self, cfg):
        cfg.momentum, cfg.nesterov = self.momentum, self.nesterov


class Adam(Optimizer):
    _kind = 1

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if amsgrad:
            raise NotImplementedError("hood: amsgrad is not supported")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _fill(self, cfg):
        cfg.beta_1, cfg.beta_2, cfg.epsilon = self.beta_1, self.beta_2, self.epsilon


class RMSprop(Optimizer):
    _kind = 2

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name="rmsprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if centered:
            raise NotImplementedError("hood: centered RMSprop is not supported")
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)

    def _fill(self, cfg):
        cfg.rho, cfg.momentum, cfg.epsilon = self.rho, self.momentum, self.epsilon


_BY_KIND = {0: SGD, 1: Adam, 2: RMSprop}


def get(identifier):
    """An optimizer from a name ('SGD', 'adam', 'rmsprop'; Keras' defaults) or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if not isinstance(identifier, str):
        raise ValueError("optimizer must be a name or an Optimizer, got %r" % (identifier,))
    kind = ctypes.c_int()
    check(lib.hood_optimizer_parse(identifier.encode(), ctypes.byref(kind)))
    return _BY_KIND[kind.value]()


def _from_config(cfg):
    """The Optimizer of a loaded model's hood_optimizer_config."""
    if cfg.kind == 0:
        return SGD(cfg.learning_rate, cfg.momentum, cfg.nesterov)
    if cfg.kind == 1:
        return Adam(cfg.learning_rate, cfg.beta_1, cfg.beta_2, cfg.epsilon)
    return RMSprop(cfg.learning_rate, cfg.rho, cfg.momentum, cfg.epsilon)
