"""Sample input images, drawn procedurally at any size (no files, no licences, no network).

Simple shapes and textures make first-layer feature maps easy to read: an edge detector
lights up exactly along the edges a student can see.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Draw = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (y, x) grids in [-1, 1] → RGB (3, H, W)


def _rgb(r: np.ndarray | float, g: np.ndarray | float, b: np.ndarray | float, like: np.ndarray) -> np.ndarray:
    return np.stack([np.broadcast_to(np.asarray(c, dtype=np.float32), like.shape) for c in (r, g, b)])


def _mask(m: np.ndarray, fg: tuple[float, float, float], bg: tuple[float, float, float]) -> np.ndarray:
    m = m.astype(np.float32)
    return _rgb(*(f * m + b * (1 - m) for f, b in zip(fg, bg)), like=m)


SAMPLES: dict[str, Draw] = {
    "Red disc": lambda y, x: _mask(x**2 + y**2 < 0.45, (0.9, 0.15, 0.1), (0.95, 0.95, 0.9)),
    "Vertical stripes": lambda y, x: _mask(np.sin(x * 4 * np.pi) > 0, (0.1, 0.1, 0.1), (0.95, 0.95, 0.95)),
    "Horizontal stripes": lambda y, x: _mask(np.sin(y * 4 * np.pi) > 0, (0.1, 0.3, 0.8), (0.95, 0.9, 0.6)),
    "Diagonal edge": lambda y, x: _mask(x + y > 0, (0.2, 0.6, 0.2), (0.95, 0.95, 0.95)),
    "Checkerboard": lambda y, x: _mask((np.floor((x + 1) * 3) + np.floor((y + 1) * 3)) % 2 == 0,
                                       (0.05, 0.05, 0.05), (1.0, 1.0, 1.0)),
    "Cross": lambda y, x: _mask((abs(x) < 0.18) | (abs(y) < 0.18), (0.1, 0.2, 0.7), (0.9, 0.9, 0.95)),
    "Triangle": lambda y, x: _mask((y < 0.6) & (y > -0.6 + 2 * abs(x) - 0.2) & (y > -0.7), (0.95, 0.7, 0.1),
                                   (0.15, 0.15, 0.3)),
    "Rings": lambda y, x: _mask(np.sin(np.sqrt(x**2 + y**2) * 5 * np.pi) > 0, (0.6, 0.1, 0.6), (1.0, 1.0, 1.0)),
    "Colour gradient": lambda y, x: _rgb((x + 1) / 2, (y + 1) / 2, 1 - (x + 1) / 4 - (y + 1) / 4, like=x),
    "Soft blobs": lambda y, x: _rgb(np.exp(-((x - 0.4)**2 + (y + 0.3)**2) * 6),
                                    np.exp(-((x + 0.4)**2 + (y - 0.2)**2) * 5),
                                    np.exp(-((x)**2 + (y - 0.6)**2) * 8), like=x),
}


def sample_image(name: str, shape: tuple[int, int, int]) -> np.ndarray:
    """The named sample as float32 (C, H, W) in [0, 1]; 1 channel → luminance, other counts
    repeat the colour channels."""
    c, h, w = shape
    y, x = np.meshgrid(np.linspace(-1, 1, h, dtype=np.float32), np.linspace(-1, 1, w, dtype=np.float32),
                       indexing="ij")
    rgb = np.clip(SAMPLES[name](y, x), 0.0, 1.0).astype(np.float32)
    if c == 3:
        return rgb
    if c == 1:
        return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])[None].astype(np.float32)
    return rgb[np.arange(c) % 3]


def to_rgba(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] → (H, W) uint32 RGBA for a Bokeh image_rgba glyph (rows bottom-up)."""
    c = image.shape[0]
    rgb = image[:3] if c >= 3 else np.repeat(image[:1], 3, axis=0)
    u8 = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    rgba = np.concatenate([u8, np.full((1, *u8.shape[1:]), 255, np.uint8)]).transpose(1, 2, 0)
    return np.ascontiguousarray(rgba[::-1]).view(np.uint32)[..., 0]
