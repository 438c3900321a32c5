"""The command line (DESIGN.md §3): summary (table/json), code, and exit 2 for user errors."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import cli
from explorer.spec import DEFAULT_JSON

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DESIGN_NAMES = ["Input", "Conv1", "BN1", "ReLU1", "Pool1", "Conv2", "BN2", "ReLU2", "Pool2", "Conv3", "BN3",
                "ReLU3", "Pool3", "Flatten", "FC1", "ReLU4", "Logits"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([PYTHON, "-m", "explorer", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)


def main(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data, name: str = "arch.json") -> str:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def default_with(**edits) -> dict:
    """The seed JSON with layer edits: {layer position (0-based in "layers"): {field: value or None to drop}}."""
    data = copy.deepcopy(DEFAULT_JSON)
    for key, change in edits.items():
        if key == "input":
            data["input"].update(change)
            continue
        layer = data["layers"][int(key[1:])]
        for field, value in change.items():
            if value is None:
                layer.pop(field, None)
            else:
                layer[field] = value
    return data


# --------------------------------------------------------------------------- summary


def test_summary_table_of_the_default_network(capsys) -> None:
    code, out, err = main(capsys, "summary")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "CIFAR-10 CNN"
    rows = {line.split()[1]: line for line in lines if line.split() and line.split()[0].isdigit()}
    assert list(rows) == DESIGN_NAMES
    for name, shape, params in [("Input", "(3, 32, 32)", "0"), ("Conv1", "(32, 32, 32)", "896"),
                                ("BN1", "(32, 32, 32)", "64"), ("Pool1", "(32, 16, 16)", "0"),
                                ("Conv2", "(64, 16, 16)", "18,496"), ("Conv3", "(128, 8, 8)", "73,856"),
                                ("BN3", "(128, 8, 8)", "256"), ("Flatten", "(2048)", "0"),
                                ("FC1", "(256)", "524,544"), ("Logits", "(10)", "2,570")]:
        assert shape in rows[name] and f" {params} " in rows[name] + " ", name
    assert "917,504" in rows["Conv1"]
    total = next(line for line in lines if line.split()[:1] == ["Total"])
    assert "620,810" in total and "10,906,826" in total


def test_summary_json_contract(capsys) -> None:
    code, out, err = main(capsys, "summary", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"name", "input_shape", "output_shape", "layers", "total_params", "trainable_params",
                         "total_macs"}
    assert data["name"] == "CIFAR-10 CNN" and data["input_shape"] == [3, 32, 32] and data["output_shape"] == [10]
    assert (data["total_params"], data["trainable_params"], data["total_macs"]) == (620_810, 620_810, 10_906_826)
    assert [layer["name"] for layer in data["layers"]] == DESIGN_NAMES
    keys = {"index", "name", "type", "output_shape", "params", "trainable_params", "buffers", "macs",
            "activation_bytes", "receptive_field", "pytorch", "block", "path", "depth"}
    for i, layer in enumerate(data["layers"]):
        assert set(layer) == keys and layer["index"] == i and layer["depth"] == 0 and layer["block"] is None
    first = data["layers"][0]
    assert (first["type"], first["params"], first["output_shape"]) == ("input", 0, [3, 32, 32])
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["Flatten"]["output_shape"] == [2048]
    assert by_name["BN2"]["buffers"] == 128 and by_name["BN2"]["params"] == 128
    assert by_name["Conv1"]["macs"] == 917_504
    assert by_name["Conv1"]["receptive_field"] == [3, 3] and by_name["FC1"]["receptive_field"] is None
    assert by_name["FC1"]["pytorch"] == "nn.Linear(2048, 256)"
    assert sum(layer["params"] for layer in data["layers"]) == 620_810


def test_summary_of_a_file_equals_the_default(tmp_path, capsys) -> None:
    path = write(tmp_path, DEFAULT_JSON)
    assert main(capsys, "summary", path, "--format", "json")[1] == main(capsys, "summary", "--format", "json")[1]


def test_summary_handles_non_ascii_names(tmp_path, capsys) -> None:
    data = {"name": "Réseau ☃", "input": {"channels": 1, "height": 4, "width": 4},
            "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "name": "Faltung×"}]}
    path = write(tmp_path, data)
    code, out, _ = main(capsys, "summary", path, "--format", "json")
    assert code == 0
    parsed = json.loads(out)
    assert parsed["name"] == "Réseau ☃" and parsed["layers"][1]["name"] == "Faltung×"
    assert parsed["layers"][1]["output_shape"] == [2, 2, 2]


def test_summary_subprocess_table_and_json() -> None:
    result = run("summary")
    assert result.returncode == 0, result.stderr
    assert "620,810" in result.stdout and "Logits" in result.stdout
    result = run("summary", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["total_params"] == 620_810


# --------------------------------------------------------------------------- code


@pytest.mark.torch
@pytest.mark.parametrize(("data", "expected"), [
    (None, "(2, 10)"),
    ({"name": "odd sizes", "input": {"channels": 2, "height": 9, "width": 5},
      "layers": [{"type": "conv2d", "out_channels": 4, "kernel_size": [3, 1], "stride": [2, 1], "groups": 2},
                 {"type": "batchnorm2d", "affine": False}, {"type": "leaky_relu", "negative_slope": -0.1},
                 {"type": "avgpool2d", "kernel_size": 2, "stride": 1, "padding": 1},
                 {"type": "adaptive_avgpool2d", "output_size": [3, 2]}, {"type": "flatten"},
                 {"type": "dropout", "p": 0.2}, {"type": "linear", "out_features": 7, "bias": False}]},
     "(2, 7)"),
    ({"name": "None", "input": {"channels": 1, "height": 3, "width": 3},
      "layers": [{"type": "sigmoid", "name": 'quote """ and \\x back\\'}]}, "(2, 1, 3, 3)"),
])
def test_code_output_runs(tmp_path, data, expected) -> None:
    pytest.importorskip("torch")
    args = ["code"] if data is None else ["code", write(tmp_path, data)]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    generated = tmp_path / "generated_model.py"
    generated.write_text(result.stdout, encoding="utf-8")
    ran = subprocess.run([PYTHON, str(generated)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert f"output shape: {expected}" in ran.stdout
    summary = json.loads(run("summary", "--format", "json", *args[1:]).stdout)
    assert f"parameters: {summary['total_params']}" in ran.stdout


def test_code_in_process(capsys) -> None:
    code, out, err = main(capsys, "code")
    assert code == 0 and err == ""
    assert out.startswith('"""CIFAR-10 CNN') and "class CIFAR10CNN(nn.Module):" in out
    compile(out, "generated.py", "exec")


# --------------------------------------------------------------------------- user errors

INPUT = {"channels": 3, "height": 8, "width": 8}


def small(*layers: dict, **input_) -> dict:
    return {"input": {**INPUT, **input_}, "layers": list(layers)}


# (id, file content (str/bytes/dict) or a special path, substrings stderr must contain)
BAD = [
    ("malformed-json", '{"input": {"channels": 3,', ["not valid JSON", "line 1"]),
    ("trailing-comma", '{"input": {"channels": 3, "height": 8, "width": 8}, "layers": [{"type": "relu"},]}',
     ["not valid JSON"]),
    ("not-an-object", "[1, 2, 3]", ["must be a JSON object"]),
    ("string-document", '"hello"', ["must be a JSON object"]),
    ("missing-input", {"layers": [{"type": "relu"}]}, ["Input (layer 0)", "\"input\" is missing"]),
    ("input-missing-height", {"input": {"channels": 3, "width": 8}, "layers": [{"type": "relu"}]},
     ["Input (layer 0)", "height is missing"]),
    ("missing-layers", {"input": INPUT}, ["\"layers\" is missing"]),
    ("empty-layers", small(), ["non-empty list"]),
    ("layer-not-object", small({"type": "relu"}, "relu"), ["Layer 2", "must be an object"]),
    ("unknown-type", small({"type": "relu"}, {"type": "conv3d", "name": "Deep"}),
     ["Deep (layer 2)", "unknown layer type \"conv3d\""]),
    ("unknown-type-unnamed", small({"type": "relu"}, {"type": "transformer"}), ["Layer 2", "unknown layer type"]),
    ("unknown-field", small({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "strides": 2}),
     ["Conv1 (layer 1)", "unknown field \"strides\"", "did you mean \"stride\""]),
    ("unknown-top-level-field", {**small({"type": "relu"}), "optimizer": "sgd"}, ["unknown top-level field"]),
    ("missing-required-field", small({"type": "relu"}, {"type": "conv2d", "out_channels": 4}),
     ["Conv1 (layer 2)", "needs kernel_size"]),
    ("float-for-int", small({"type": "conv2d", "out_channels": 4, "kernel_size": 3.0}),
     ["Conv1 (layer 1)", "kernel_size must be an integer", "write 3 without a decimal point"]),
    ("fractional-float", small({"type": "conv2d", "out_channels": 4.5, "kernel_size": 3}),
     ["Conv1 (layer 1)", "out_channels must be an integer"]),
    ("bool-for-int", small({"type": "conv2d", "out_channels": True, "kernel_size": 3}),
     ["Conv1 (layer 1)", "out_channels must be an integer"]),
    ("string-for-int", small({"type": "maxpool2d", "kernel_size": "2"}), ["Pool1 (layer 1)", "kernel_size"]),
    ("string-for-bool", small({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "bias": "false"}),
     ["Conv1 (layer 1)", "bias must be true or false"]),
    ("size-zero", small({"type": "relu"}, {"type": "conv2d", "out_channels": 4, "kernel_size": 0}),
     ["Conv1 (layer 2)", "kernel_size is 0"]),
    ("input-channels-zero", small({"type": "relu"}, channels=0), ["Input (layer 0)", "channels is 0"]),
    ("negative-padding", small({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": -1}),
     ["Conv1 (layer 1)", "padding is -1"]),
    ("size-over-limit", small({"type": "relu"}, height=100_001), ["Input (layer 0)", "height is 100,001"]),
    ("out-channels-over-limit", small({"type": "conv2d", "out_channels": 100_001, "kernel_size": 1}),
     ["Conv1 (layer 1)", "100,000"]),
    ("activation-over-2^31", small({"type": "relu"}, {"type": "conv2d", "out_channels": 100_000, "kernel_size": 1},
                                   height=256, width=256),
     ["Conv1 (layer 2)", "2³¹"]),
    ("input-over-2^31", small({"type": "relu"}, channels=3, height=50_000, width=50_000),
     ["Input (layer 0)", "2³¹"]),
    ("kernel-larger-than-input", default_with(input={"height": 8, "width": 8}, l8={"kernel_size": 5, "padding": None}),
     ["Conv3 (layer 9)", "kernel_size 5 does not fit a 2×2 input (padding 0)"]),
    ("pool-padding-over-half-kernel", small({"type": "maxpool2d", "kernel_size": 2, "padding": 2}),
     ["Pool1 (layer 1)", "padding 2 is more than half the kernel size 2"]),
    ("linear-before-flatten", default_with(l12={"type": "relu"}),
     ["FC1 (layer 14)", "needs a flat vector", "add {\"type\": \"flatten\"}"]),
    ("conv-after-flatten", small({"type": "flatten"}, {"type": "conv2d", "out_channels": 2, "kernel_size": 1}),
     ["Conv1 (layer 2)", "move it before Flatten"]),
    ("batchnorm-after-flatten", small({"type": "flatten"}, {"type": "batchnorm2d"}), ["BN1 (layer 2)"]),
    ("stated-in-features-mismatch", default_with(l13={"in_features": 4096}),
     ["FC1 (layer 14): in_features is 4096 but 2048 values arrive (128×4×4 after Flatten); use nn.Linear(2048, 256)"]),
    ("stated-in-channels-mismatch", default_with(l4={"in_channels": 3}),
     ["Conv2 (layer 5)", "in_channels is 3 but 32 channels arrive", "nn.Conv2d(32, 64, kernel_size=3, padding=1)"]),
    ("stated-num-features-mismatch", default_with(l9={"num_features": 64}),
     ["BN3 (layer 10)", "nn.BatchNorm2d(128)"]),
    ("groups-not-dividing", small({"type": "conv2d", "out_channels": 4, "kernel_size": 1, "groups": 2}),
     ["Conv1 (layer 1)", "groups=2 must divide"]),
    ("duplicate-name", small({"type": "relu", "name": "act"}, {"type": "tanh", "name": "act"}),
     ["act (layer 2)", "already used by layer 1"]),
    ("name-input", small({"type": "relu", "name": "Input"}), ["(layer 1)", "reserved"]),
    ("name-too-long", small({"type": "relu", "name": "x" * 101}), ["(layer 1)", "at most 100 characters"]),
    ("dropout-p-1", small({"type": "dropout", "p": 1}), ["Dropout1 (layer 1)", "p 1 is outside [0, 1)"]),
    ("negative-eps", small({"type": "batchnorm2d", "eps": -1e-5}), ["BN1 (layer 1)", "eps"]),
    ("nan-momentum", '{"input": {"channels": 3, "height": 8, "width": 8}, "layers": '
                     '[{"type": "batchnorm2d", "momentum": NaN}]}', ["BN1 (layer 1)", "momentum must be a number"]),
    ("size-with-3-items", small({"type": "conv2d", "out_channels": 2, "kernel_size": [3, 3, 3]}),
     ["Conv1 (layer 1)", "kernel_size must be an integer or [height, width]"]),
    ("deeply-nested-json", "[" * 200_000 + "]" * 200_000, ["JSON"]),
    ("5000-digit-integer", '{"input": {"channels": ' + "9" * 5000 + ', "height": 8, "width": 8}, '
                           '"layers": [{"type": "relu"}]}', ["JSON", "digits"]),
    ("lone-surrogate-name", '{"name": "\\ud800", "input": {"channels": 3, "height": 8, "width": 8}, '
                            '"layers": [{"type": "relu"}]}', ["\"name\" must be"]),
    ("lone-surrogate-layer-name", '{"input": {"channels": 3, "height": 8, "width": 8}, '
                                  '"layers": [{"type": "relu", "name": "\\udc80"}]}', ["(layer 1)", "name must be"]),
    ("too-many-layers", small(*[{"type": "relu"}] * 1001), ["1001 layers"]),
    ("non-utf8-file", b'{"name": "caf\xe9", "input": {}}', ["cannot read it", "UnicodeDecodeError"]),
    ("missing-file", "<missing>", ["no such file"]),
    ("directory", "<directory>", ["cannot read it"]),
]


def _path_for(tmp_path: Path, content) -> str:
    if content == "<missing>":
        return str(tmp_path / "does-not-exist.json")
    if content == "<directory>":
        (tmp_path / "folder.json").mkdir()
        return str(tmp_path / "folder.json")
    return write(tmp_path, content)


def test_the_table_is_big_enough() -> None:
    assert len(BAD) >= 25
    assert len({case[0] for case in BAD}) == len(BAD)


@pytest.mark.parametrize("command", [["summary"], ["summary", "--format", "json"], ["code"]],
                         ids=["summary", "json", "code"])
@pytest.mark.parametrize(("content", "needles"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_architecture_exits_2_in_process(tmp_path, capsys, command, content, needles) -> None:
    code, out, err = main(capsys, *command, _path_for(tmp_path, content))
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


SUBPROCESS_CASES = ["malformed-json", "kernel-larger-than-input", "stated-in-features-mismatch", "non-utf8-file",
                    "missing-file", "deeply-nested-json", "lone-surrogate-name", "5000-digit-integer"]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_architecture_exits_2_in_a_real_process(tmp_path, case) -> None:
    _, content, needles = next(c for c in BAD if c[0] == case)
    result = run("summary", _path_for(tmp_path, content))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_usage_errors_exit_2() -> None:
    result = run("summary", "--format", "yaml")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "invalid choice" in result.stderr
    result = run()
    assert result.returncode == 2 and "Traceback" not in result.stderr
