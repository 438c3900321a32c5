"""Feature maps: a real numpy forward pass of one sample image through the network."""
from __future__ import annotations

import math
import sys
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
    """One forward pass of a sample image: the input, every node's output, the final probabilities."""
    image: np.ndarray               # (C, H, W) input in [0, 1]
    outputs: list[np.ndarray]       # per row (Input first), batch dimension removed
    conv1_labels: list[str] | None  # names of the hand-set first-layer filters, if used
    probabilities: np.ndarray | None  # softmax of a flat final output


@dataclass(frozen=True)
class Budget:
    """How much forward-pass work one page may do (docs/design.md, "Bounded work").

    `rate` and `per_layer` are rough measured speeds there (bench/apply_time.py), used only
    to decide whether to show a busy indicator first and to say how long it may take.
    """

    where: str            # "the browser" / "this computer", as the skip message says it
    max_macs: int
    max_bytes: int        # activations of every layer plus the largest im2col buffer
    rate: float           # MACs per second of the forward pass
    per_layer: float      # seconds per layer of the page's update (views, editor, small convs)


# Pyodide ran a 10-GMAC network in 84 s (0.12 GMAC/s); desktop numpy does ~2.5 GMAC/s on 2 cores.
BROWSER = Budget("the browser", 1_000_000_000, 512 * 2**20, 1.2e8, 0.01)
DESKTOP = Budget("this computer", 20_000_000_000, 2 * 2**30, 2.5e9, 0.004)
BUSY_SECONDS = 0.5    # longer computations show a busy indicator first


def current_budget() -> Budget:
    return BROWSER if sys.platform == "emscripten" else DESKTOP


def forward_cost(analysis: Analysis) -> tuple[int, int]:
    """(MACs, peak bytes) of the feature-map forward pass for one image, from the analysis alone.

    Bytes: every layer's float32 output is kept (all are shown), plus the largest im2col
    matrix a convolution copies its windows into (C_in·k_h·k_w values per output pixel).
    """
    im2col = 0
    for r in analysis.records[1:]:
        if isinstance(r.layer, Conv2d) and r.input_shape is not None:
            kh, kw = r.layer.kernel_size
            im2col = max(im2col, r.input_shape[0] * kh * kw * math.prod(r.output_shape[1:]) * 4)
    return analysis.total_macs, analysis.total_activation_bytes + im2col


def forward_seconds(analysis: Analysis, budget: Budget | None = None) -> float:
    """Rough time of the feature-map forward pass here."""
    budget = budget or current_budget()
    return forward_cost(analysis)[0] / budget.rate


def update_seconds(analysis: Analysis, budget: Budget | None = None) -> float:
    """Rough time of showing a network on the page, feature maps included (unless skipped)."""
    budget = budget or current_budget()
    forward = 0.0 if skip_reason(analysis, budget) else forward_seconds(analysis, budget)
    return forward + len(analysis.records) * budget.per_layer


def skip_reason(analysis: Analysis, budget: Budget | None = None) -> str | None:
    """Why the feature maps of this network are not computed here, or None when they are."""
    budget = budget or current_budget()
    macs, nbytes = forward_cost(analysis)
    if macs > budget.max_macs:
        return (f"Feature maps skipped: this network needs {macs / 1e9:,.1f} GMACs, more than {budget.where} can "
                f"compute here (at most {budget.max_macs / 1e9:g} GMACs). The diagram, card and table show the "
                "network; choose a smaller input (e.g. the CIFAR-10 preset) to see feature maps.")
    if nbytes > budget.max_bytes:
        return (f"Feature maps skipped: this network needs {nbytes / 2**20:,.0f} MiB for its forward pass, more "
                f"than {budget.where} can hold here (at most {budget.max_bytes / 2**20:,.0f} MiB). The diagram, "
                "card and table show the network; choose a smaller input to see feature maps.")
    return None


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
