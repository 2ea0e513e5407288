"""The layers of tapegrad.nn, one family per module."""

from .container import ModuleDict, ModuleList, Sequential
from .flatten import Flatten, Identity, Unflatten
from .module import Module

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Flatten",
           "Unflatten"]
