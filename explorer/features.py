"""Feature maps: a real numpy forward pass of one sample image through the network."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import Analysis
from .filters import classic_conv_weights
from .forward import forward, init_weights
from .nn import softmax
from .samples import sample_image
from .spec import Conv2d


@dataclass(frozen=True)
class FeatureMaps:
    image: np.ndarray               # (C, H, W) input in [0, 1]
    outputs: list[np.ndarray]       # per row (Input first), batch dimension removed
    conv1_labels: list[str] | None  # names of the hand-set first-layer filters, if used
    probabilities: np.ndarray | None  # softmax of a flat final output


def compute(analysis: Analysis, sample: str, *, classic_conv1: bool = True, seed: int = 0) -> FeatureMaps:
    """Run `sample` through the network with seeded PyTorch-style weights (eval mode).

    With `classic_conv1`, the first convolution (if it is the first layer) gets labelled
    edge/colour detectors and a zero bias, so its maps are meaningful without training.
    """
    image = sample_image(sample, analysis.network.input.shape)
    weights = init_weights(analysis, seed)
    labels = None
    first = analysis.network.layers[0]
    if classic_conv1 and isinstance(first, Conv2d) and first.groups == 1:
        w, labels = classic_conv_weights(first.out_channels, image.shape[0], first.kernel_size)
        weights[0] = {"weight": w, **({"bias": np.zeros(first.out_channels, np.float32)} if first.bias else {})}
    outputs = [o[0] for o in forward(analysis, weights, image[None])]
    final = outputs[-1]
    probs = softmax(final.astype(np.float64)).astype(np.float32) if final.ndim == 1 else None
    return FeatureMaps(image, outputs, labels, probs)
