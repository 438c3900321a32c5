"""Numpy neural-network engine: PyTorch-compatible forward ops and default init."""

from explorer.nn.functional import (
    adaptive_avg_pool2d,
    avg_pool2d,
    batch_norm,
    conv2d,
    conv_output_size,
    dropout,
    flatten,
    leaky_relu,
    linear,
    max_pool2d,
    pair,
    pool_output_size,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from explorer.nn.init import batchnorm_params, conv2d_params, linear_params, uniform_bound

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "batchnorm_params",
    "conv2d",
    "conv2d_params",
    "conv_output_size",
    "dropout",
    "flatten",
    "leaky_relu",
    "linear",
    "linear_params",
    "max_pool2d",
    "pair",
    "pool_output_size",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "uniform_bound",
]
