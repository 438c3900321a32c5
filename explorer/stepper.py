"""Toy data for the convolution/pooling step-through: one small channel, the layer's own
kernel size, stride, padding and dilation, and outputs computed by the numpy engine."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import nn
from .analysis import LayerRecord, out_len
from .spec import AvgPool2d, Conv2d, MaxPool2d

TOY = 7  # input side shown, when the real input is larger


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
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, size=(1, 1, *size)).astype(np.float32)
    if isinstance(layer, Conv2d):
        w = rng.integers(-1, 3, size=(1, 1, *kernel)).astype(np.float32)
        out = nn.conv2d(x, w, None, stride, padding, dilation)
        kind, weights = "conv", w[0, 0].astype(int).tolist()
    elif isinstance(layer, MaxPool2d):
        out, kind, weights = nn.max_pool2d(x, kernel, stride, padding), "max", None
    else:
        out, kind, weights = nn.avg_pool2d(x, kernel, stride, padding), "avg", None
    return {"kind": kind, "size": size, "kernel": list(kernel), "stride": list(stride),
            "padding": list(padding), "dilation": list(dilation), "input": x[0, 0].astype(int).tolist(),
            "weights": weights, "output": np.round(out[0, 0], 4).tolist()}
