"""The step-through toy: outputs equal the window arithmetic the card spells out."""
from __future__ import annotations

import itertools

import pytest

from explorer.analysis import analyse
from explorer.spec import from_json
from explorer.stepper import stepper_data


def net(layer: dict, size: int = 9) -> dict:
    return {"input": {"channels": 2, "height": size, "width": size}, "layers": [layer]}


CASES = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
    {"type": "conv2d", "out_channels": 4, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0]},
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "dilation": 2, "padding": 2},
    {"type": "maxpool2d", "kernel_size": 2, "stride": 2},
    {"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1},
    {"type": "avgpool2d", "kernel_size": 3, "stride": 1, "padding": 1},
]


def window(toy: dict, r: int, c: int) -> list[tuple[float, int, int]]:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = toy["kernel"], toy["stride"], toy["padding"], toy["dilation"]
    h, w = toy["size"]
    taps = []
    for i, j in itertools.product(range(kh), range(kw)):
        ir, ic = r * sh - ph + i * dh, c * sw - pw + j * dw
        inside = 0 <= ir < h and 0 <= ic < w
        taps.append((toy["input"][ir][ic] if inside else None, i, j))
    return taps


@pytest.mark.parametrize("layer", CASES)
def test_every_output_cell_is_its_window_arithmetic(layer: dict) -> None:
    record = analyse(from_json(net(layer))).records[1]
    toy = stepper_data(record)
    assert toy is not None
    for r, row in enumerate(toy["output"]):
        for c, value in enumerate(row):
            taps = window(toy, r, c)
            if toy["kind"] == "conv":
                expect = sum((v or 0) * toy["weights"][i][j] for v, i, j in taps)
            elif toy["kind"] == "max":
                expect = max(v for v, _, _ in taps if v is not None)
            else:
                expect = sum(v or 0 for v, _, _ in taps) / len(taps)   # zeros of padding count
            assert value == pytest.approx(expect, abs=1e-3)


def test_layers_without_a_window_have_no_stepper() -> None:
    analysis = analyse(from_json(net({"type": "relu"})))
    assert stepper_data(analysis.records[1]) is None
