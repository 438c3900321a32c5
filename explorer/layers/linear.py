"""Fully connected (linear) layer."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import Context, Facts, LayerSpec, Params, Shape, count_field, flag_field, format_shape


@dataclass(frozen=True)
class Linear(LayerSpec):
    """nn.Linear: a fully connected layer over a flat input."""
    type: ClassVar[str] = "linear"
    category: ClassVar[str] = "linear"
    prefix: ClassVar[str] = "FC"
    label: ClassVar[str] = "Linear"
    editor_defaults: ClassVar[dict] = {"out_features": 10}
    out_features: int = count_field()
    bias: bool = flag_field(True)
    in_features: int | None = count_field(None)

    def analyse(self, ctx: Context) -> Facts:
        shape = ctx.shape
        if len(shape) != 1:
            raise ctx.fail(f"a Linear layer needs a flat vector but receives {format_shape(shape)} from "
                           f"{ctx.source}; add {{\"type\": \"flatten\"}} before it "
                           f"(then in_features = {math.prod(shape):,})", "type")
        n = shape[0]
        if self.in_features is not None and self.in_features != n:
            raise ctx.fail(f"in_features is {self.in_features} but {n} values arrive ({ctx.source}); "
                           f"use {self.torch_line(shape)}", "in_features")
        bias = self.out_features if self.bias else 0
        params = n * self.out_features + bias
        return Facts((self.out_features,), op=f"{n}→{self.out_features}", params=params,
                     macs=(n + (1 if self.bias else 0)) * self.out_features, flat=True,
                     shape_formula=f"{self.out_features} outputs, one per neuron",
                     param_formula=f"{n}·{self.out_features}{f' + {bias}' if bias else ''} = {params:,}")

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        args = [str(in_shape[0]) if len(in_shape) == 1 else str(math.prod(in_shape)), str(self.out_features)]
        if not self.bias:
            args.append("bias=False")
        return f"nn.Linear({', '.join(args)})"

    def init_params(self, rng: np.random.Generator, in_shape: Shape) -> Params:
        w, b = nn.linear_params(rng, in_shape[0], self.out_features, self.bias)
        return {"weight": w, **({"bias": b} if b is not None else {})}

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.linear(x, params["weight"], params.get("bias"))
