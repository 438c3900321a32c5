"""'New exercise': the same network structure with fresh, valid random hyperparameters."""
from __future__ import annotations

import random
from dataclasses import replace

from .analysis import analyse
from .spec import ArchitectureError, AvgPool2d, Block, Conv2d, Layer, Linear, MaxPool2d, Network, Node, Parallel

CHANNELS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128)
FEATURES = (16, 32, 64, 100, 128, 256, 512)


def _vary(layer: Layer, rng: random.Random, keep_size: bool) -> Layer:
    if isinstance(layer, Conv2d):
        k = rng.choice((1, 3, 3, 5, 7))
        out = layer.out_channels if keep_size else rng.choice(CHANNELS)
        return replace(layer, out_channels=out, kernel_size=(k, k),
                       stride=(s := rng.choice((1, 1, 2)), s), padding=(p := rng.choice((0, k // 2)), p),
                       dilation=(1, 1), groups=1, in_channels=None)
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        k = rng.choice((2, 2, 3))
        return replace(layer, kernel_size=(k, k), stride=(s := rng.choice((k, 2)), s), padding=(0, 0))
    if isinstance(layer, Linear):
        out = layer.out_features if keep_size else rng.choice(FEATURES)
        return replace(layer, out_features=out, in_features=None)
    if hasattr(layer, "num_features"):
        return replace(layer, num_features=None)  # type: ignore[call-arg]
    return layer


def _keep_shape(layer: Layer, rng: random.Random) -> Layer:
    """A convolution with a fresh odd kernel and "same" padding: every output shape is kept."""
    if isinstance(layer, Conv2d) and layer.dilation == (1, 1) and layer.kernel_size[0] == layer.kernel_size[1]:
        k = 1 if layer.kernel_size == (1, 1) else rng.choice((3, 5, 7))
        if layer.padding == (layer.kernel_size[0] // 2,) * 2:
            return replace(layer, kernel_size=(k, k), padding=(k // 2, k // 2))
    return layer


def _graph_variant(nodes: tuple[Node, ...], rng: random.Random) -> tuple[Node, ...]:
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Block):
            out.append(replace(node, layers=_graph_variant(node.layers, rng)))
        elif isinstance(node, Parallel):
            out.append(replace(node, branches=tuple(_graph_variant(b, rng) for b in node.branches)))
        else:
            out.append(_keep_shape(node, rng))
    return tuple(out)


def new_exercise(network: Network, seed: int | None = None, tries: int = 200) -> Network:
    """A valid variant of `network`. The layer that produces the class scores (the last
    Linear, or the last Conv in an all-convolutional net) keeps its size. In a graph network
    (blocks, branches) every shape is kept so merges still fit: kernels change, with "same"
    padding, at any depth (docs/design.md §7)."""
    rng = random.Random(seed)
    if not network.is_flat:
        for _ in range(tries):
            candidate = replace(network, layers=_graph_variant(network.layers, rng))
            if candidate != network:
                analyse(candidate)   # shapes are kept by construction; a failure here is a bug
                return candidate
        return network
    kinds = (Linear,) if any(isinstance(layer, Linear) for layer in network.layers) else (Conv2d,)
    last = max((i for i, layer in enumerate(network.layers) if isinstance(layer, kinds)), default=None)
    for _ in range(tries):
        layers = tuple(_vary(layer, rng, i == last) for i, layer in enumerate(network.layers))
        candidate = replace(network, layers=layers)
        try:
            analyse(candidate)
        except ArchitectureError:
            continue
        if candidate != network:
            return candidate
    return network
