"""Toy data for the convolution/pooling step-through: one small channel, the layer's own
kernel size, stride, padding and dilation, and outputs computed by the numpy engine."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import nn
from .analysis import LayerRecord
from .nn.functional import conv_output_size as out_len
from .spec import AvgPool2d, Conv2d, MaxPool2d

TOY = 7  # input side shown, when the real input is larger


def _digits(shape: tuple[int, ...], low: int, high: int, seed: int) -> np.ndarray:
    """Small integers in [low, high) that look random (a multiplicative hash of the position):
    a toy needs no numpy.random, whose import costs about 0.2 s of the Pyodide page's start-up,
    since every conv and pool card carries a toy (docs/design.md §5)."""
    m = np.uint64(0xFFFFFFFF)
    h = (np.arange(int(np.prod(shape)), dtype=np.uint64) + np.uint64(1 + 7919 * seed)) * np.uint64(2654435761) & m
    h = (h ^ (h >> np.uint64(15))) * np.uint64(2246822519) & m
    h ^= h >> np.uint64(13)
    return (low + (h % np.uint64(high - low)).astype(np.int64)).reshape(shape).astype(np.float32)


def stepper_data(record: LayerRecord, seed: int = 0) -> dict[str, Any] | None:
    """JSON-able description of the toy, or None for layers without a sliding window."""
    layer = record.layer
    if not isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)) or record.input_shape is None:
        return None
    kernel, padding = layer.kernel_size, layer.padding
    stride = layer.stride or layer.kernel_size
    dilation = layer.dilation if isinstance(layer, Conv2d) else (1, 1)
    size = []
    for real, k, s, p, d in zip(record.input_shape[1:], kernel, stride, padding, dilation):
        n = min(real, max(TOY, d * (k - 1) + 1 - 2 * p + s))   # at least two steps where possible
        size.append(n if out_len(n, k, s, p, d) >= 1 else real)
    if size[0] * size[1] > 400:
        return None
    x = _digits((1, 1, *size), 0, 10, seed)
    if isinstance(layer, Conv2d):
        w = _digits((1, 1, *kernel), -1, 3, seed + 1)
        out = nn.conv2d(x, w, None, stride, padding, dilation)
        kind, weights = "conv", w[0, 0].astype(int).tolist()
    elif isinstance(layer, MaxPool2d):
        out, kind, weights = nn.max_pool2d(x, kernel, stride, padding), "max", None
    else:
        out, kind, weights = nn.avg_pool2d(x, kernel, stride, padding), "avg", None
    return {"kind": kind, "size": size, "kernel": list(kernel), "stride": list(stride),
            "padding": list(padding), "dilation": list(dilation), "input": x[0, 0].astype(int).tolist(),
            "weights": weights, "output": np.round(out[0, 0], 4).tolist()}
