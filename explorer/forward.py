"""A real forward pass of an analysed network with the numpy engine.

Weights are created like PyTorch's defaults (seeded), so the same numbers can be copied
into a torch model for cross-checks, and feature maps are meaningful to show. Each layer
kind runs itself (`explorer.layers`); this module walks blocks and parallels.
"""
from __future__ import annotations

import numpy as np

from .analysis import Analysis
from .layers.base import Params
from .spec import Block, Node, Parallel

__all__ = ["Params", "init_weights", "forward", "weights_by_name"]


def init_weights(analysis: Analysis, seed: int = 0) -> list[Params]:
    """One dict per layer (empty when it has no state), in execution order (`analysis.leaves`;
    for a flat network, `network.layers` order)."""
    rng = np.random.default_rng(seed)
    return [r.layer.init_params(rng, r.input_shape) for r in analysis.leaves]  # type: ignore[union-attr, arg-type]


def weights_by_name(analysis: Analysis, weights: list[Params]) -> dict[str, Params]:
    """The same weights keyed by layer name."""
    return {r.name: w for r, w in zip(analysis.leaves, weights)}


def forward(analysis: Analysis, weights: list[Params], x: np.ndarray, *, training: bool = False,
            rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Outputs of every row (Input first; a block's row holds the block's output, a merge row
    the merged tensor) for a batch `x` of shape (N, C, H, W).

    In training mode BatchNorm uses batch statistics and updates its running buffers in
    place, and Dropout/StochasticDepth drop (with `rng`), exactly as PyTorch's train() does.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.shape[1:] != analysis.network.input.shape:
        raise ValueError(f"input batch has shape {x.shape[1:]}, the network expects {analysis.network.input.shape}")
    run = _Run(weights, training, rng, len(analysis.records))
    run.outputs[0] = x
    run.sequence(analysis.network.layers, x)
    return run.outputs  # type: ignore[return-value]


class _Run:
    """One forward pass; rows are filled in walk order, like the analysis records."""

    def __init__(self, weights: list[Params], training: bool, rng: np.random.Generator | None, rows: int) -> None:
        self.weights, self.training, self.rng = iter(weights), training, rng
        self.outputs: list[np.ndarray | None] = [None] * rows
        self.row = 1

    def sequence(self, nodes: tuple[Node, ...], x: np.ndarray) -> np.ndarray:
        for node in nodes:
            x = self.node(node, x)
        return x

    def node(self, node: Node, x: np.ndarray) -> np.ndarray:
        row, self.row = self.row, self.row + 1
        if isinstance(node, Block):
            x = self.sequence(node.layers, x)
        elif isinstance(node, Parallel):
            self.row -= 1  # the merge row follows the branches
            outs = [self.sequence(branch, x) for branch in node.branches]
            row, self.row = self.row, self.row + 1
            x = merge(node.merge, outs)
        else:
            x = node.run(x, next(self.weights), training=self.training, rng=self.rng)
        self.outputs[row] = x
        return x


def merge(kind: str, outs: list[np.ndarray]) -> np.ndarray:
    """Combine the branch outputs of a parallel: sum, channel concatenation or product."""
    if kind == "add":
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        return total
    if kind == "concat":
        return np.concatenate(outs, axis=1)
    product = outs[0]
    for o in outs[1:]:
        product = product * o
    return product
