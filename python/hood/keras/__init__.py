"""hood.keras — Keras' API for hood's models: `from hood.keras import Sequential` and
`from hood.keras.layers import Dense` replace the keras imports of Sequential/Dense code."""
from . import callbacks, layers, models, optimizers, utils
from .layers import Dense, Flatten, Input
from .models import Sequential, load_model

__all__ = ["Sequential", "Dense", "Flatten", "Input", "load_model", "callbacks", "layers",
           "models", "optimizers", "utils"]
