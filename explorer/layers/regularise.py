"""Regularisation: active in training only, the identity at inference."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import Context, Facts, LayerSpec, Params, Shape, choice_field, number_field, py_num


@dataclass(frozen=True)
class Dropout(LayerSpec):
    """nn.Dropout: zeroes a fraction p of values while training."""
    type: ClassVar[str] = "dropout"
    category: ClassVar[str] = "regularisation"
    prefix: ClassVar[str] = "Dropout"
    label: ClassVar[str] = "Dropout"
    editor_defaults: ClassVar[dict] = {"p": 0.5}
    p: float = number_field(0.5, 0.0, 1.0, high_open=True)

    def analyse(self, ctx: Context) -> Facts:
        return Facts(ctx.shape, op=f"p={self.p:g}")

    def saves_output(self, before: bool) -> bool:
        return before

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return "nn.Dropout()" if self.p == 0.5 else f"nn.Dropout(p={py_num(self.p)})"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.dropout(x, self.p, training=training, rng=rng)


@dataclass(frozen=True)
class StochasticDepth(LayerSpec):
    """torchvision.ops.StochasticDepth: drops the whole residual branch per sample ("row") or
    per batch ("batch") with probability p while training, scaling survivors by 1/(1−p)."""

    type: ClassVar[str] = "stochastic_depth"
    category: ClassVar[str] = "regularisation"
    prefix: ClassVar[str] = "StochasticDepth"
    label: ClassVar[str] = "StochasticDepth"
    editor_defaults: ClassVar[dict] = {"p": 0.2}
    p: float = number_field(0.0, 0.0, 1.0)
    mode: str = choice_field("row", ("row", "batch"))

    def analyse(self, ctx: Context) -> Facts:
        return Facts(ctx.shape, op=f"p={self.p:g}")

    def saves_output(self, before: bool) -> bool:
        return before

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return f"StochasticDepth(p={py_num(self.p)}, mode=\"{self.mode}\")"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.stochastic_depth(x, self.p, self.mode, training=training, rng=rng)
