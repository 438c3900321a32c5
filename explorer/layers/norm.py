"""Batch normalisation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import (Context, Facts, LayerSpec, Params, Shape, count_field, flag_field, need_spatial, number_field,
                   py_num)


@dataclass(frozen=True)
class BatchNorm2d(LayerSpec):
    """`track_running_stats=False`: no running buffers; batch statistics in eval mode too."""

    type: ClassVar[str] = "batchnorm2d"
    category: ClassVar[str] = "batchnorm"
    prefix: ClassVar[str] = "BN"
    label: ClassVar[str] = "BN"
    eps: float = number_field(1e-5, 0.0, 1.0, low_open=True)
    momentum: float = number_field(0.1, 0.0, 1.0)
    affine: bool = flag_field(True)
    num_features: int | None = count_field(None)
    track_running_stats: bool = flag_field(True)

    def analyse(self, ctx: Context) -> Facts:
        c = need_spatial(ctx, "BatchNorm2d")
        if self.num_features is not None and self.num_features != c:
            raise ctx.fail(f"num_features is {self.num_features} but {c} channels arrive (from {ctx.source}); "
                           f"use nn.BatchNorm2d({c})", "num_features")
        params = 2 * c if self.affine else 0
        formula = (f"2·{c} = {params:,} (scale γ and shift β per channel)" if self.affine
                   else "no parameters (affine=False)")
        return Facts(ctx.shape, op="BN", params=params, buffers=2 * c if self.track_running_stats else 0,
                     macs=params, param_formula=formula)

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        args = [str(in_shape[0])]
        if self.eps != 1e-5:
            args.append(f"eps={py_num(self.eps)}")
        if self.momentum != 0.1:
            args.append(f"momentum={py_num(self.momentum)}")
        if not self.affine:
            args.append("affine=False")
        if not self.track_running_stats:
            args.append("track_running_stats=False")
        return f"nn.BatchNorm2d({', '.join(args)})"

    def init_params(self, rng: np.random.Generator, in_shape: Shape) -> Params:
        state = nn.batchnorm_params(in_shape[0])
        if not self.affine:
            del state["weight"], state["bias"]
        if not self.track_running_stats:
            del state["running_mean"], state["running_var"]
        return state

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.batch_norm(x, params.get("running_mean"), params.get("running_var"), params.get("weight"),
                             params.get("bias"), training=training or not self.track_running_stats,
                             momentum=self.momentum, eps=self.eps)
