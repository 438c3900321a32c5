"""One home per layer kind (docs/design.md): fields, naming, analysis, numpy forward, PyTorch line.

Adding a kind = one class in one of these modules, listed in `KINDS`, plus its prose in
`explorer.content` and tests.
"""
from __future__ import annotations

from .activation import GELU, Hardsigmoid, Hardswish, LeakyReLU, ReLU, ReLU6, Sigmoid, SiLU, Tanh
from .base import Context, Facts, LayerSpec, Window
from .conv import Conv2d
from .linear import Linear
from .norm import BatchNorm2d
from .pool import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .regularise import Dropout, StochasticDepth
from .reshape import Flatten, Identity

# Order matters: the editor lists kinds in this order (the original twelve first).
KINDS: tuple[type[LayerSpec], ...] = (
    Conv2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Dropout,
    Flatten, Linear,
    ReLU6, SiLU, Hardswish, Hardsigmoid, GELU, Identity, AdaptiveMaxPool2d, StochasticDepth)
LAYER_TYPES: dict[str, type[LayerSpec]] = {cls.type: cls for cls in KINDS}

__all__ = ["KINDS", "LAYER_TYPES", "Context", "Facts", "LayerSpec", "Window", "Conv2d", "BatchNorm2d", "ReLU",
           "LeakyReLU", "Sigmoid", "Tanh", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "GELU", "MaxPool2d",
           "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout", "StochasticDepth", "Flatten",
           "Identity", "Linear"]
