"""tapegrad.nn: Module, parameters, layers, losses, init and functional, as in torch.nn."""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter

__all__ = ["Parameter", "Buffer", "init", "functional", "utils", *_modules_all]
