"""tapegrad.utils: data loading (utils.data) and activation checkpointing
(utils.checkpoint), as in torch.utils."""

from . import checkpoint, data
