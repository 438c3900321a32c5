"""Pure graph edits (explorer/edits.py), palette pieces (explorer/palette.py) and the
teaching comparisons (explorer/compare.py), counted by hand."""
from __future__ import annotations

import pytest

from explorer import edits
from explorer.analysis import analyse
from explorer.compare import bottleneck_3x3, existing_reducers, plain_vs_residual
from explorer.palette import PIECES, piece
from explorer.presets import preset
from explorer.spec import ArchitectureError, default_network, from_json

RESNET = "ResNet-18 for CIFAR-10 (3×32×32)"


def test_insert_after_a_nested_node_selects_the_new_one() -> None:
    net = preset(RESNET)
    edit = edits.insert_after(net, "layer2.0.bn1", {"type": "dropout", "p": 0.1})
    analysis = analyse(from_json(edit.data))
    new = analysis.records[edit.select]
    assert new.type == "dropout" and new.path == ("layer2", "layer2.0", "layer2.0.add")
    assert analysis.records[edit.select - 1].name == "layer2.0.bn1"


def test_remove_keeps_module_paths_and_renumbers_defaults() -> None:
    net = default_network()
    edit = edits.remove(net, "Conv1", 1)
    names = from_json(edit.data).names
    assert names[0] == "BN1" and "Conv3" not in names      # Conv2 → Conv1, Conv3 → Conv2
    resnet = edits.remove(preset(RESNET), "layer3.1", 40)
    assert "layer3.1.conv1" not in from_json(resnet.data).names and "layer3.0.conv1" in from_json(resnet.data).names


def test_move_swaps_siblings_and_refuses_past_the_end() -> None:
    edit = edits.move(preset(RESNET), "layer4.1", -1)
    layer4 = from_json(edit.data).layers[6]
    assert [b.name for b in layer4.layers] == ["layer4.1", "layer4.0"]
    with pytest.raises(ArchitectureError, match="already the first"):
        edits.move(preset(RESNET), "layer4.0", -1)


def test_unknown_name_is_refused_with_the_fix() -> None:
    with pytest.raises(ArchitectureError, match="no layer named 'nope'.*select a layer"):
        edits.remove(default_network(), "nope", 1)


@pytest.mark.parametrize("kind", list(PIECES))
@pytest.mark.parametrize("channels", [3, 16, 64])
def test_pieces_keep_the_arriving_shape(kind: str, channels: int) -> None:
    data = {"input": {"channels": channels, "height": 9, "width": 9}, "layers": [piece(kind, (channels, 9, 9))]}
    out = channels if channels >= 4 or kind != "Inception-style module" else 4   # one channel per branch
    assert analyse(from_json(data)).output_shape == (out, 9, 9)


def test_piece_needs_a_feature_map() -> None:
    with pytest.raises(ArchitectureError, match="needs a C×H×W feature map"):
        piece("Squeeze-and-excitation gate", (256,), "Flatten")


def test_plain_vs_residual_costs_only_the_projections() -> None:
    c = plain_vs_residual(analyse(preset(RESNET)))
    assert c is not None and c.count == 8
    projections = (64 * 128 + 2 * 128) + (128 * 256 + 2 * 256) + (256 * 512 + 2 * 512)
    assert c.actual.params - c.other.params == projections
    bn_macs = 2 * (128 + 256 + 512)     # BatchNorm counted like torchinfo: its parameters (docs/design.md §4)
    assert c.actual.macs - c.other.macs == 64 * 128 * 16 * 16 + 128 * 256 * 8 * 8 + 256 * 512 * 4 * 4 + bn_macs
    assert plain_vs_residual(analyse(default_network())) is None


def test_bottleneck_of_one_conv_by_hand() -> None:
    data = {"input": {"channels": 64, "height": 8, "width": 8},
            "layers": [{"type": "conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1, "bias": False}]}
    c = bottleneck_3x3(analyse(from_json(data)), 4)
    assert c is not None and c.count == 1
    assert c.actual.params == 64 * 64 * 9
    assert c.other.params == 64 * 16 + 16 * 16 * 9 + 16 * 64
    assert c.other.macs == c.other.params * 64 and c.actual.macs == 64 * 64 * 9 * 64
    assert c.saved_params < 0      # the bottleneck is cheaper: "other" minus "actual" is negative


def test_existing_reducers_in_the_inception_preset() -> None:
    c = existing_reducers(analyse(preset("Small Inception-style net (3×32×32)")))
    assert c is not None and c.count == 6                  # branch2 and branch3 of three modules
    # inception3a branch2: 1×1 64→96 then 3×3 96→128, at 32×32; direct 3×3 64→128
    assert c.other.params > c.actual.params
    assert existing_reducers(analyse(default_network())) is None
