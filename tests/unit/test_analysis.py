"""explorer.analysis and explorer.codegen on the default network (DESIGN.md §3–4) and on random ones."""
from __future__ import annotations

import ast
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings

from explorer.analysis import analyse, format_shape
from explorer.codegen import class_name, module_source, pytorch_line
from explorer.spec import (AdaptiveAvgPool2d, ArchitectureError, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten,
                           LeakyReLU, Linear, MaxPool2d, default_network, from_json)
from strategies import valid_architectures

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# DESIGN.md §4, row by row (the table's "Conv1 + BN" rows split into their two layers).
DESIGN_ROWS = [
    ("Input", "input", (3, 32, 32), 0),
    ("Conv1", "conv2d", (32, 32, 32), 896), ("BN1", "batchnorm2d", (32, 32, 32), 64),
    ("ReLU1", "relu", (32, 32, 32), 0), ("Pool1", "maxpool2d", (32, 16, 16), 0),
    ("Conv2", "conv2d", (64, 16, 16), 18_496), ("BN2", "batchnorm2d", (64, 16, 16), 128),
    ("ReLU2", "relu", (64, 16, 16), 0), ("Pool2", "maxpool2d", (64, 8, 8), 0),
    ("Conv3", "conv2d", (128, 8, 8), 73_856), ("BN3", "batchnorm2d", (128, 8, 8), 256),
    ("ReLU3", "relu", (128, 8, 8), 0), ("Pool3", "maxpool2d", (128, 4, 4), 0),
    ("Flatten", "flatten", (2048,), 0),
    ("FC1", "linear", (256,), 524_544), ("ReLU4", "relu", (256,), 0),
    ("Logits", "linear", (10,), 2_570),
]


@pytest.fixture(scope="module")
def default():
    return analyse(default_network())


# --------------------------------------------------------------------------- DESIGN.md §4


def test_default_has_the_17_design_rows(default) -> None:
    assert len(default.records) == 17
    assert [r.name for r in default.records] == [row[0] for row in DESIGN_ROWS]
    assert [r.index for r in default.records] == list(range(17))


@pytest.mark.parametrize(("i", "row"), list(enumerate(DESIGN_ROWS)), ids=[r[0] for r in DESIGN_ROWS])
def test_default_row_matches_design(default, i, row) -> None:
    name, kind, shape, params = row
    r = default.records[i]
    assert (r.name, r.type, r.output_shape, r.params) == (name, kind, shape, params)
    assert r.trainable_params == params
    assert r.activation_bytes == 4 * math.prod(shape)


def test_default_totals(default) -> None:
    assert default.total_params == 620_810
    assert default.trainable_params == 620_810
    assert default.total_macs == 10_906_826
    assert default.record("Conv1").macs == 917_504
    assert default.output_shape == (10,)


def test_shape_text_as_the_seed_writes_it(default) -> None:
    assert default.record("Input").shape_text == "(3, 32, 32)"
    assert default.record("Conv2").shape_text == "(64, 16, 16)"
    assert default.record("Flatten").shape_text == "(2048)"
    assert format_shape((10,)) == "(10)"


def test_batchnorm_buffers_are_two_per_channel(default) -> None:
    for name, c in (("BN1", 32), ("BN2", 64), ("BN3", 128)):
        r = default.record(name)
        assert (r.params, r.buffers, r.macs) == (2 * c, 2 * c, 2 * c)
    assert default.total_buffers == 2 * (32 + 64 + 128)
    assert all(r.buffers == 0 for r in default.records if r.type != "batchnorm2d")


def test_batchnorm_without_affine_has_buffers_but_no_params() -> None:
    net = from_json({"input": {"channels": 5, "height": 2, "width": 2},
                     "layers": [{"type": "batchnorm2d", "affine": False}]})
    r = analyse(net).records[1]
    assert (r.params, r.trainable_params, r.buffers, r.macs) == (0, 0, 10, 0)
    assert r.pytorch == "nn.BatchNorm2d(5, affine=False)"


def test_macs_follow_the_torchinfo_rule(default) -> None:
    """conv (k·k·C_in/g + bias)·C_out·H·W; linear (in + bias)·out; BN 2·C; else 0 — from the §4 numbers."""
    expected = {"Conv1": (3 * 3 * 3 + 1) * 32 * 32 * 32, "Conv2": (3 * 3 * 32 + 1) * 64 * 16 * 16,
                "Conv3": (3 * 3 * 64 + 1) * 128 * 8 * 8, "BN1": 64, "BN2": 128, "BN3": 256,
                "FC1": (2048 + 1) * 256, "Logits": (256 + 1) * 10}
    for r in default.records:
        assert r.macs == expected.get(r.name, 0), r.name
    assert sum(expected.values()) == 10_906_826


def test_pytorch_lines_of_design_section_3(default) -> None:
    lines = {r.name: r.pytorch for r in default.records}
    assert lines["Conv1"] == "nn.Conv2d(3, 32, kernel_size=3, padding=1)"
    assert lines["Conv2"] == "nn.Conv2d(32, 64, kernel_size=3, padding=1)"
    assert lines["BN1"] == "nn.BatchNorm2d(32)"
    assert lines["ReLU1"] == lines["ReLU4"] == "nn.ReLU(inplace=True)"
    assert lines["Pool1"] == lines["Pool2"] == lines["Pool3"] == "nn.MaxPool2d(kernel_size=2, stride=2)"
    assert lines["Flatten"] == "nn.Flatten()"
    assert lines["FC1"] == "nn.Linear(2048, 256)"
    assert lines["Logits"] == "nn.Linear(256, 10)"
    assert lines["Input"] == ""


def test_formulas(default) -> None:
    conv1 = default.record("Conv1")
    assert "3·3·3·32 + 32 = 896" in conv1.param_formula
    assert "⌊(32 + 2·1 − 3)/1⌋ + 1 = 32" in conv1.shape_formula
    assert "2048·256 + 256 = 524,544" in default.record("FC1").param_formula
    assert "⌊(32 + 2·0 − 2)/2⌋ + 1 = 16" in default.record("Pool1").shape_formula
    assert "128·4·4 = 2,048" in default.record("Flatten").shape_formula


def textbook_receptive_fields(net) -> list[tuple[int, int] | None]:
    """r_out = r_in + (d·(k − 1))·j_in, j_out = j_in·s (Araujo et al. 2019); None after Flatten."""
    r, j = [1, 1], [1, 1]
    out: list[tuple[int, int] | None] = [(1, 1)]
    flat = False
    for layer in net.layers:
        if isinstance(layer, (Flatten, Linear)):
            flat = True
        elif isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)):
            k = layer.kernel_size
            d = layer.dilation if isinstance(layer, Conv2d) else (1, 1)
            s = layer.stride or layer.kernel_size
            r = [r[a] + d[a] * (k[a] - 1) * j[a] for a in range(2)]
            j = [j[a] * s[a] for a in range(2)]
        out.append(None if flat else (r[0], r[1]))
    return out


def test_default_receptive_fields(default) -> None:
    expected = textbook_receptive_fields(default.network)
    assert [r.receptive_field for r in default.records] == expected
    # hand-checked anchors: 3 after Conv1, 4 after Pool1, 22 after Pool3
    assert default.record("Conv1").receptive_field == (3, 3)
    assert default.record("Pool1").receptive_field == (4, 4)
    assert default.record("Pool3").receptive_field == (22, 22)
    assert default.record("Pool3").jump == (8, 8)


@SETTINGS
@given(valid_architectures())
def test_receptive_fields_of_random_networks(data: dict) -> None:
    net = from_json(data)
    # Adaptive pooling has no single kernel/stride; compare the rows before the first one.
    n = next((i for i, layer in enumerate(net.layers, 1) if isinstance(layer, AdaptiveAvgPool2d)), None)
    got = [r.receptive_field for r in analyse(net).records][:n]
    assert got == textbook_receptive_fields(net)[:n]


def independent_shape(layer, shape):
    if isinstance(layer, Conv2d):
        return (layer.out_channels, *((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                                      zip(shape[1:], layer.kernel_size, layer.stride, layer.padding, layer.dilation)))
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        stride = layer.stride or layer.kernel_size
        return (shape[0], *((n + 2 * p - k) // s + 1 for n, k, s, p in
                            zip(shape[1:], layer.kernel_size, stride, layer.padding)))
    if isinstance(layer, AdaptiveAvgPool2d):
        return (shape[0], *layer.output_size)
    if isinstance(layer, Flatten):
        return (math.prod(shape),)
    if isinstance(layer, Linear):
        return (layer.out_features,)
    return shape


def independent_params(layer, shape):
    if isinstance(layer, Conv2d):
        return layer.out_channels * (shape[0] // layer.groups) * math.prod(layer.kernel_size) + \
            (layer.out_channels if layer.bias else 0)
    if isinstance(layer, BatchNorm2d):
        return 2 * shape[0] if layer.affine else 0
    if isinstance(layer, Linear):
        return layer.out_features * shape[0] + (layer.out_features if layer.bias else 0)
    return 0


def _eval_formula(text: str) -> int:
    return eval(text.replace("⌊", "(").replace("⌋", ")").replace("/", "//").replace("·", "*").replace("−", "-"),
                {"__builtins__": {}})


@SETTINGS
@given(valid_architectures())
def test_random_networks_shapes_params_and_formulas(data: dict) -> None:
    analysis = analyse(from_json(data))
    shape = analysis.records[0].output_shape
    assert shape == (data["input"]["channels"], data["input"]["height"], data["input"]["width"])
    for r in analysis.records[1:]:
        assert r.input_shape == shape
        assert r.output_shape == independent_shape(r.layer, shape), r.name
        assert r.params == r.trainable_params == independent_params(r.layer, shape), r.name
        assert r.activation_bytes == 4 * math.prod(r.output_shape)
        # Activations are in place unless that would overwrite a saved output (or the input).
        assert r.pytorch in (pytorch_line(r.layer, shape), pytorch_line(r.layer, shape, False))
        # Every "… = N" in the formulas evaluates to the N it shows, and N is the analysed number.
        for lhs, rhs in re.findall(r"(⌊\([^⌋]*⌋ \+ 1) = (\d+)", r.shape_formula):
            assert _eval_formula(lhs) == int(rhs)
            assert int(rhs) in r.output_shape[1:]
        if r.params:
            lhs, rhs = r.param_formula.split(" = ")
            assert int(rhs.split()[0].replace(",", "")) == r.params
            assert _eval_formula(lhs) == r.params
        else:
            assert "no parameters" in r.param_formula
        shape = r.output_shape
    assert analysis.total_params == sum(r.params for r in analysis.records)
    assert analysis.total_macs == sum(r.macs for r in analysis.records)


@SETTINGS
@given(valid_architectures())
def test_summary_json_schema(data: dict) -> None:
    out = analyse(from_json(data)).to_json()
    assert set(out) == {"name", "input_shape", "output_shape", "layers", "total_params", "trainable_params",
                        "total_macs"}
    assert out["output_shape"] == out["layers"][-1]["output_shape"]  # flat: the last row's output
    assert out["input_shape"] == [data["input"]["channels"], data["input"]["height"], data["input"]["width"]]
    keys = {"index", "name", "type", "output_shape", "params", "trainable_params", "buffers", "macs",
            "activation_bytes", "receptive_field", "pytorch", "block", "path", "depth"}
    assert out["layers"][0] == {"index": 0, "name": "Input", "type": "input", "output_shape": out["input_shape"],
                                "params": 0, "trainable_params": 0, "buffers": 0, "macs": 0,
                                "activation_bytes": 4 * math.prod(out["input_shape"]),
                                "receptive_field": [1, 1], "pytorch": "", "block": None, "path": [], "depth": 0}
    for i, layer in enumerate(out["layers"]):
        assert set(layer) == keys
        assert (layer["block"], layer["path"], layer["depth"]) == (None, [], 0)  # flat: all at the top
        assert layer["index"] == i
        assert isinstance(layer["output_shape"], list) and all(type(d) is int for d in layer["output_shape"])
        for key in ("params", "trainable_params", "buffers", "macs", "activation_bytes"):
            assert type(layer[key]) is int and layer[key] >= 0
        rf = layer["receptive_field"]
        assert rf is None or (isinstance(rf, list) and len(rf) == 2)
    for i, raw in enumerate(data["layers"], start=1):
        assert out["layers"][i]["type"] == raw["type"]
    assert out["total_params"] == sum(layer["params"] for layer in out["layers"])
    assert out["total_macs"] == sum(layer["macs"] for layer in out["layers"])


# --------------------------------------------------------------------------- fit errors


def net_of(*layers, c=3, h=8, w=8):
    return from_json({"input": {"channels": c, "height": h, "width": w}, "layers": list(layers)})


@pytest.mark.parametrize(("layers", "kw", "index", "name", "field", "needle"), [
    ([{"type": "linear", "out_features": 3}], {}, 1, "Logits", "type", "add {\"type\": \"flatten\"}"),
    ([{"type": "flatten"}, {"type": "conv2d", "out_channels": 1, "kernel_size": 1}], {}, 2, "Conv1", "type",
     "move it before Flatten"),
    ([{"type": "flatten"}, {"type": "batchnorm2d"}], {}, 2, "BN1", "type", "flat vector"),
    ([{"type": "flatten"}, {"type": "maxpool2d", "kernel_size": 1}], {}, 2, "Pool1", "type", "flat vector"),
    ([{"type": "flatten"}, {"type": "adaptive_avgpool2d", "output_size": 1}], {}, 2, "AdaptivePool1", "type",
     "flat vector"),
    ([{"type": "conv2d", "out_channels": 4, "kernel_size": 9}], {}, 1, "Conv1", "kernel_size",
     "kernel_size 9 does not fit a 8×8 input (padding 0)"),
    ([{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "dilation": 4}], {}, 1, "Conv1", "kernel_size",
     "dilation 4"),
    ([{"type": "maxpool2d", "kernel_size": 2, "padding": 2}], {}, 1, "Pool1", "padding", "use padding=1"),
    ([{"type": "avgpool2d", "kernel_size": [3, 4], "padding": [1, 3]}], {}, 1, "Pool1", "padding", "(width)"),
    ([{"type": "conv2d", "out_channels": 4, "kernel_size": 1, "groups": 2}], {}, 1, "Conv1", "groups",
     "groups=2 must divide both in_channels (3)"),
    ([{"type": "conv2d", "out_channels": 3, "kernel_size": 1, "groups": 3}, {"type": "conv2d", "out_channels": 4,
      "kernel_size": 1, "groups": 3}], {}, 2, "Conv2", "groups", "out_channels (4)"),
    ([{"type": "conv2d", "out_channels": 100_000, "kernel_size": 1}], {"h": 200, "w": 200}, 1, "Conv1", None,
     "more than the 2³¹"),
])
def test_fit_errors(layers, kw, index, name, field, needle) -> None:
    with pytest.raises(ArchitectureError) as info:
        analyse(net_of(*layers, **kw))
    err = info.value
    assert (err.index, err.layer_name, err.field) == (index, name, field)
    assert str(err).startswith(f"{name} (layer {index}): ")
    assert needle in str(err)


def test_activation_limit_on_the_input() -> None:
    with pytest.raises(ArchitectureError) as info:
        analyse(net_of({"type": "relu"}, c=3, h=30_000, w=30_000))
    assert (info.value.index, info.value.layer_name) == (0, "Input")


def test_activation_limit_is_inclusive() -> None:
    ok = net_of({"type": "conv2d", "out_channels": 2**11, "kernel_size": 1}, c=1, h=2**10, w=2**10)  # exactly 2³¹
    assert analyse(ok).records[1].output_shape == (2048, 1024, 1024)


def test_pooling_padding_half_kernel_is_allowed() -> None:
    r = analyse(net_of({"type": "maxpool2d", "kernel_size": 3, "stride": 1, "padding": 1})).records[1]
    assert r.output_shape == (3, 8, 8)
    assert r.pytorch == "nn.MaxPool2d(kernel_size=3, stride=1, padding=1)"


# --------------------------------------------------------------------------- codegen lines


@pytest.mark.parametrize(("layer", "shape", "line"), [
    (Conv2d(out_channels=8, kernel_size=(3, 3)), (4, 9, 9), "nn.Conv2d(4, 8, kernel_size=3)"),
    (Conv2d(out_channels=8, kernel_size=(3, 1), stride=(2, 2), padding=(1, 0), dilation=(2, 1), groups=4,
            bias=False), (4, 9, 9),
     "nn.Conv2d(4, 8, kernel_size=(3, 1), stride=2, padding=(1, 0), dilation=(2, 1), groups=4, bias=False)"),
    (BatchNorm2d(eps=1e-3, momentum=0.01), (6, 2, 2), "nn.BatchNorm2d(6, eps=0.001, momentum=0.01)"),
    (LeakyReLU(), (6,), "nn.LeakyReLU(inplace=True)"),
    (LeakyReLU(negative_slope=0.2), (6,), "nn.LeakyReLU(negative_slope=0.2, inplace=True)"),
    (LeakyReLU(negative_slope=-0.5), (6,), "nn.LeakyReLU(negative_slope=-0.5)"),
    (MaxPool2d(kernel_size=(3, 3)), (1, 9, 9), "nn.MaxPool2d(kernel_size=3, stride=3)"),
    (AvgPool2d(kernel_size=(2, 4), stride=(1, 2), padding=(1, 2)), (1, 9, 9),
     "nn.AvgPool2d(kernel_size=(2, 4), stride=(1, 2), padding=(1, 2))"),
    (AdaptiveAvgPool2d(output_size=(1, 1)), (1, 9, 9), "nn.AdaptiveAvgPool2d(1)"),
    (AdaptiveAvgPool2d(output_size=(2, 3)), (1, 9, 9), "nn.AdaptiveAvgPool2d((2, 3))"),
    (Dropout(), (4,), "nn.Dropout()"),
    (Dropout(p=0.25), (4,), "nn.Dropout(p=0.25)"),
    (Linear(out_features=3, bias=False), (7,), "nn.Linear(7, 3, bias=False)"),
    (Linear(out_features=3), (2, 2, 2), "nn.Linear(8, 3)"),
])
def test_pytorch_line(layer, shape, line) -> None:
    assert pytorch_line(layer, shape) == line


def test_module_source_lists_layers_in_order(default) -> None:
    src = module_source(default)
    body = [re.fullmatch(r"(nn\..*\)),\s+# (\w+): (.*)", line.strip()) for line in src.splitlines()
            if line.strip().startswith("nn.")]
    assert [(m[1], m[2], m[3]) for m in body] == [(r.pytorch, r.name, r.shape_text) for r in default.records[1:]]
    assert "class CIFAR10CNN(nn.Module):" in src and "def __init__(self) -> None:" in src
    assert "self.layers = nn.Sequential(" in src and 'if __name__ == "__main__":' in src
    compile(src, "generated.py", "exec")


@pytest.mark.parametrize(("name", "cls"), [("CIFAR-10 CNN", "CIFAR10CNN"), ("10 layers", "Net10Layers"),
                                           ("none", "NetNone"), ("true", "NetTrue"), ("!!!", "Network"),
                                           ("my net", "MyNet")])
def test_class_name_is_a_valid_identifier(name, cls) -> None:
    net = from_json({"name": name, "input": {"channels": 1, "height": 1, "width": 1}, "layers": [{"type": "relu"}]})
    assert class_name(net) == cls
    compile(module_source(analyse(net)), "generated.py", "exec")


@pytest.mark.parametrize("text", ['a"""b', "C:\\new\\x1", "ends\\", 'quote"', "tab\tname", "é ☃ 𝔁"])
@pytest.mark.parametrize("where", ["network", "layer"])
def test_module_source_compiles_whatever_the_names(text, where) -> None:
    data = {"name": text if where == "network" else "n", "input": {"channels": 1, "height": 2, "width": 2},
            "layers": [{"type": "relu", **({"name": text} if where == "layer" else {})}, {"type": "flatten"},
                       {"type": "linear", "out_features": 2, "name": "new\nline" if where == "layer" else "Out"}]}
    src = module_source(analyse(from_json(data)))
    tree = ast.parse(src)
    compile(tree, "generated.py", "exec")
    if where == "network" and text.isprintable():
        assert ast.get_docstring(tree).startswith(f"{text}: generated")
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert len(classes) == 1 and classes[0].name.isidentifier()
