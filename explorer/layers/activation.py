"""Element-wise activations: same shape in and out, no parameters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import Context, Facts, LayerSpec, Params, Shape, choice_field, number_field, py_num


@dataclass(frozen=True)
class _Activation(LayerSpec):
    """Element-wise activation: same shape out, no parameters."""
    category: ClassVar[str] = "activation"
    torch_class: ClassVar[str] = ""
    in_place: ClassVar[bool] = False      # written `inplace=True` when that is safe
    keeps_output: ClassVar[bool] = False  # PyTorch saves the output for backward
    op: ClassVar[str] = ""

    def analyse(self, ctx: Context) -> Facts:
        return Facts(ctx.shape, op=self.op or self.label)

    def saves_output(self, before: bool) -> bool:
        return self.keeps_output

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return f"nn.{self.torch_class}(inplace=True)" if self.in_place and in_place_ok else f"nn.{self.torch_class}()"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return getattr(nn, self.type)(x)


@dataclass(frozen=True)
class ReLU(_Activation):
    """nn.ReLU: max(0, x)."""
    type: ClassVar[str] = "relu"
    prefix: ClassVar[str] = "ReLU"
    label: ClassVar[str] = "ReLU"
    torch_class: ClassVar[str] = "ReLU"
    in_place: ClassVar[bool] = True
    keeps_output: ClassVar[bool] = True


@dataclass(frozen=True)
class LeakyReLU(_Activation):
    """nn.LeakyReLU: x for x ≥ 0, negative_slope·x below."""
    type: ClassVar[str] = "leaky_relu"
    prefix: ClassVar[str] = "LeakyReLU"
    label: ClassVar[str] = "LeakyReLU"
    editor_defaults: ClassVar[dict] = {"negative_slope": 0.1}
    negative_slope: float = number_field(0.01, -1e6, 1e6)

    def saves_output(self, before: bool) -> bool:
        return self.negative_slope >= 0

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        slope = "" if self.negative_slope == 0.01 else f"negative_slope={py_num(self.negative_slope)}"
        # PyTorch cannot backpropagate through an in-place LeakyReLU with a negative slope.
        inplace = "inplace=True" if self.negative_slope >= 0 and in_place_ok else ""
        return f"nn.LeakyReLU({', '.join(a for a in (slope, inplace) if a)})"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.leaky_relu(x, self.negative_slope)


@dataclass(frozen=True)
class Sigmoid(_Activation):
    """nn.Sigmoid: 1 / (1 + e^−x)."""
    type: ClassVar[str] = "sigmoid"
    prefix: ClassVar[str] = "Sigmoid"
    label: ClassVar[str] = "Sigmoid"
    torch_class: ClassVar[str] = "Sigmoid"
    keeps_output: ClassVar[bool] = True
    op: ClassVar[str] = "σ"


@dataclass(frozen=True)
class Tanh(_Activation):
    """nn.Tanh: the hyperbolic tangent."""
    type: ClassVar[str] = "tanh"
    prefix: ClassVar[str] = "Tanh"
    label: ClassVar[str] = "Tanh"
    torch_class: ClassVar[str] = "Tanh"
    keeps_output: ClassVar[bool] = True
    op: ClassVar[str] = "tanh"


@dataclass(frozen=True)
class ReLU6(_Activation):
    """nn.ReLU6: min(max(0, x), 6) (MobileNet)."""
    type: ClassVar[str] = "relu6"
    prefix: ClassVar[str] = "ReLU6_"
    label: ClassVar[str] = "ReLU6"
    torch_class: ClassVar[str] = "ReLU6"
    in_place: ClassVar[bool] = True
    keeps_output: ClassVar[bool] = True


@dataclass(frozen=True)
class SiLU(_Activation):
    """nn.SiLU: x·sigmoid(x), also called swish (EfficientNet)."""
    type: ClassVar[str] = "silu"
    prefix: ClassVar[str] = "SiLU"
    label: ClassVar[str] = "SiLU"
    torch_class: ClassVar[str] = "SiLU"


@dataclass(frozen=True)
class Hardswish(_Activation):
    """nn.Hardswish: x·ReLU6(x + 3)/6 (MobileNetV3)."""
    type: ClassVar[str] = "hardswish"
    prefix: ClassVar[str] = "Hardswish"
    label: ClassVar[str] = "Hardswish"
    torch_class: ClassVar[str] = "Hardswish"


@dataclass(frozen=True)
class Hardsigmoid(_Activation):
    """nn.Hardsigmoid: ReLU6(x + 3)/6 (MobileNetV3's squeeze-excitation)."""
    type: ClassVar[str] = "hardsigmoid"
    prefix: ClassVar[str] = "Hardsigmoid"
    label: ClassVar[str] = "Hardsigmoid"
    torch_class: ClassVar[str] = "Hardsigmoid"


@dataclass(frozen=True)
class GELU(_Activation):
    """nn.GELU: x·Φ(x), exact or tanh-approximated."""
    type: ClassVar[str] = "gelu"
    prefix: ClassVar[str] = "GELU"
    label: ClassVar[str] = "GELU"
    torch_class: ClassVar[str] = "GELU"
    approximate: str = choice_field("none", ("none", "tanh"))

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return "nn.GELU()" if self.approximate == "none" else f"nn.GELU(approximate=\"{self.approximate}\")"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.gelu(x, self.approximate)
