"""Pooling: windowed max/average and adaptive (fixed output size) pooling."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import nn
from .base import (Context, Facts, LayerSpec, Pair, Params, Shape, Window, adaptive_kernel, flag_field, k_text,
                   need_spatial, py_size, shape_formula, size_field, v_text, window_output)


@dataclass(frozen=True)
class _Pool2d(LayerSpec):
    """Fields shared by max and average pooling (stride None means stride = kernel_size)."""

    category: ClassVar[str] = "pooling"
    prefix: ClassVar[str] = "Pool"
    torch_class: ClassVar[str] = ""
    editor_defaults: ClassVar[dict] = {"kernel_size": 2, "stride": 2}
    kernel_size: Pair = size_field()
    stride: Pair | None = size_field(None)
    padding: Pair = size_field((0, 0), minimum=0)
    ceil_mode: bool = flag_field(False)

    @property
    def step(self) -> Pair:
        return self.stride or self.kernel_size

    def analyse(self, ctx: Context) -> Facts:
        need_spatial(ctx, "pooling")
        for (k, p, axis) in zip(self.kernel_size, self.padding, ("height", "width")):
            if 2 * p > k:
                raise ctx.fail(f"padding {p} is more than half the kernel size {k} ({axis}); "
                               f"PyTorch requires padding ≤ kernel_size/2, use padding={k // 2}", "padding")
        stride = self.step
        h, w = window_output(ctx, self.kernel_size, stride, self.padding, (1, 1), self.ceil_mode)
        out = (ctx.shape[0], h, w)
        return Facts(out, op=f"{k_text(self.kernel_size)} /{v_text(stride)}",
                     window=Window(self.kernel_size, stride, self.padding),
                     shape_formula=shape_formula(ctx.shape, out, self.kernel_size, stride, self.padding, (1, 1),
                                                 self.ceil_mode))

    def _args(self) -> list[str]:
        args = [f"kernel_size={py_size(self.kernel_size)}", f"stride={py_size(self.step)}"]
        if self.padding != (0, 0):
            args.append(f"padding={py_size(self.padding)}")
        if self.ceil_mode:
            args.append("ceil_mode=True")
        return args

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return f"nn.{self.torch_class}({', '.join(self._args())})"


@dataclass(frozen=True)
class MaxPool2d(_Pool2d):
    """nn.MaxPool2d: the largest value of each window."""
    type: ClassVar[str] = "maxpool2d"
    label: ClassVar[str] = "MaxPool"
    torch_class: ClassVar[str] = "MaxPool2d"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.max_pool2d(x, self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)


@dataclass(frozen=True)
class AvgPool2d(_Pool2d):
    """nn.AvgPool2d: the mean of each window."""
    type: ClassVar[str] = "avgpool2d"
    label: ClassVar[str] = "AvgPool"
    torch_class: ClassVar[str] = "AvgPool2d"
    count_include_pad: bool = flag_field(True)

    def _args(self) -> list[str]:
        return super()._args() + ([] if self.count_include_pad else ["count_include_pad=False"])

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad,
                             ceil_mode=self.ceil_mode)


@dataclass(frozen=True)
class _AdaptivePool2d(LayerSpec):
    """Pooling to a fixed output size, whatever the input size."""
    category: ClassVar[str] = "pooling"
    prefix: ClassVar[str] = "AdaptivePool"
    editor_defaults: ClassVar[dict] = {"output_size": 1}
    torch_class: ClassVar[str] = ""
    verb: ClassVar[str] = ""
    output_size: Pair = size_field()

    def analyse(self, ctx: Context) -> Facts:
        shape = ctx.shape
        c = need_spatial(ctx, "adaptive pooling")
        oh, ow = self.output_size
        kernel = (adaptive_kernel(shape[1], oh), adaptive_kernel(shape[2], ow))
        stride = (max(shape[1] // oh, 1), max(shape[2] // ow, 1))
        return Facts((c, oh, ow), op=f"→{k_text(self.output_size)}", window=Window(kernel, stride),
                     shape_formula=f"output size is fixed at {oh}×{ow}: each cell {self.verb} a "
                                   f"~{kernel[0]}×{kernel[1]} window of the {shape[1]}×{shape[2]} input")

    def torch_line(self, in_shape: Shape, in_place_ok: bool = True) -> str:
        return f"nn.{self.torch_class}({py_size(self.output_size)})"


@dataclass(frozen=True)
class AdaptiveAvgPool2d(_AdaptivePool2d):
    """nn.AdaptiveAvgPool2d: averages down to output_size."""
    type: ClassVar[str] = "adaptive_avgpool2d"
    label: ClassVar[str] = "AdaptiveAvgPool"
    torch_class: ClassVar[str] = "AdaptiveAvgPool2d"
    verb: ClassVar[str] = "averages"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.adaptive_avg_pool2d(x, self.output_size)


@dataclass(frozen=True)
class AdaptiveMaxPool2d(_AdaptivePool2d):
    """nn.AdaptiveMaxPool2d: takes maxima down to output_size."""
    type: ClassVar[str] = "adaptive_maxpool2d"
    prefix: ClassVar[str] = "AdaptiveMaxPool"
    label: ClassVar[str] = "AdaptiveMaxPool"
    torch_class: ClassVar[str] = "AdaptiveMaxPool2d"
    verb: ClassVar[str] = "keeps the largest value in"

    def run(self, x: np.ndarray, params: Params, *, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return nn.adaptive_max_pool2d(x, self.output_size)
