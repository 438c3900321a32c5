"""explorer.spec: parsing, validation, defaults, names and serialisation (DESIGN.md §2)."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import spec
from explorer.analysis import analyse
from explorer.spec import (ArchitectureError, BatchNorm2d, Conv2d, Flatten, InputSpec, Linear, MaxPool2d, Network,
                           ReLU, default_network, from_json, loads, resolve_names)
from strategies import field_valid_architectures, valid_architectures

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def arch(*layers: dict, c: int = 3, h: int = 8, w: int = 8) -> dict:
    return {"input": {"channels": c, "height": h, "width": w}, "layers": list(layers)}


def error_of(data) -> ArchitectureError:
    with pytest.raises(ArchitectureError) as info:
        net = from_json(data) if not isinstance(data, str) else loads(data)
        analyse(net)
    return info.value


# --------------------------------------------------------------------------- round trips


@SETTINGS
@given(field_valid_architectures())
def test_json_round_trip_of_field_valid_specs(data: dict) -> None:
    net = from_json(data)
    assert loads(net.dumps()) == net
    assert loads(net.dumps(indent=None)) == net
    assert from_json(json.loads(json.dumps(net.to_json()))) == net
    # Serialising is canonical: a second pass writes exactly the same JSON.
    assert from_json(net.to_json()).to_json() == net.to_json()


@SETTINGS
@given(valid_architectures())
def test_round_trip_preserves_the_analysis(data: dict) -> None:
    net = from_json(data)
    again = loads(net.dumps())
    assert again == net
    assert analyse(again).to_json() == analyse(net).to_json()


@SETTINGS
@given(field_valid_architectures())
def test_to_json_omits_defaults_and_writes_square_sizes_as_ints(data: dict) -> None:
    out = from_json(data).to_json()
    for layer in out["layers"]:
        cls = spec.LAYER_TYPES[layer["type"]]
        defaults = cls.__dataclass_fields__
        for key, value in layer.items():
            if key in ("type", "name"):
                continue
            f = defaults[key]
            if f.metadata.get("kind") == "size":
                assert isinstance(value, int) or (isinstance(value, list) and value[0] != value[1]), (key, value)
            default = f.default
            if isinstance(value, int) and f.metadata.get("kind") == "size":
                value = (value, value)
            elif isinstance(value, list):
                value = tuple(value)
            assert value != default, f"{layer['type']}.{key} default {default!r} was written out"


def test_default_network_round_trips_to_the_design_json() -> None:
    net = default_network()
    assert net.to_json() == spec.DEFAULT_JSON
    assert loads(json.dumps(spec.DEFAULT_JSON)) == net


def test_spec_does_not_mutate_its_input() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    from_json(data)
    assert data == spec.DEFAULT_JSON


# --------------------------------------------------------------------------- fields and defaults


def test_pytorch_defaults() -> None:
    net = from_json(arch({"type": "conv2d", "out_channels": 4, "kernel_size": 3},
                         {"type": "batchnorm2d"},
                         {"type": "maxpool2d", "kernel_size": 2},
                         {"type": "leaky_relu"}, {"type": "dropout"},
                         {"type": "flatten"}, {"type": "linear", "out_features": 2}))
    conv, bn, pool, leaky, drop, _, fc = net.layers
    assert (conv.stride, conv.padding, conv.dilation, conv.groups, conv.bias) == ((1, 1), (0, 0), (1, 1), 1, True)
    assert (bn.eps, bn.momentum, bn.affine) == (1e-5, 0.1, True)
    assert pool.stride is None and pool.padding == (0, 0)
    assert leaky.negative_slope == 0.01 and drop.p == 0.5 and fc.bias is True
    # maxpool stride defaults to the kernel size (PyTorch's rule)
    assert analyse(net).records[3].output_shape == (4, 3, 3)


@pytest.mark.parametrize(("value", "expected"), [(3, (3, 3)), ([3, 3], (3, 3)), ([2, 5], (2, 5)), ([5, 2], (5, 2))])
def test_sizes_are_int_or_height_width(value, expected) -> None:
    net = from_json(arch({"type": "conv2d", "out_channels": 1, "kernel_size": value, "stride": value,
                          "padding": value, "dilation": value}, h=40, w=40))
    conv = net.layers[0]
    assert conv.kernel_size == conv.stride == conv.padding == conv.dilation == expected
    written = net.to_json()["layers"][0]["kernel_size"]
    assert written == (expected[0] if expected[0] == expected[1] else list(expected))


def test_non_square_sizes_give_non_square_shapes() -> None:
    net = from_json(arch({"type": "conv2d", "out_channels": 2, "kernel_size": [3, 1], "padding": [0, 2]}, h=10, w=6))
    assert analyse(net).records[1].output_shape == (2, 8, 10)


def test_type_is_case_insensitive_and_name_is_stripped() -> None:
    net = from_json(arch({"type": "ReLU", "name": "  act  "}))
    assert isinstance(net.layers[0], ReLU) and net.layers[0].name == "act"
    assert net.names == ("act",)


@pytest.mark.parametrize("bad", [0, -1, 3.0, 2.5, True, "3", None, [3], [3, 3, 3], [3, "3"], 100_001])
def test_bad_size_values_are_rejected_naming_the_field(bad) -> None:
    err = error_of(arch({"type": "conv2d", "out_channels": 1, "kernel_size": bad}))
    assert (err.index, err.layer_name, err.field) == (1, "Conv1", "kernel_size")
    assert str(err).startswith("Conv1 (layer 1): kernel_size")


def test_float_with_integer_value_suggests_the_int() -> None:
    err = error_of(arch({"type": "conv2d", "out_channels": 1, "kernel_size": 3.0}))
    assert "write 3 without a decimal point" in str(err)


@pytest.mark.parametrize(("layer", "field"), [
    ({"type": "batchnorm2d", "eps": 0}, "eps"),
    ({"type": "batchnorm2d", "eps": -1e-5}, "eps"),
    ({"type": "batchnorm2d", "momentum": 1.5}, "momentum"),
    ({"type": "batchnorm2d", "momentum": "0.1"}, "momentum"),
    ({"type": "batchnorm2d", "affine": 1}, "affine"),
    ({"type": "dropout", "p": 1}, "p"),
    ({"type": "dropout", "p": -0.1}, "p"),
    ({"type": "dropout", "p": True}, "p"),
    ({"type": "leaky_relu", "negative_slope": float("nan")}, "negative_slope"),
    ({"type": "conv2d", "out_channels": 1, "kernel_size": 1, "bias": "yes"}, "bias"),
    ({"type": "conv2d", "out_channels": 1, "kernel_size": 1, "padding": -1}, "padding"),
])
def test_bad_numbers_and_flags(layer, field) -> None:
    err = error_of(arch(layer))
    assert err.index == 1 and err.field == field
    assert f"(layer 1): {field}" in str(err)


def test_zero_padding_allowed_but_zero_stride_not() -> None:
    from_json(arch({"type": "conv2d", "out_channels": 1, "kernel_size": 1, "padding": 0}))
    assert error_of(arch({"type": "conv2d", "out_channels": 1, "kernel_size": 1, "stride": 0})).field == "stride"


def test_max_size_is_inclusive() -> None:
    net = from_json({"input": {"channels": 1, "height": 1, "width": 100_000}, "layers": [{"type": "relu"}]})
    assert net.input == InputSpec(1, 1, 100_000)
    err = error_of({"input": {"channels": 1, "height": 1, "width": 100_001}, "layers": [{"type": "relu"}]})
    assert (err.index, err.layer_name, err.field) == (0, "Input", "width")


# --------------------------------------------------------------------------- stated vs inferred sizes


def test_inferred_input_sizes_rewire_after_an_edit() -> None:
    net = default_network()
    conv1 = net.layers[0]
    wider = net.replace_layer(0, Conv2d(out_channels=48, kernel_size=(3, 3), padding=(1, 1), name=conv1.name))
    rec = analyse(wider)
    assert rec.record("BN1").params == 2 * 48
    assert rec.record("Conv2").pytorch == "nn.Conv2d(48, 64, kernel_size=3, padding=1)"
    assert rec.record("Conv2").params == 3 * 3 * 48 * 64 + 64


def test_stated_sizes_that_match_are_accepted_and_kept() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    data["layers"][4]["in_channels"] = 32
    data["layers"][5]["num_features"] = 64
    data["layers"][13]["in_features"] = 2048
    net = from_json(data)
    assert analyse(net).total_params == 620_810
    out = net.to_json()["layers"]
    assert out[4]["in_channels"] == 32 and out[5]["num_features"] == 64 and out[13]["in_features"] == 2048


def test_stated_in_features_mismatch_teaches_the_fix() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    data["layers"][13]["in_features"] = 4096
    err = error_of(data)
    assert (err.index, err.layer_name, err.field) == (14, "FC1", "in_features")
    assert str(err) == ("FC1 (layer 14): in_features is 4096 but 2048 values arrive (128×4×4 after Flatten); "
                        "use nn.Linear(2048, 256)")


def test_stated_in_channels_mismatch_teaches_the_fix() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    data["layers"][8]["in_channels"] = 32
    err = error_of(data)
    assert (err.index, err.layer_name, err.field) == (9, "Conv3", "in_channels")
    assert "in_channels is 32 but 64 channels arrive" in str(err)
    assert str(err).endswith("use nn.Conv2d(64, 128, kernel_size=3, padding=1)")


def test_stated_num_features_mismatch_teaches_the_fix() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    data["layers"][1]["num_features"] = 3
    err = error_of(data)
    assert (err.index, err.layer_name, err.field) == (2, "BN1", "num_features")
    assert str(err).endswith("use nn.BatchNorm2d(32)")


def test_error_str_format() -> None:
    err = ArchitectureError("kernel_size 5 does not fit", index=9, name="Conv3", field="kernel_size")
    assert str(err) == "Conv3 (layer 9): kernel_size 5 does not fit"
    assert (err.index, err.layer_name, err.field, err.reason) == (9, "Conv3", "kernel_size", "kernel_size 5 does not fit")
    assert str(ArchitectureError("top level")) == "top level"


def test_design_example_kernel_does_not_fit() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    data["input"] = {"channels": 3, "height": 8, "width": 8}
    data["layers"][8].update(kernel_size=5, padding=0)
    err = error_of(data)
    assert (err.index, err.layer_name, err.field) == (9, "Conv3", "kernel_size")
    assert str(err).startswith("Conv3 (layer 9): kernel_size 5 does not fit a 2×2 input (padding 0)")


# --------------------------------------------------------------------------- names


def test_default_names_follow_the_seed() -> None:
    assert default_network().names == ("Conv1", "BN1", "ReLU1", "Pool1", "Conv2", "BN2", "ReLU2", "Pool2", "Conv3",
                                       "BN3", "ReLU3", "Pool3", "Flatten", "FC1", "ReLU4", "Logits")


def test_default_names_without_user_names() -> None:
    data = copy.deepcopy(spec.DEFAULT_JSON)
    for layer in data["layers"]:
        layer.pop("name", None)
    assert from_json(data).names == default_network().names


def test_last_linear_is_logits_and_others_are_numbered() -> None:
    layers = (Flatten(), Linear(out_features=4), ReLU(), Linear(out_features=4), Linear(out_features=2))
    assert resolve_names(layers) == ("Flatten", "FC1", "ReLU1", "FC2", "Logits")
    assert resolve_names((Flatten(), Linear(out_features=2))) == ("Flatten", "Logits")


def test_two_flattens_are_numbered_one_is_not() -> None:
    assert resolve_names((Flatten(), Flatten(), Linear(out_features=1))) == ("Flatten1", "Flatten2", "Logits")
    assert resolve_names((Flatten(),)) == ("Flatten",)


def test_max_and_avg_pools_share_the_pool_counter() -> None:
    from explorer.spec import AvgPool2d
    layers = (MaxPool2d(kernel_size=(2, 2)), AvgPool2d(kernel_size=(2, 2)), MaxPool2d(kernel_size=(1, 1)))
    assert resolve_names(layers) == ("Pool1", "Pool2", "Pool3")


def test_user_names_are_kept_and_clashing_defaults_get_a_suffix() -> None:
    layers = (ReLU(name="Conv2"), Conv2d(out_channels=1, kernel_size=(1, 1)), Conv2d(out_channels=1, kernel_size=(1, 1)),
              BatchNorm2d(name="stem"), Flatten(), Linear(out_features=1, name="Logits"), Linear(out_features=1))
    names = resolve_names(layers)
    assert names == ("Conv2", "Conv1", "Conv2b", "stem", "Flatten", "Logits", "Logitsb")
    assert len(set(names)) == len(names)


def test_duplicate_user_names_are_rejected() -> None:
    err = error_of(arch({"type": "relu", "name": "act"}, {"type": "tanh"}, {"type": "sigmoid", "name": "act"}))
    assert (err.index, err.layer_name, err.field) == (3, "act", "name")
    assert "layer 1" in str(err)


@pytest.mark.parametrize("bad", ["Input", " Input ", "", "   ", 7, None, "x" * 101, "\ud800"])
def test_bad_layer_names(bad) -> None:
    err = error_of(arch({"type": "relu"}, {"type": "relu", "name": bad}))
    assert err.index == 2 and err.field == "name"


@pytest.mark.parametrize("bad", ["", "  ", 3, ["a"], "\udc80"])
def test_bad_network_names(bad) -> None:
    data = arch({"type": "relu"})
    data["name"] = bad
    assert "name" in str(error_of(data))


def test_network_name_defaults_and_is_stripped() -> None:
    assert from_json(arch({"type": "relu"})).name == "Network"
    data = arch({"type": "relu"})
    data["name"] = "  My net "
    assert from_json(data).name == "My net"


@SETTINGS
@given(field_valid_architectures())
def test_resolved_names_are_unique_and_never_input(data: dict) -> None:
    names = from_json(data).names
    assert len(set(names)) == len(names)
    assert "Input" not in names
    for layer, name in zip(data["layers"], names):
        if "name" in layer:
            assert name == layer["name"]


# --------------------------------------------------------------------------- structure errors


@pytest.mark.parametrize(("text", "needle"), [
    ("{", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ("null", "must be a JSON object"),
    ('{"layers": [{"type": "relu"}]}', "\"input\" is missing"),
    ('{"input": {"channels": 1, "height": 1, "width": 1}}', "\"layers\" is missing"),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": []}', "non-empty list"),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": {}}', "non-empty list"),
    ('{"input": [1, 1, 1], "layers": [{"type": "relu"}]}', "must be an object"),
    ('{"input": {"channels": 1, "height": 1}, "layers": [{"type": "relu"}]}', "width is missing"),
    ('{"input": {"channels": 1, "height": 1, "width": 1, "depth": 1}, "layers": [{"type": "relu"}]}',
     "unknown field \"depth\""),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": [{"type": "relu"}], "extra": 1}',
     "unknown top-level field \"extra\""),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": [3]}', "must be an object"),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": [{"name": "x"}]}', "\"type\" is missing"),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": [{"type": "conv"}]}', "did you mean \"conv2d\""),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": [{"type": "relu", "inplace": true}]}',
     "unknown field \"inplace\" for relu"),
    ('{"input": {"channels": 1, "height": 1, "width": 1}, "layers": [{"type": "linear"}]}', "needs out_features"),
    ("[" * 100_000, "JSON"),
    ('{"input": {"channels": ' + "1" * 5000 + ', "height": 1, "width": 1}, "layers": [{"type": "relu"}]}', "JSON"),
])
def test_structure_errors(text: str, needle: str) -> None:
    assert needle in str(error_of(text))


def test_too_many_layers() -> None:
    assert "1001 layers" in str(error_of(arch(*[{"type": "relu"}] * 1001)))


def test_unknown_field_suggests_the_close_one() -> None:
    err = error_of(arch({"type": "conv2d", "out_channels": 1, "kernel_size": 1, "strides": 2}))
    assert (err.layer_name, err.field) == ("Conv1", "strides") and "did you mean \"stride\"" in str(err)


def test_unknown_type_is_named_by_position_or_user_name() -> None:
    err = error_of(arch({"type": "relu"}, {"type": "conv3d"}))
    assert str(err).startswith("Layer 2: unknown layer type \"conv3d\"")
    err = error_of(arch({"type": "relu"}, {"type": "conv3d", "name": "Deep"}))
    assert str(err).startswith("Deep (layer 2): unknown layer type")


@given(st.sampled_from(sorted(spec.LAYER_TYPES)))
@settings(deadline=None, derandomize=True)
def test_every_type_rejects_an_unknown_field(kind: str) -> None:
    err = error_of(arch({"type": kind, "zzz_unknown": 1}))
    assert err.field == "zzz_unknown" and err.index == 1


def test_network_dataclass_api() -> None:
    net = Network("n", InputSpec(1, 4, 4), (ReLU(),))
    assert net.input.shape == (1, 4, 4) and net.names == ("ReLU1",)
    assert json.loads(net.dumps()) == {"name": "n", "input": {"channels": 1, "height": 4, "width": 4},
                                       "layers": [{"type": "relu"}]}
