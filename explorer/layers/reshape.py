"""Layers that only pass values on: Flatten (changes the shape) and Identity."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import Context, Facts, LayerSpec, Params, Shape


@dataclass(frozen=True)
class Flatten(LayerSpec):
    """nn.Flatten: C×H×W to one vector, no parameters."""
    type: ClassVar[str] = "flatten"
    category: ClassVar[str] = "reshape"
    prefix: ClassVar[str] = "Flatten"
    label: ClassVar[str] = "Flatten"

    def analyse(self, ctx: Context) -> Facts:
        shape = ctx.shape
        n = math.prod(shape)
        formula = f"{'·'.join(map(str, shape))} = {n:,}" if len(shape) > 1 else f"already flat: {n:,}"
        return Facts((n,), op="flatten", flat=True, shape_formula=formula)

    def saves_output(self, before: bool) -> bool:
        return before

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return "nn.Flatten()"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.flatten(x)


@dataclass(frozen=True)
class Identity(LayerSpec):
    """nn.Identity: passes its input through unchanged."""
    type: ClassVar[str] = "identity"
    category: ClassVar[str] = "reshape"
    prefix: ClassVar[str] = "Identity"
    label: ClassVar[str] = "Identity"

    def analyse(self, ctx: Context) -> Facts:
        return Facts(ctx.shape, op="id")

    def saves_output(self, before: bool) -> bool:
        return before

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return "nn.Identity()"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return x
