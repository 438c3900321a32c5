"""Receptive-field boxes checked against autograd: the input pixels whose gradient is
non-zero for one output pixel are exactly the analytic box (clipped to the image)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from explorer.analysis import analyse, rf_box  # noqa: E402
from explorer.codegen import module_source  # noqa: E402
from explorer.presets import BROKEN_PRESET, PRESETS, preset  # noqa: E402
from explorer.spec import from_json  # noqa: E402


def build(analysis):
    namespace: dict = {}
    exec(compile(module_source(analysis), "<generated>", "exec"), namespace)  # our own generated code
    cls = next(v for v in namespace.values() if isinstance(v, type) and issubclass(v, torch.nn.Module)
               and v is not torch.nn.Module)
    model = cls().eval()
    for i, m in enumerate(model.layers):
        # Max pooling routes gradient to one pixel; averaging has the same window geometry.
        if isinstance(m, torch.nn.MaxPool2d):
            model.layers[i] = torch.nn.AvgPool2d(m.kernel_size, m.stride, m.padding)
        if isinstance(m, (torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid, torch.nn.LeakyReLU)):
            model.layers[i] = torch.nn.Identity()   # saturation or zeros would hide pixels
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(0.5, 1.0)   # positive weights: no cancellation hides a pixel
    return model


def support(model, upto: int, shape, row: int, col: int) -> np.ndarray:
    x = torch.ones((1, *shape), requires_grad=True)
    out = model.layers[:upto](x)
    out[0, 0, row, col].backward()
    return (x.grad[0].abs().sum(0) > 0).numpy()


# The flat presets (this model walks `model.layers`); graph networks' receptive fields are
# checked in tests/unit/test_graph_spec.py (largest over the branches).
NETWORKS = [n for n in PRESETS if n != BROKEN_PRESET and preset(n).is_flat] + ["dilated-strided"]


def network(name):
    if name == "dilated-strided":
        return from_json({"input": {"channels": 2, "height": 29, "width": 23}, "layers": [
            {"type": "conv2d", "out_channels": 3, "kernel_size": [3, 5], "stride": [2, 1], "padding": [1, 2],
             "dilation": [2, 1]},
            {"type": "avgpool2d", "kernel_size": 3, "stride": 2, "padding": 1},
            {"type": "conv2d", "out_channels": 2, "kernel_size": 3, "stride": 2, "dilation": 2}]})
    return preset(name)


@pytest.mark.parametrize("name", NETWORKS)
def test_receptive_field_box_equals_gradient_support(name: str) -> None:
    analysis = analyse(network(name))
    model = build(analysis)
    shape = analysis.network.input.shape
    checked = 0
    dilated = False   # holes from a dilated layer persist in every later receptive field
    for record in analysis.records[1:]:
        dilated = dilated or getattr(record.layer, "dilation", (1, 1)) != (1, 1)
        if len(record.output_shape) != 3 or record.type == "adaptive_avgpool2d":
            continue
        _, h, w = record.output_shape
        for row, col in {(0, 0), (h // 2, w // 2), (h - 1, w - 1)}:
            mask = support(model, record.index, shape, row, col)
            top, left, bottom, right = rf_box(record, row, col)
            expect = np.zeros_like(mask)
            expect[max(int(top), 0):int(bottom) + 1, max(int(left), 0):int(right) + 1] = True
            if dilated:
                # Dilation leaves holes inside the box: the support lies in the box, and when the
                # box is inside the image, the box is exactly the support's hull.
                assert not (mask & ~expect).any()
                if top >= 0 and left >= 0 and bottom < shape[1] and right < shape[2]:
                    rows, cols = np.nonzero(mask)
                    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (top, bottom, left, right)
            else:
                np.testing.assert_array_equal(mask, expect, err_msg=f"{record.name} pixel {(row, col)}")
            checked += 1
        b0, b1 = rf_box(record, 0, 0), rf_box(record, 1, 1)
        assert (b1[0] - b0[0], b1[1] - b0[1]) == tuple(map(float, record.jump))
    assert checked > 0
