"""A real forward pass of an analysed network with the numpy engine.

Weights are created like PyTorch's defaults (seeded), so the same numbers can be copied
into a torch model for cross-checks, and feature maps are meaningful to show.
"""
from __future__ import annotations

import numpy as np

from . import nn
from .analysis import Analysis
from .spec import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, LeakyReLU, Linear,
                   MaxPool2d, ReLU, Sigmoid, Tanh)

Params = dict[str, np.ndarray]


def init_weights(analysis: Analysis, seed: int = 0) -> list[Params]:
    """One dict per layer (empty when it has no state), in `network.layers` order."""
    rng = np.random.default_rng(seed)
    weights: list[Params] = []
    for record in analysis.records[1:]:
        layer, c_in = record.layer, record.input_shape[0]  # type: ignore[index]
        if isinstance(layer, Conv2d):
            w, b = nn.conv2d_params(rng, c_in, layer.out_channels, layer.kernel_size, layer.groups, layer.bias)
            weights.append({"weight": w, **({"bias": b} if b is not None else {})})
        elif isinstance(layer, Linear):
            w, b = nn.linear_params(rng, c_in, layer.out_features, layer.bias)
            weights.append({"weight": w, **({"bias": b} if b is not None else {})})
        elif isinstance(layer, BatchNorm2d):
            state = nn.batchnorm_params(c_in)
            if not layer.affine:
                del state["weight"], state["bias"]
            weights.append(state)
        else:
            weights.append({})
    return weights


def forward(analysis: Analysis, weights: list[Params], x: np.ndarray, *, training: bool = False,
            rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Outputs of every row (Input first) for a batch `x` of shape (N, C, H, W).

    In training mode BatchNorm uses batch statistics and updates its running buffers in
    place, and Dropout drops (with `rng`), exactly as PyTorch's train() mode does.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.shape[1:] != analysis.network.input.shape:
        raise ValueError(f"input batch has shape {x.shape[1:]}, the network expects {analysis.network.input.shape}")
    outputs = [x]
    for layer, p in zip(analysis.network.layers, weights):
        if isinstance(layer, Conv2d):
            x = nn.conv2d(x, p["weight"], p.get("bias"), layer.stride, layer.padding, layer.dilation, layer.groups)
        elif isinstance(layer, BatchNorm2d):
            x = nn.batch_norm(x, p["running_mean"], p["running_var"], p.get("weight"), p.get("bias"),
                              training=training, momentum=layer.momentum, eps=layer.eps)
        elif isinstance(layer, ReLU):
            x = nn.relu(x)
        elif isinstance(layer, LeakyReLU):
            x = nn.leaky_relu(x, layer.negative_slope)
        elif isinstance(layer, Sigmoid):
            x = nn.sigmoid(x)
        elif isinstance(layer, Tanh):
            x = nn.tanh(x)
        elif isinstance(layer, MaxPool2d):
            x = nn.max_pool2d(x, layer.kernel_size, layer.stride, layer.padding)
        elif isinstance(layer, AvgPool2d):
            x = nn.avg_pool2d(x, layer.kernel_size, layer.stride, layer.padding)
        elif isinstance(layer, AdaptiveAvgPool2d):
            x = nn.adaptive_avg_pool2d(x, layer.output_size)
        elif isinstance(layer, Dropout):
            x = nn.dropout(x, layer.p, training=training, rng=rng)
        elif isinstance(layer, Flatten):
            x = nn.flatten(x)
        elif isinstance(layer, Linear):
            x = nn.linear(x, p["weight"], p.get("bias"))
        else:  # pragma: no cover - the spec admits no other types
            raise TypeError(layer)
        outputs.append(x)
    return outputs
