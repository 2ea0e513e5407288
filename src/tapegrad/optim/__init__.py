"""tapegrad.optim: optimizers that update parameters in place under no_grad."""

from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
