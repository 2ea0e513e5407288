"""tapegrad.utils: data loading (utils.data), as in torch.utils."""

from . import data
