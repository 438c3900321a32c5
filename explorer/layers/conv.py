"""Convolution."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import (Context, Facts, LayerSpec, Pair, Params, Shape, Window, count_field, flag_field, k_text,
                   need_spatial, py_size, shape_formula, size_field, window_output)


@dataclass(frozen=True)
class Conv2d(LayerSpec):
    """nn.Conv2d: a bank of learned filters slid over the input."""
    type: ClassVar[str] = "conv2d"
    category: ClassVar[str] = "conv"
    prefix: ClassVar[str] = "Conv"
    label: ClassVar[str] = "Conv"
    editor_defaults: ClassVar[dict] = {"out_channels": 16, "kernel_size": 3, "padding": 1}
    out_channels: int = count_field()
    kernel_size: Pair = size_field()
    stride: Pair = size_field((1, 1))
    padding: Pair = size_field((0, 0), minimum=0)
    dilation: Pair = size_field((1, 1))
    groups: int = count_field(1)
    bias: bool = flag_field(True)
    in_channels: int | None = count_field(None)

    def analyse(self, ctx: Context) -> Facts:
        shape = ctx.shape
        c_in = need_spatial(ctx, "a convolution")
        if self.in_channels is not None and self.in_channels != c_in:
            raise ctx.fail(f"in_channels is {self.in_channels} but {c_in} channels arrive "
                           f"(from {ctx.source}); use {self.torch_line(shape)}", "in_channels")
        g = self.groups
        if c_in % g or self.out_channels % g:
            raise ctx.fail(f"groups={g} must divide both in_channels ({c_in}) and out_channels "
                           f"({self.out_channels}); choose a common divisor", "groups")
        kh, kw = self.kernel_size
        h, w = window_output(ctx, self.kernel_size, self.stride, self.padding, self.dilation)
        out = (self.out_channels, h, w)
        per_filter = kh * kw * (c_in // g)
        weights = per_filter * self.out_channels
        bias = self.out_channels if self.bias else 0
        fan = f"{kh}·{kw}·{c_in // g if g == 1 else f'({c_in}/{g})'}·{self.out_channels}"
        return Facts(out, op=f"{k_text(self.kernel_size)}, {self.out_channels}", params=weights + bias,
                     macs=(per_filter + (1 if self.bias else 0)) * self.out_channels * h * w,
                     window=Window(self.kernel_size, self.stride, self.padding, self.dilation),
                     shape_formula=shape_formula(shape, out, self.kernel_size, self.stride, self.padding,
                                                 self.dilation),
                     param_formula=f"{fan}{f' + {bias}' if bias else ''} = {weights + bias:,}")

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        args = [str(in_shape[0]), str(self.out_channels), f"kernel_size={py_size(self.kernel_size)}"]
        for key, default in (("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1))):
            if getattr(self, key) != default:
                args.append(f"{key}={py_size(getattr(self, key))}")
        if self.groups != 1:
            args.append(f"groups={self.groups}")
        if not self.bias:
            args.append("bias=False")
        return f"nn.Conv2d({', '.join(args)})"

    def init_params(self, rng: np.random.Generator, in_shape: Shape) -> Params:
        w, b = nn.conv2d_params(rng, in_shape[0], self.out_channels, self.kernel_size, self.groups, self.bias)
        return {"weight": w, **({"bias": b} if b is not None else {})}

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.conv2d(x, params["weight"], params.get("bias"), self.stride, self.padding, self.dilation,
                         self.groups)
