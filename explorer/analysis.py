"""Per-layer analysis: shapes, parameters, buffers, MACs, memory, receptive field, formulas.

One `LayerRecord` per row of the statistics table (Input first). Conventions follow
DESIGN.md §3: `params` as `module.parameters()` counts them, BatchNorm running statistics
as `buffers`, MACs as torchinfo 1.8 counts them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import codegen
from .nn.functional import conv_output_size as out_len
from .spec import (AdaptiveAvgPool2d, ArchitectureError, AvgPool2d, BatchNorm2d, Conv2d, Dropout,
                   Flatten, Layer, LeakyReLU, Linear, MaxPool2d, Network, ReLU, Sigmoid, Tanh)

MAX_ACTIVATION = 2**31               # values in one layer's output
MAX_TOTAL_ACTIVATION_BYTES = 2**31   # float32 outputs of all layers together, one image (2 GiB)
BYTES_PER_VALUE = 4  # float32

Shape = tuple[int, ...]

# What the diagram groups a layer under (colour + legend).
CATEGORY = {"input": "input", "conv2d": "conv", "batchnorm2d": "batchnorm", "relu": "activation",
            "leaky_relu": "activation", "sigmoid": "activation", "tanh": "activation",
            "maxpool2d": "pooling", "avgpool2d": "pooling", "adaptive_avgpool2d": "pooling",
            "dropout": "regularisation", "flatten": "reshape", "linear": "linear"}
KIND_LABEL = {"input": "Input", "conv2d": "Conv", "batchnorm2d": "BN", "relu": "ReLU",
              "leaky_relu": "LeakyReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "maxpool2d": "MaxPool",
              "avgpool2d": "AvgPool", "adaptive_avgpool2d": "AdaptiveAvgPool", "dropout": "Dropout",
              "flatten": "Flatten", "linear": "Linear"}


@dataclass(frozen=True)
class LayerRecord:
    """Everything the views and the CLI show about one layer."""

    index: int
    name: str
    type: str
    category: str
    op: str                      # short operation label for the diagram, e.g. "3×3, 32"
    input_shape: Shape | None
    output_shape: Shape
    params: int
    trainable_params: int
    buffers: int
    macs: int
    activation_bytes: int
    receptive_field: tuple[int, int] | None
    jump: tuple[int, int] | None  # distance on the input between neighbouring outputs
    start: tuple[float, float] | None  # input-pixel coordinates of output pixel (0, 0)'s centre
    pytorch: str
    shape_formula: str
    param_formula: str
    layer: Layer | None          # None for the Input row

    @property
    def shape_text(self) -> str:
        return format_shape(self.output_shape)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "type": self.type,
                "output_shape": list(self.output_shape), "params": self.params,
                "trainable_params": self.trainable_params, "buffers": self.buffers, "macs": self.macs,
                "activation_bytes": self.activation_bytes,
                "receptive_field": list(self.receptive_field) if self.receptive_field else None,
                "pytorch": self.pytorch}


@dataclass(frozen=True)
class Analysis:
    network: Network
    records: tuple[LayerRecord, ...]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.records)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable_params for r in self.records)

    @property
    def total_buffers(self) -> int:
        return sum(r.buffers for r in self.records)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.records)

    @property
    def total_activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.records)

    @property
    def output_shape(self) -> Shape:
        return self.records[-1].output_shape

    def record(self, name: str) -> LayerRecord:
        for r in self.records:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.network.name, "input_shape": list(self.network.input.shape),
                "layers": [r.to_json() for r in self.records], "total_params": self.total_params,
                "trainable_params": self.trainable_params, "total_macs": self.total_macs}


def format_shape(shape: Shape) -> str:
    """`(64, 16, 16)`, and `(2048)` for a flat vector, as the seed writes shapes."""
    return "(" + ", ".join(str(d) for d in shape) + ")"


# ---------------------------------------------------------------------------------------

@dataclass
class _Trace:
    """What flows between layers while walking the network."""

    shape: Shape
    rf: tuple[int, int] | None = (1, 1)
    jump: tuple[int, int] | None = (1, 1)
    start: tuple[float, float] | None = (0.0, 0.0)
    source: str = "Input"
    saved: bool = True   # the tensor must not be overwritten in place (network input, or an output
                         # that Sigmoid/Tanh/ReLU saved for backward)


def analyse(network: Network) -> Analysis:
    """Walk the network once; raise ArchitectureError at the first layer that does not fit."""
    shape = network.input.shape
    _check_activation(shape, 0, "Input")
    total = _check_total(0, shape, 0, "Input")
    records = [LayerRecord(0, "Input", "input", "input", "×".join(map(str, shape)), None, shape, 0, 0, 0, 0,
                           _bytes(shape), (1, 1), (1, 1), (0.0, 0.0), "", f"input image {_cross(shape)}",
                           "no parameters", None)]
    trace = _Trace(shape)
    for index, (layer, name) in enumerate(zip(network.layers, network.names), start=1):
        record = _analyse_layer(layer, index, name, trace)
        _check_activation(record.output_shape, index, name)
        total = _check_total(total, record.output_shape, index, name)
        records.append(record)
        trace = _Trace(record.output_shape, record.receptive_field, record.jump, record.start,
                       f"{name}" if layer.type != "flatten" else f"{_cross(trace.shape)} after Flatten",
                       _saves_output(layer, trace.saved))
    return Analysis(network, tuple(records))


def _analyse_layer(layer: Layer, index: int, name: str, trace: _Trace) -> LayerRecord:
    shape = trace.shape

    def fail(message: str, field: str | None = None) -> ArchitectureError:
        return ArchitectureError(message, index=index, name=name, field=field)

    def record(out: Shape, *, op: str, params: int = 0, trainable: int | None = None, buffers: int = 0,
               macs: int = 0, rf: Any = "same", jump: Any = "same", start: Any = "same",
               shape_formula: str = "", param_formula: str = "no parameters") -> LayerRecord:
        return LayerRecord(
            index, name, layer.type, CATEGORY[layer.type], op, shape, out, params,
            params if trainable is None else trainable, buffers, macs, _bytes(out),
            trace.rf if rf == "same" else rf, trace.jump if jump == "same" else jump,
            trace.start if start == "same" else start,
            codegen.pytorch_line(layer, shape, not trace.saved), shape_formula or f"same shape as its input: {_cross(out)}",
            param_formula, layer)

    if isinstance(layer, Conv2d):
        c_in = _need_spatial(shape, fail, "a convolution")
        if layer.in_channels is not None and layer.in_channels != c_in:
            fixed = codegen.pytorch_line(layer, shape)
            raise fail(f"in_channels is {layer.in_channels} but {c_in} channels arrive "
                       f"(from {trace.source}); use {fixed}", "in_channels")
        g = layer.groups
        if c_in % g or layer.out_channels % g:
            raise fail(f"groups={g} must divide both in_channels ({c_in}) and out_channels "
                       f"({layer.out_channels}); choose a common divisor", "groups")
        kh, kw = layer.kernel_size
        h, w = _spatial(shape, layer.kernel_size, layer.stride, layer.padding, layer.dilation, fail)
        out = (layer.out_channels, h, w)
        per_filter = kh * kw * (c_in // g)
        weights = per_filter * layer.out_channels
        bias = layer.out_channels if layer.bias else 0
        fan = f"{kh}·{kw}·{c_in // g if g == 1 else f'({c_in}/{g})'}·{layer.out_channels}"
        formula = f"{fan}{f' + {bias}' if bias else ''} = {weights + bias:,}"
        return record(out, op=f"{_k(layer.kernel_size)}, {layer.out_channels}", params=weights + bias,
                      macs=(per_filter + (1 if layer.bias else 0)) * layer.out_channels * h * w,
                      rf=_rf(trace, layer.kernel_size, layer.dilation),
                      jump=_jump(trace, layer.stride),
                      start=_start(trace, layer.kernel_size, layer.padding, layer.dilation),
                      shape_formula=_shape_formula(shape, out, layer.kernel_size, layer.stride,
                                                   layer.padding, layer.dilation),
                      param_formula=formula)
    if isinstance(layer, BatchNorm2d):
        c = _need_spatial(shape, fail, "BatchNorm2d")
        if layer.num_features is not None and layer.num_features != c:
            raise fail(f"num_features is {layer.num_features} but {c} channels arrive (from {trace.source}); "
                       f"use nn.BatchNorm2d({c})", "num_features")
        params = 2 * c if layer.affine else 0
        formula = (f"2·{c} = {params:,} (scale γ and shift β per channel)" if layer.affine
                   else "no parameters (affine=False)")
        return record(shape, op="BN", params=params, buffers=2 * c, macs=params, param_formula=formula)
    if isinstance(layer, (ReLU, LeakyReLU, Sigmoid, Tanh, Dropout)):
        op = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "σ", "tanh": "tanh",
              "dropout": f"p={getattr(layer, 'p', 0):g}"}[layer.type]
        return record(shape, op=op)
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        _need_spatial(shape, fail, "pooling")
        stride = layer.stride or layer.kernel_size
        for (k, p, axis) in zip(layer.kernel_size, layer.padding, ("height", "width")):
            if 2 * p > k:
                raise fail(f"padding {p} is more than half the kernel size {k} ({axis}); "
                           f"PyTorch requires padding ≤ kernel_size/2, use padding={k // 2}", "padding")
        h, w = _spatial(shape, layer.kernel_size, stride, layer.padding, (1, 1), fail)
        out = (shape[0], h, w)
        return record(out, op=f"{_k(layer.kernel_size)} /{_v(stride)}", rf=_rf(trace, layer.kernel_size, (1, 1)),
                      jump=_jump(trace, stride), start=_start(trace, layer.kernel_size, layer.padding, (1, 1)),
                      shape_formula=_shape_formula(shape, out, layer.kernel_size, stride, layer.padding, (1, 1)))
    if isinstance(layer, AdaptiveAvgPool2d):
        c = _need_spatial(shape, fail, "adaptive pooling")
        oh, ow = layer.output_size
        out = (c, oh, ow)
        kernel = (_adaptive_kernel(shape[1], oh), _adaptive_kernel(shape[2], ow))
        stride = (max(shape[1] // oh, 1), max(shape[2] // ow, 1))
        return record(out, op=f"→{_k(layer.output_size)}", rf=_rf(trace, kernel, (1, 1)), jump=_jump(trace, stride),
                      start=_start(trace, kernel, (0, 0), (1, 1)),
                      shape_formula=f"output size is fixed at {oh}×{ow}: each cell averages a "
                                    f"~{kernel[0]}×{kernel[1]} window of the {shape[1]}×{shape[2]} input")
    if isinstance(layer, Flatten):
        n = math.prod(shape)
        formula = f"{'·'.join(map(str, shape))} = {n:,}" if len(shape) > 1 else f"already flat: {n:,}"
        return record((n,), op="flatten", rf=None, jump=None, start=None, shape_formula=formula)
    if isinstance(layer, Linear):
        if len(shape) != 1:
            raise fail(f"a Linear layer needs a flat vector but receives {format_shape(shape)} from "
                       f"{trace.source}; add {{\"type\": \"flatten\"}} before it "
                       f"(then in_features = {math.prod(shape):,})", "type")
        n = shape[0]
        if layer.in_features is not None and layer.in_features != n:
            raise fail(f"in_features is {layer.in_features} but {n} values arrive ({trace.source}); "
                       f"use {codegen.pytorch_line(layer, shape)}", "in_features")
        bias = layer.out_features if layer.bias else 0
        params = n * layer.out_features + bias
        return record((layer.out_features,), op=f"{n}→{layer.out_features}", params=params,
                      macs=(n + (1 if layer.bias else 0)) * layer.out_features, rf=None, jump=None, start=None,
                      shape_formula=f"{layer.out_features} outputs, one per neuron",
                      param_formula=f"{n}·{layer.out_features}{f' + {bias}' if bias else ''} = {params:,}")
    raise fail(f"unsupported layer type {layer.type}")  # unreachable: spec rejects unknown types


def _saves_output(layer: Layer, before: bool) -> bool:
    """Whether the layer's output must stay untouched for backward (see _Trace.saved)."""
    if layer.type in ("sigmoid", "tanh", "relu") or (isinstance(layer, LeakyReLU) and layer.negative_slope >= 0):
        return True
    return before if layer.type in ("flatten", "dropout") else False


def _need_spatial(shape: Shape, fail: Any, what: str) -> int:
    if len(shape) != 3:
        raise fail(f"{what} needs a (channels, height, width) input but receives the flat vector "
                   f"{format_shape(shape)}; move it before Flatten", "type")
    return shape[0]


def _spatial(shape: Shape, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
             dilation: tuple[int, int], fail: Any) -> tuple[int, int]:
    result = []
    for size, k, s, p, d in zip(shape[1:], kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        n = out_len(size, k, s, p, d)
        if n < 1:
            need = (span - size + 1) // 2
            dil = f", dilation {d}" if d != 1 else ""
            raise fail(f"kernel_size {_v(kernel)}{dil} does not fit a {shape[1]}×{shape[2]} input "
                       f"(padding {_v(padding)}); use kernel_size ≤ {max((size + 2 * p - 1) // d + 1, 1)} "
                       f"or padding ≥ {need}", "kernel_size")
        result.append(n)
    return result[0], result[1]


def _adaptive_kernel(size: int, out: int) -> int:
    return max(math.ceil((i + 1) * size / out) - (i * size) // out for i in range(out))


def _rf(trace: _Trace, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int] | None:
    if trace.rf is None or trace.jump is None:
        return None
    return tuple(r + (d * (k - 1)) * j for r, k, d, j in zip(trace.rf, kernel, dilation, trace.jump))  # type: ignore


def _start(trace: _Trace, kernel: tuple[int, int], padding: tuple[int, int],
           dilation: tuple[int, int]) -> tuple[float, float] | None:
    """Centre of the first output's window, in input-image pixel coordinates."""
    if trace.start is None or trace.jump is None:
        return None
    return tuple(s0 + (d * (k - 1) / 2 - p) * j  # type: ignore[return-value]
                 for s0, k, p, d, j in zip(trace.start, kernel, padding, dilation, trace.jump))


def rf_box(record: LayerRecord, row: int, col: int) -> tuple[float, float, float, float] | None:
    """The input-pixel box (top, left, bottom, right; inclusive, unclipped) that output
    pixel (row, col) of this layer sees."""
    if record.receptive_field is None or record.jump is None or record.start is None:
        return None
    (rh, rw), (jh, jw), (sh, sw) = record.receptive_field, record.jump, record.start
    ch, cw = sh + row * jh, sw + col * jw
    return (ch - (rh - 1) / 2, cw - (rw - 1) / 2, ch + (rh - 1) / 2, cw + (rw - 1) / 2)


def _jump(trace: _Trace, stride: tuple[int, int]) -> tuple[int, int] | None:
    if trace.jump is None:
        return None
    return tuple(j * s for j, s in zip(trace.jump, stride))  # type: ignore


def _shape_formula(shape: Shape, out: Shape, kernel: tuple[int, int], stride: tuple[int, int],
                   padding: tuple[int, int], dilation: tuple[int, int]) -> str:
    """`⌊(32 + 2·1 − 3)/1⌋ + 1 = 32`, once when both axes agree, else per axis."""
    parts = []
    for size, k, s, p, d, n in zip(shape[1:], kernel, stride, padding, dilation, out[1:]):
        span = f"{k}" if d == 1 else f"{d}·({k} − 1) − 1"
        parts.append(f"⌊({size} + 2·{p} − {span})/{s}⌋ + 1 = {n}")
    if parts[0] == parts[1]:
        return f"{parts[0]} (height and width)"
    return f"height: {parts[0]}; width: {parts[1]}"


def _check_activation(shape: Shape, index: int, name: str) -> None:
    if math.prod(shape) > MAX_ACTIVATION:
        raise ArchitectureError(f"its output {format_shape(shape)} has {math.prod(shape):,} values, more than "
                                f"the 2³¹ the explorer supports; use fewer channels or a smaller input",
                                index=index, name=name)


def _check_total(total: int, shape: Shape, index: int, name: str) -> int:
    """Add a layer's output bytes to the running total; refuse a network over the cap at the
    layer that crosses it (docs/design.md: bounded work, before any array is made)."""
    total += _bytes(shape)
    if total > MAX_TOTAL_ACTIVATION_BYTES:
        raise ArchitectureError(f"the activations up to here take {total / 2**30:,.1f} GiB for one image "
                                f"(float32 outputs of every layer), more than the "
                                f"{MAX_TOTAL_ACTIVATION_BYTES / 2**30:g} GiB the explorer supports; "
                                f"use a smaller input or fewer channels", index=index, name=name)
    return total


def _bytes(shape: Shape) -> int:
    return math.prod(shape) * BYTES_PER_VALUE


def _k(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _v(size: tuple[int, int]) -> str:
    """A size as the JSON writes it: 5, or [5, 3]."""
    return str(size[0]) if size[0] == size[1] else f"[{size[0]}, {size[1]}]"


def _cross(shape: Shape) -> str:
    return "×".join(map(str, shape))
