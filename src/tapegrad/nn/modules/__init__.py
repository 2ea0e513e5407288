"""The layers of tapegrad.nn, one family per module."""

from .activation import (
                         ELU,
                         GELU,
                         Hardtanh,
                         LeakyReLU,
                         LogSoftmax,
                         Mish,
                         ReLU,
                         ReLU6,
                         Sigmoid,
                         SiLU,
                         Softmax,
                         Softplus,
                         Tanh,
)
from .activation_attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout
from .extra import GLU, Fold, LogSigmoid, Softsign, Unfold, Upsample
from .flatten import Flatten, Identity, Unflatten
from .linear import Bilinear, Linear
from .loss import (
                         BCELoss,
                         BCEWithLogitsLoss,
                         CrossEntropyLoss,
                         HuberLoss,
                         KLDivLoss,
                         L1Loss,
                         MSELoss,
                         NLLLoss,
                         SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .pooling import (
                         AdaptiveAvgPool1d,
                         AdaptiveAvgPool2d,
                         AdaptiveMaxPool1d,
                         AdaptiveMaxPool2d,
                         AvgPool1d,
                         AvgPool2d,
                         MaxPool1d,
                         MaxPool2d,
                         MaxUnpool1d,
                         MaxUnpool2d,
)
from .rnn import GRU, LSTM, RNN
from .sparse import Embedding

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Flatten",
           "Unflatten", "Linear", "Bilinear", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU",
           "Mish", "Softplus", "Tanh", "Sigmoid", "Hardtanh", "ReLU6", "Softmax",
           "LogSoftmax", "Dropout", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
           "Conv1d", "Conv2d", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d", "LayerNorm",
           "GroupNorm", "BatchNorm1d", "BatchNorm2d", "Embedding", "ConvTranspose2d",
           "AdaptiveAvgPool2d", "MultiheadAttention", "RNN", "LSTM", "GRU", "AdaptiveAvgPool1d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d",
           "LogSigmoid", "Softsign", "GLU", "Unfold", "Fold", "Upsample"]
