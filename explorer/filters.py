"""Classic hand-set first-layer filters (edge, blob and colour detectors).

An untrained network's feature maps are noise; these make the first layer meaningful:
each filter is a textbook detector, labelled, so students see what a filter responds to.
"""
from __future__ import annotations

import numpy as np


def _grid(k: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.linspace(-1, 1, k) if k > 1 else np.zeros(1)
    return np.meshgrid(r, r, indexing="ij")


def _norm(f: np.ndarray) -> np.ndarray:
    f = f - f.mean() if f.size > 1 and abs(f.sum()) > 1e-6 and f.min() < 0 else f
    scale = np.abs(f).sum()
    return f / scale if scale > 0 else f


def _gabor(k: int, theta: float) -> np.ndarray:
    y, x = _grid(k)
    u = x * np.cos(theta) + y * np.sin(theta)
    return np.exp(-(x**2 + y**2) * 1.5) * np.cos(u * np.pi * 1.5)


def kernels(kh: int, kw: int) -> list[tuple[str, np.ndarray]]:
    """Grey-level detectors at the requested kernel size (resampled from smooth formulas)."""
    k = max(kh, kw)
    y, x = _grid(k)
    bank = [
        ("Vertical edges (Sobel-like x gradient)", x * np.exp(-y**2)),
        ("Horizontal edges (Sobel-like y gradient)", y * np.exp(-x**2)),
        ("Diagonal edges ↗", (x + y)),
        ("Diagonal edges ↘", (x - y)),
        ("Spots (centre–surround, Laplacian-like)", np.exp(-(x**2 + y**2) * 4) - 0.35),
        ("Stripes at 0° (Gabor)", _gabor(k, 0.0)),
        ("Stripes at 45° (Gabor)", _gabor(k, np.pi / 4)),
        ("Stripes at 90° (Gabor)", _gabor(k, np.pi / 2)),
        ("Stripes at 135° (Gabor)", _gabor(k, 3 * np.pi / 4)),
        ("Brightness (blur)", np.ones_like(x)),
    ]
    return [(name, _norm(f[:kh, :kw] if f.shape != (kh, kw) else f)) for name, f in bank]


COLOUR = [("red", (1.0, 0.0, 0.0)), ("green", (0.0, 1.0, 0.0)), ("blue", (0.0, 0.0, 1.0)),
          ("red vs green", (1.0, -1.0, 0.0)), ("blue vs yellow", (-0.5, -0.5, 1.0))]


def classic_conv_weights(out_channels: int, in_channels: int, kernel_size: tuple[int, int],
                         ) -> tuple[np.ndarray, list[str]]:
    """Weights (out, in, kh, kw) cycling through the detectors, and one label per filter.

    With 3 input channels the grey detectors come first (all channels equal), then colour
    variants; with other channel counts the detectors apply to every channel equally.
    """
    kh, kw = kernel_size
    grey = kernels(kh, kw)
    bank: list[tuple[str, np.ndarray]] = [(name, np.stack([f] * in_channels) / in_channels) for name, f in grey]
    if in_channels == 3:
        blob = _norm(np.ones((kh, kw)))
        for cname, mix in COLOUR:
            bank.append((f"Colour: {cname}", np.stack([blob * m for m in mix])))
        for cname, mix in COLOUR[:3]:
            bank.append((f"{cname.capitalize()} edges (vertical)", np.stack([grey[0][1] * m for m in mix])))
    weights = np.zeros((out_channels, in_channels, kh, kw), np.float32)
    labels = []
    for i in range(out_channels):
        name, f = bank[i % len(bank)]
        sign = 1 if (i // len(bank)) % 2 == 0 else -1   # second round: the opposite polarity
        weights[i] = sign * f
        labels.append(name if sign > 0 else f"{name}, inverted")
    return weights, labels
