"""explorer.importer: print(model) text and nn.Sequential(...) expressions → Network.

The torch part builds random nn.Sequential CNNs, feeds `str(model)` (and the matching
expression) to the importer and checks every layer's output shape and parameter count
against a real forward pass. The rest needs no torch: fixed texts, hostile input,
proof that nothing runs, and the `import` command.
"""
from __future__ import annotations

import builtins
import inspect
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import cli, importer
from explorer.analysis import analyse
from explorer.importer import import_text, parse_input_size
from explorer.spec import ArchitectureError, Network, loads

FUZZ = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# What torch 2.13 prints for this CIFAR-style net (checked against torch in test_fixed_print_matches_torch).
PRINTED = """\
Sequential(
  (features): Sequential(
    (conv1): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    (2): ReLU(inplace=True)
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (4): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=same, bias=False)
    (5): LeakyReLU(negative_slope=0.01)
    (6): AvgPool2d(kernel_size=2, stride=2, padding=0)
    (7): Identity()
  )
  (8): AdaptiveAvgPool2d(output_size=(2, 2))
  (9): Flatten(start_dim=1, end_dim=-1)
  (10): Dropout(p=0.5, inplace=False)
  (fc): Linear(in_features=256, out_features=10, bias=True)
  (11): Sigmoid()
  (12): Tanh()
)
"""
EXPRESSION = """\
import torch
from torch import nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1),
    torch.nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    Linear(16*16*16, 10),
)
"""


def imp(text: str, shape: tuple[int, int, int] = (3, 32, 32)) -> Network:
    return import_text(text, shape, name="test")


def rows(network: Network) -> list[tuple[Any, ...]]:
    return [(r.name, r.type, r.output_shape, r.params) for r in analyse(network).records]


# --------------------------------------------------------------------------- fixed texts

def test_printed_sequential_imports_with_names_and_stated_sizes() -> None:
    network = imp(PRINTED)
    data = network.to_json()["layers"]
    assert [layer["type"] for layer in data] == [
        "conv2d", "batchnorm2d", "relu", "maxpool2d", "conv2d", "leaky_relu", "avgpool2d",
        "adaptive_avgpool2d", "flatten", "dropout", "linear", "sigmoid", "tanh"]  # Identity dropped
    assert data[0] == {"type": "conv2d", "name": "conv1", "out_channels": 32, "kernel_size": 3,
                       "padding": 1, "in_channels": 3}
    assert data[1] == {"type": "batchnorm2d", "num_features": 32}
    assert data[4] == {"type": "conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1, "bias": False,
                       "in_channels": 32}  # padding=same → 1
    assert data[10]["name"] == "fc" and data[10]["in_features"] == 256
    table = rows(network)
    assert table[1] == ("conv1", "conv2d", (32, 32, 32), 896)
    assert table[5] == ("Conv1", "conv2d", (64, 16, 16), 32 * 64 * 9)
    assert table[-1][2] == (10,)


def test_expression_form() -> None:
    network = imp(EXPRESSION)
    assert [r[2] for r in rows(network)] == [(3, 32, 32), (16, 32, 32), (16, 32, 32), (16, 16, 16), (4096,), (10,)]
    assert network.to_json()["layers"][-1] == {"type": "linear", "out_features": 10, "in_features": 4096}


def test_expression_with_ordered_dict_names_and_positional_arguments() -> None:
    text = ("from collections import OrderedDict\n"
            "nn.Sequential(OrderedDict([\n"
            "    ('stem', nn.Conv2d(3, 8, 5, 2, 2, 1, 1, False)),\n"
            "    ('bn', nn.BatchNorm2d(8, 1e-3, 0.2, False)),\n"
            "    ('pool', nn.MaxPool2d(3, 2, 1)),\n"
            "    ('act', nn.LeakyReLU(0.2, True)),\n"
            "    ('drop', nn.Dropout(0.25)),\n"
            "    ('gap', nn.AdaptiveAvgPool2d((1, 1))),\n"
            "    ('flat', nn.Flatten(1, -1)),\n"
            "    ('head', nn.Linear(8, 2, False)),\n"
            "]))")
    layers = imp(text).to_json()["layers"]
    assert [layer.get("name") for layer in layers] == ["stem", "bn", "pool", "act", "drop", "gap", "flat", "head"]
    assert layers[0] == {"type": "conv2d", "name": "stem", "out_channels": 8, "kernel_size": 5, "stride": 2,
                         "padding": 2, "bias": False, "in_channels": 3}
    assert layers[1] == {"type": "batchnorm2d", "name": "bn", "eps": 1e-3, "momentum": 0.2, "affine": False,
                         "num_features": 8}
    assert layers[3]["negative_slope"] == 0.2 and layers[4]["p"] == 0.25
    assert layers[7] == {"type": "linear", "name": "head", "out_features": 2, "bias": False, "in_features": 8}


@pytest.mark.parametrize("keys, expected", [
    (["conv", "conv"], [None, None]),            # duplicated: default names
    (["0", "x" * 41], [None, None]),              # numeric, too long
    (["Input", "my conv"], [None, None]),         # reserved, not an identifier
    (["Conv2", "block_1"], ["Conv2", "block_1"]),
])
def test_child_names_kept_only_when_usable(keys: list[str], expected: list[str | None]) -> None:
    text = f"Sequential(\n  ({keys[0]}): ReLU()\n  ({keys[1]}): Tanh()\n)"
    assert [layer.get("name") for layer in imp(text).to_json()["layers"]] == expected


def test_nested_sequentials_flatten_in_order_and_empty_ones_vanish() -> None:
    text = ("nn.Sequential(nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 1)), nn.Sequential()),\n"
            "              nn.ReLU(), nn.Sequential(nn.Identity(), nn.Tanh()))")
    assert [layer["type"] for layer in imp(text).to_json()["layers"]] == ["conv2d", "relu", "tanh"]


def test_accepted_defaults_are_ignored() -> None:
    text = ("nn.Sequential(nn.Conv2d(3, 4, 3, padding_mode='zeros', device=None, dtype=None),\n"
            "  nn.BatchNorm2d(4, track_running_stats=True, bias=True), nn.ReLU(inplace=False),\n"
            "  nn.MaxPool2d(2, None, 0, 1, False, False), nn.AvgPool2d(1, count_include_pad=True,\n"
            "  ceil_mode=False, divisor_override=None), nn.Flatten(start_dim=1, end_dim=-1),\n"
            "  nn.Linear(4 * 15 * 15, 3, device=None), nn.Dropout(inplace=True), nn.Sigmoid(), nn.Tanh())")
    assert rows(imp(text, (3, 32, 32)))[-1][2] == (3,)


@pytest.mark.parametrize("padding, expected", [("'valid'", 0), ("'same'", [2, 1]), ("same", [2, 1])])
def test_conv_padding_words(padding: str, expected: Any) -> None:
    layer = imp(f"nn.Sequential(nn.Conv2d(3, 4, (5, 3), padding={padding}))").to_json()["layers"][0]
    assert layer.get("padding", 0) == expected


def test_arithmetic() -> None:
    text = "nn.Sequential(nn.Flatten(), nn.Linear(3*(2+2)*4 - 0, 2**3 + 10//3 - +1))"
    assert imp(text, (3, 4, 4)).to_json()["layers"][1] == {"type": "linear", "out_features": 10,
                                                            "in_features": 48}


@pytest.mark.parametrize("text", ["3x32x32", "3×32×32", "3, 32, 32", "3 x 32 x 32", "(3,32,32)", "3X32X32",
                                  "3 32 32"])
def test_parse_input_size(text: str) -> None:
    assert parse_input_size(text) == (3, 32, 32)


@pytest.mark.parametrize("text", ["", "3x32", "3x32x32x1", "0x32x32", "3x-1x32", "axbxc", "3.0x32x32",
                                  "3x32x200000", "33232"])
def test_parse_input_size_rejects(text: str) -> None:
    with pytest.raises(ArchitectureError, match="--input"):
        parse_input_size(text)


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("text, words", [
    # unsupported modules: named, with their line
    ("Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (1): LSTM(8, 16)\n)",
     ["line 3", "LSTM", "not supported"]),
    ("nn.Sequential(\n  nn.Conv1d(3, 8, 3),\n)", ["line 2", "Conv1d"]),
    ("nn.Sequential(nn.ReLU(),\n nn.Upsample(scale_factor=2))", ["line 2", "Upsample"]),
    ("Sequential(\n  (0): Block(\n    (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  )\n)",
     ["line 2", "Block"]),
    ("Net(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (1): Block(\n    (0): ReLU()\n  )\n)",
     ["line 3", "Block", "custom module", "paste an nn.Sequential", "JSON"]),
    # arguments the explorer does not model, at non-default values
    ("nn.Sequential(nn.Conv2d(3, 8, 3),\n  nn.MaxPool2d(2, return_indices=True))",
     ["line 2", "MaxPool2d", "return_indices=True"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3, padding_mode='reflect'))", ["line 1", "Conv2d", "padding_mode='reflect'"]),
    ("Sequential(\n  (0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding_mode=circular)\n)",
     ["line 2", "Conv2d", "padding_mode='circular'"]),
    ("nn.Sequential(nn.Flatten(start_dim=2))", ["Flatten", "start_dim=2"]),
    ("nn.Sequential(nn.Flatten(0))", ["Flatten", "start_dim=0"]),
    ("nn.Sequential(nn.BatchNorm2d(3, bias=False))", ["BatchNorm2d", "bias=False"]),
    ("nn.Sequential(nn.BatchNorm2d(3, momentum=None))", ["BatchNorm2d", "momentum=None"]),
    ("nn.Sequential(nn.MaxPool2d(3, dilation=2))", ["MaxPool2d", "dilation=2"]),
    ("nn.Sequential(nn.AvgPool2d(2, divisor_override=3))", ["AvgPool2d", "divisor_override=3"]),
    ("nn.Sequential(nn.AdaptiveAvgPool2d((None, 3)))", ["AdaptiveAvgPool2d", "output_size"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 4, padding='same'))", ["Conv2d", "symmetric"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding='same'))", ["Conv2d", "stride=1"]),
    # argument mistakes
    ("nn.Sequential(nn.Conv2d(3, 8))", ["Conv2d", "needs kernel_size"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3, foo=1))", ["Conv2d", "unknown argument foo"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3, kernel_size=3))", ["Conv2d", "kernel_size is given twice"]),
    ("nn.Sequential(nn.ReLU(True, 1))", ["ReLU", "at most 1 positional"]),
    ("nn.Sequential(nn.Conv2d(3, c, 3))", ["Conv2d", "out_channels=c", "name, not a value"]),
    ("nn.Sequential(nn.Conv2d(3, '8', 3))", ["line 1", "out_channels must be an integer"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3, **kw))", ["**kwargs"]),
    ("nn.Sequential(nn.Conv2d(3, 16 / 2, 3))", ["16 / 2", "not a literal"]),
    # stated sizes are checked against what arrives, with the line
    ("nn.Sequential(nn.Conv2d(3, 8, 3),\n  nn.Flatten(),\n  nn.Linear(100, 10))",
     ["line 3", "in_features is 100"]),
    ("Sequential(\n  (0): Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1))\n)", ["line 2", "in_channels is 4"]),
    # hostile text
    ("__import__('os').system('echo pwned')", ["line 1", "__import__"]),
    ("import os\nos.system('echo pwned')", ["line 1", "import os"]),
    ("nn.Sequential(nn.ReLU(), os.system('x'))", ["line 1", "os.system", "not an nn module"]),
    ("nn.Sequential(nn.ReLU(), open('/tmp/pwned', 'w'))", ["line 1", "open", "not supported"]),
    ("nn.Sequential(nn.Conv2d(3, 8, kernel_size=lambda: 3))", ["Conv2d kernel_size", "lambda", "not a literal"]),
    ("nn.Sequential((lambda: nn.ReLU())())", ["line 1", "only nn modules can be called"]),
    ("model = lambda: nn.Sequential(nn.ReLU())", ["must be an nn.Sequential"]),
    ("nn.Sequential(*[nn.ReLU() for _ in range(3)])", ["Sequential(*...)"]),
    ("nn.Sequential([nn.ReLU() for _ in range(3)])", ["expected a module"]),
    ("nn.Sequential(nn.Conv2d(3, 8, f'{3}'))", ["Conv2d kernel_size", "not a literal"]),
    ("nn.Sequential(nn.Linear(4, 2, dtype=torch.float64))", ["Linear dtype", "torch.float64"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3).__class__)", ["expected a module"]),
    ("nn.Sequential(nn.Conv2d.__init__(3, 8, 3))", ["nn.Conv2d.__init__", "not an nn module"]),
    ("nn.Sequential(nn.ReLU()).cuda()", ["only nn modules can be called"]),
    ("nn.Sequential(layers[0])", ["expected a module"]),
    ("nn.Sequential(nn.Conv2d(3, 10**100, 3))", ["too large", "10 ** 100"]),
    ("nn.Sequential(nn.Conv2d(3, 9999999999, 3))", ["line 1", "9,999,999,999", "at most 100,000"]),
    ("nn.Sequential(nn.Conv2d(3, 999999999999999, 3))", ["too large"]),
    ("nn.Sequential(nn.Conv2d(3, 8, 3" + "(" * 500 + "3" + ")" * 500 + "))", ["nested"]),
    ("nn.Sequential(nn.Conv2d(3, 8, " + "+".join(["1"] * 60_000) + "))", ["nested too deeply"]),
    ("nn.Sequential(nn.Conv2d(3, 8, " + "-" * 60_000 + "1))", ["nested too deeply"]),
    ("nn.Sequential(" * 40 + "nn.ReLU()" + ")" * 40, ["nested more than 32 deep"]),
    ("nn.Sequential(nn.Conv2d(3, 8, " + "9" * 5000 + "))", ["line 1"]),
    ("x" * 1_000_000, ["1,000,000 characters", "at most 200,000"]),
    ("nn.Sequential(\n" + "nn.ReLU(),\n" * 1001 + ")", ["line 1002", "more than 1,000 layers"]),
    ("", ["empty"]),
    ("  \n\t\n", ["empty"]),
    ("# just a comment", ["no model found"]),
    ("nn.Sequential()", ["line 1", "no layers"]),
    ("Sequential(\n  (0): Sequential()\n)", ["line 1", "no layers"]),
    ("model = nn.Sequential(nn.ReLU())\nmodel.eval()", ["line 2", "second statement"]),
    ("hello world", ["line 1", "neither print(model) output nor"]),
    ("nn.Sequential(nn.ReLU()\x00)", ["null bytes"]),
    ("nn.Sequential(nn.ReLU(), key=nn.Tanh())", ["positional"]),
])
def test_bad_text_gives_a_clear_error(text: str, words: list[str]) -> None:
    with pytest.raises(ArchitectureError) as info:
        imp(text)
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert "\n" not in message


def test_bad_input_shape() -> None:
    with pytest.raises(ArchitectureError, match="Input"):
        import_text("nn.Sequential(nn.ReLU())", (0, 32, 32), name="x")
    with pytest.raises(ArchitectureError, match="kernel_size 5 does not fit"):
        import_text("nn.Sequential(nn.Conv2d(3, 8, 5))", (3, 4, 4), name="x")


@pytest.mark.parametrize("text", [
    "__import__('os').system('touch {p}')",
    "nn.Sequential(nn.ReLU(), open('{p}', 'w'))",
    "nn.Sequential(nn.ReLU(), nn.Conv2d(3, 8, open('{p}', 'w')))",
    "Sequential(\n  (0): ReLU()\n  (1): open('{p}', 'w')\n)",
    "Sequential(\n  (0): Conv2d(3, 8, kernel_size=open('{p}', 'w'))\n)",
    "exec(\"open('{p}', 'w')\")",
    "nn.Sequential(eval(\"open('{p}', 'w')\"))",
    "import os\nnn.Sequential(nn.ReLU())",
    "nn.Sequential(nn.ReLU(), __import__('os').system('touch {p}'))",
    "model = nn.Sequential(nn.ReLU())\nopen('{p}', 'w')",
])
def test_nothing_in_the_text_runs(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard every way the text could run or import something, then check the file is not there."""
    target = tmp_path / "pwned"
    calls: list[str] = []
    real_import, real_compile = builtins.__import__, builtins.compile

    def guarded_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("os", "subprocess", "shutil", "sys", "torch", "collections"):
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    def guarded_compile(source: Any, filename: Any, mode: str, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
        if not flags & 0x400:  # ast.PyCF_ONLY_AST: a syntax tree is fine, code objects are not
            calls.append("compile")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(what: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(what)
            raise AssertionError(what)
        return call

    monkeypatch.setattr(builtins, "__import__", guarded_import)
    monkeypatch.setattr(builtins, "compile", guarded_compile)
    for name in ("open", "eval", "exec"):
        monkeypatch.setattr(builtins, name, forbidden(name))
    monkeypatch.setattr(os, "system", forbidden("os.system"))
    error: BaseException | None = None
    try:
        import_text(text.replace("{p}", str(target)), (3, 8, 8), name="x")
    except BaseException as exc:  # checked below, once the guards are gone
        error = exc
    monkeypatch.undo()
    assert calls == []
    assert isinstance(error, ArchitectureError), error
    assert not target.exists()


# --------------------------------------------------------------------------- robustness

_TOKENS = ["Sequential(", "nn.", "torch.", "Conv2d(", "ReLU()", "Linear(", "BatchNorm2d(", "(", ")", ",", "3",
           "-1", "0", "1e-05", "=", "kernel_size", "padding", "stride", "lambda", ":", "[", "]", "*", "**",
           "//", "'", '"', "\n", "\n  (0): ", "\n  (conv): ", "None", "True", "x", ".", "OrderedDict(",
           "same", "for", "in", "{", "}", "f'", " ", "\\", "#", "\t", "10**", "import ", "=="]


@FUZZ
@given(st.lists(st.sampled_from(_TOKENS), max_size=40))
def test_token_soup_only_raises_architecture_error(tokens: list[str]) -> None:
    try:
        imp("".join(tokens), (3, 16, 16))
    except ArchitectureError:
        pass


@FUZZ
@given(st.data())
def test_mutated_print_text_only_raises_architecture_error(data: st.DataObject) -> None:
    text = PRINTED
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        insert = data.draw(st.sampled_from(["", "(", ")", ",", "0", "x", "=", "\n", "  "] + _TOKENS))
        text = text[:i] + insert + text[j:]
    try:
        imp(text)
    except ArchitectureError:
        pass


@FUZZ
@given(st.text(max_size=80))
def test_random_text_only_raises_architecture_error(text: str) -> None:
    try:
        imp(text)
    except ArchitectureError:
        pass


def test_module_table_uses_only_spec_fields() -> None:
    from dataclasses import fields as dc_fields

    from explorer.spec import LAYER_TYPES
    for kind, module in importer.MODULES.items():
        if module.type is None:
            continue
        spec_fields = {f.name for f in dc_fields(LAYER_TYPES[module.type])}
        modelled = set(module.args + module.keywords) - set(module.ignored)
        assert modelled <= spec_fields, kind


# --------------------------------------------------------------------------- command line

def run_cli(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], size: str = "3x32x32"
            ) -> tuple[int, str, str]:
    path = tmp_path / "model.txt"
    path.write_text(text, encoding="utf-8")
    code = cli.main(["import", str(path), "--input", size])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text", [PRINTED, EXPRESSION])
def test_cli_import_writes_json(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(tmp_path, text, capsys)
    hidden = "note: line 9: print(model) does not show AvgPool2d's ceil_mode and count_include_pad; assumed"
    assert code == 0 and (err.startswith(hidden) and err.count("\n") == 1 if text == PRINTED else err == "")
    network = loads(out)
    assert network.name == "model"
    assert network.to_json() == imp(text).to_json() | {"name": "model"}
    assert analyse(network).records[-1].output_shape == (10,)


def test_cli_unsupported_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n"
            "  (1): PixelShuffle(upscale_factor=2)\n)\n")
    code, out, err = run_cli(tmp_path, text, capsys)
    assert code == 2 and out == ""
    assert "PixelShuffle" in err and "line 3" in err and "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("text, size, words", [
    ("nn.Sequential(nn.Flatten(), nn.Linear(100, 10))", "3x32x32", ["line 1", "in_features is 100"]),
    ("nn.Sequential(nn.ReLU())", "3x32", ["--input"]),
    ("os.system('x')", "3x32x32", ["line 1", "os.system"]),
])
def test_cli_errors_exit_2(text: str, size: str, words: list[str], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(tmp_path, text, capsys, size)
    assert code == 2 and out == "" and "Traceback" not in err
    for word in words:
        assert word in err


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import", str(tmp_path / "nope.txt"), "--input", "3x32x32"]) == 2
    assert "nope.txt: no such file; check the path" in capsys.readouterr().err


# --------------------------------------------------------------------------- against torch

class Src(int):
    """An int argument written into the expression text as `text` (e.g. 128*4*4)."""

    def __new__(cls, value: int, text: str) -> "Src":
        obj = super().__new__(cls, value)
        obj.text = text  # type: ignore[attr-defined]
        return obj

    def __repr__(self) -> str:
        return self.text  # type: ignore[attr-defined]


class RandomCNN:
    """A random nn.Sequential CNN built in torch, with the expression that builds it, side by side."""

    def __init__(self, seed: int, nn: Any) -> None:
        self.rng, self.nn = random.Random(seed), nn
        self.prefix = self.rng.choice(["nn.", "torch.nn.", ""])
        r = self.rng
        self.input = (r.choice([1, 3, 4, 6]), r.randint(6, 36), r.randint(6, 36))
        self.shape: list[int] = list(self.input)
        self.names = 0
        items: list[tuple[Any, str]] = []
        for block in range(r.randint(1, 4)):
            if self.shape[1] < 2 or self.shape[2] < 2:
                break
            self.block = block
            group = self.conv_block()
            style = r.random()
            if style < 0.3:
                items.append(self.make_sequential(group))
            elif style < 0.45:
                items.append(self.make_sequential(group, named=True))
            else:
                items.extend(group)
        items.extend(self.head())
        if r.random() < 0.3:  # the head in its own Sequential, inside another one
            cut = r.randint(0, len(items) - 1)
            items = items[:cut] + [self.make_sequential([self.make_sequential(items[cut:])])]
        self.model, self.text = self.make_sequential(items)

    def make(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, str]:
        """Build nn.<name> and its source; leading keywords sometimes move to positions (torch's order)."""
        cls = getattr(self.nn, name)
        module = cls(*[int(a) if isinstance(a, Src) else a for a in args], **kwargs)
        order = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
        args, kwargs = list(args), dict(kwargs)
        for param in order[len(args):]:
            if param not in kwargs or self.rng.random() < 0.4:
                break
            args.append(kwargs.pop(param))
        text = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        return module, f"{self.prefix}{name}({text})"

    def make_sequential(self, items: list[tuple[Any, str]], named: bool = False) -> tuple[Any, str]:
        if not named:
            return (self.nn.Sequential(*[m for m, _ in items]),
                    f"{self.prefix}Sequential(\n" + "".join(f"{t},\n" for _, t in items) + ")")
        from collections import OrderedDict
        keys = [f"b{self.block}_{i}" for i in range(len(items))]
        module = self.nn.Sequential(OrderedDict(zip(keys, (m for m, _ in items))))
        pairs = "".join(f"    ({k!r}, {t}),\n" for k, (_, t) in zip(keys, items))
        return module, f"{self.prefix}Sequential(OrderedDict([\n{pairs}]))"

    def size(self, low: int, high: int) -> Any:
        a, b = self.rng.randint(low, high), self.rng.randint(low, high)
        return a if self.rng.random() < 0.6 else (a, b)

    def conv_block(self) -> list[tuple[Any, str]]:
        r, (c, h, w) = self.rng, self.shape
        groups = r.choice([g for g in (1, 1, 2, 3, 4) if c % g == 0])
        out = groups * r.randint(1, 6)
        kernel, stride, dilation = self.size(1, 5), self.size(1, 2), self.size(1, 2)
        kw: dict[str, Any] = {}
        k2, s2, d2 = (v if isinstance(v, tuple) else (v, v) for v in (kernel, stride, dilation))
        if s2 == (1, 1) and all(d * (k - 1) % 2 == 0 for k, d in zip(k2, d2)) and r.random() < 0.25:
            kw["padding"], p2 = "same", tuple(d * (k - 1) // 2 for k, d in zip(k2, d2))
        else:
            padding = self.size(0, 2)
            p2 = padding if isinstance(padding, tuple) else (padding, padding)
            if padding != 0 or r.random() < 0.3:
                kw["padding"] = padding
        size = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip((h, w), k2, s2, p2, d2)]
        if min(size) < 1:
            kw, kernel, stride, dilation, size = {}, 1, 1, 1, [h, w]
        for key, value, default in (("stride", stride, 1), ("dilation", dilation, 1), ("groups", groups, 1)):
            if value != default or r.random() < 0.2:
                kw[key] = value
        if r.random() < 0.4:
            kw["bias"] = r.random() < 0.5
        layers = [self.make("Conv2d", [c, out, kernel], kw)]
        self.shape = [out, *size]
        if r.random() < 0.6:
            bn: dict[str, Any] = {}
            if r.random() < 0.4:
                bn["affine"] = r.random() < 0.5
            if r.random() < 0.3:
                bn["eps"], bn["momentum"] = r.choice([1e-3, 1e-5]), r.choice([0.01, 0.1, 0.3])
            layers.append(self.make("BatchNorm2d", [out], bn))
        layers.append(self.activation())
        if r.random() < 0.15:
            layers.append(self.make("Identity", [], {}))
        if r.random() < 0.6 and min(self.shape[1:]) >= 2:
            layers.append(self.pool())
        if r.random() < 0.2:
            layers.append(self.make("Dropout", [], {"p": r.choice([0.1, 0.25, 0.5])}))
        return layers

    def activation(self) -> tuple[Any, str]:
        r = self.rng
        kind = r.choice(["ReLU", "ReLU", "LeakyReLU", "Sigmoid", "Tanh"])
        kw: dict[str, Any] = {}
        if kind in ("ReLU", "LeakyReLU") and r.random() < 0.5:
            kw["inplace"] = r.random() < 0.5
        if kind == "LeakyReLU" and r.random() < 0.7:
            kw["negative_slope"] = r.choice([0.01, 0.1, 0.2])
        return self.make(kind, [], kw)

    def pool(self) -> tuple[Any, str]:
        r, (c, h, w) = self.rng, self.shape
        kind = r.choice(["MaxPool2d", "AvgPool2d"])
        k2 = (r.randint(1, min(3, h)), r.randint(1, min(3, w)))
        kernel = k2[0] if k2[0] == k2[1] or r.random() < 0.5 and k2[0] <= min(h, w) else k2
        k2 = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        kw: dict[str, Any] = {}
        stride = None if r.random() < 0.5 else r.randint(1, 3)
        if stride is not None:
            kw["stride"] = stride
        padding = r.randint(0, min(k2) // 2)
        if padding or r.random() < 0.3:
            kw["padding"] = padding
        s2 = k2 if stride is None else (stride, stride)
        self.shape = [c, *[(n + 2 * padding - k) // s + 1 for n, k, s in zip((h, w), k2, s2)]]
        return self.make(kind, [kernel], kw)

    def head(self) -> list[tuple[Any, str]]:
        r = self.rng
        layers = []
        if r.random() < 0.4:
            size = r.choice([1, (1, 1), 2, (2, 3)])
            layers.append(self.make("AdaptiveAvgPool2d", [size], {}))
            self.shape = [self.shape[0], *(size if isinstance(size, tuple) else (size, size))]
        if r.random() < 0.15:
            return layers  # fully convolutional
        flat = self.make("Flatten", [], {"start_dim": 1} if r.random() < 0.3 else {})
        layers.append(flat)
        c, h, w = self.shape
        features = Src(c * h * w, f"{c}*{h}*{w}") if r.random() < 0.5 else c * h * w
        for i in range(r.randint(1, 3)):
            out = r.randint(2, 40)
            kw = {"bias": r.random() < 0.5} if r.random() < 0.4 else {}
            layers.append(self.make("Linear", [features, out], kw))
            features = out
            if i < 2 and r.random() < 0.7:
                layers.append(self.activation())
                if r.random() < 0.4:
                    layers.append(self.make("Dropout", [r.choice([0.1, 0.5])], {}))
        return layers


def torch_rows(torch: Any, model: Any, shape: tuple[int, int, int]) -> list[tuple[Any, int, int]]:
    """(output shape, parameters, buffers) for each leaf module a forward pass reaches, in order."""
    leaves = [m for m in model.modules() if not isinstance(m, (torch.nn.Sequential, torch.nn.Identity))]
    seen: list[tuple[Any, int, int]] = []

    def hook(module: Any, _inputs: Any, output: Any) -> None:
        buffers = sum(b.numel() for n, b in module.named_buffers() if n != "num_batches_tracked")
        seen.append((tuple(output.shape[1:]), sum(p.numel() for p in module.parameters()), buffers))

    handles = [m.register_forward_hook(hook) for m in leaves]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, *shape))
    for handle in handles:
        handle.remove()
    assert len(seen) == len(leaves)
    return seen


@pytest.mark.torch
@pytest.mark.parametrize("seed", range(30))
def test_random_torch_models(seed: int) -> None:
    torch = pytest.importorskip("torch")
    built = RandomCNN(seed, torch.nn)
    printed = str(built.model)
    network = import_text(printed, built.input, name=f"random {seed}")
    records = analyse(network).records[1:]
    expected = torch_rows(torch, built.model, built.input)
    assert [(r.output_shape, r.params, r.buffers) for r in records] == expected, printed
    assert sum(r.params for r in records) == sum(p.numel() for p in built.model.parameters())
    # The expression that built the model imports to the same network.
    from_source = import_text(built.text, built.input, name=f"random {seed}")
    assert rows(from_source) == rows(network), built.text


@pytest.mark.torch
def test_random_models_cover_the_supported_modules() -> None:
    torch = pytest.importorskip("torch")
    printed = "\n".join(str(RandomCNN(seed, torch.nn).model) for seed in range(30))
    for word in ["padding=same", "groups=", "dilation=(2, 2)", "bias=False", "affine=False", "kernel_size=(",
                 "(b0_0): Conv2d", "AvgPool2d", "MaxPool2d", "AdaptiveAvgPool2d", "LeakyReLU", "Sigmoid", "Tanh",
                 "Dropout", "Identity", "Flatten", "Linear", "inplace=True", "    (0): Sequential("]:
        assert word in printed, word


@pytest.mark.torch
def test_fixed_print_matches_torch() -> None:
    """PRINTED above is what torch 2.13 prints, and importing it agrees with torch's forward pass."""
    torch = pytest.importorskip("torch")
    from collections import OrderedDict
    nn = torch.nn
    model = nn.Sequential(OrderedDict([
        ("features", nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, 32, 3, padding=1)), ("1", nn.BatchNorm2d(32)), ("2", nn.ReLU(inplace=True)),
            ("3", nn.MaxPool2d(2, 2)), ("4", nn.Conv2d(32, 64, 3, padding="same", bias=False)),
            ("5", nn.LeakyReLU()), ("6", nn.AvgPool2d(2)), ("7", nn.Identity())]))),
        ("8", nn.AdaptiveAvgPool2d((2, 2))), ("9", nn.Flatten()), ("10", nn.Dropout()),
        ("fc", nn.Linear(256, 10)), ("11", nn.Sigmoid()), ("12", nn.Tanh())]))
    assert str(model) + "\n" == PRINTED
    records = analyse(imp(PRINTED)).records[1:]
    assert [(r.output_shape, r.params, r.buffers) for r in records] == torch_rows(torch, model, (3, 32, 32))


@pytest.mark.torch
def test_torch_prints_of_rejected_settings_are_rejected() -> None:
    """Non-default settings as torch prints them (unquoted strings and all) give errors, not wrong sizes."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    cases = [(nn.LPPool2d(2, 2), "LPPool2d"), (nn.MaxPool2d(2, dilation=2), "dilation=2"),
             (nn.Conv2d(3, 3, 3, padding_mode="replicate"), "padding_mode='replicate'"),
             (nn.BatchNorm2d(3, momentum=None), "momentum=None"), (nn.Flatten(2), "start_dim=2"),
             (nn.Conv2d(3, 3, 2, padding="same"), "symmetric"), (nn.Hardtanh(), "Hardtanh"),
             (nn.Dropout2d(), "Dropout2d"), (nn.AdaptiveAvgPool2d((None, 2)), "output_size"),
             (nn.ModuleList([nn.ReLU()]), "ModuleList")]
    for module, word in cases:
        text = str(nn.Sequential(nn.ReLU(), module))
        with pytest.raises(ArchitectureError) as info:
            imp(text, (3, 8, 8))
        assert word in str(info.value) and "line 3" in str(info.value), (text, str(info.value))


@pytest.mark.torch
def test_new_layer_kinds_in_a_sequential_import_flat_and_agree_with_torch() -> None:
    """The kinds and settings the graph families brought (ReLU6, SiLU, Hardswish, Hardsigmoid, GELU,
    AdaptiveMaxPool2d, ceil_mode, count_include_pad) import into a plain flat network too."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, eps=1e-3, momentum=0.01), nn.ReLU6(inplace=True),
        nn.MaxPool2d(3, 2, ceil_mode=True), nn.SiLU(), nn.Identity(), nn.Hardswish(),
        nn.AvgPool2d(3, 2, padding=1), nn.Hardsigmoid(),
        nn.GELU(approximate="tanh"), nn.BatchNorm2d(8, affine=False, track_running_stats=False),
        nn.AdaptiveMaxPool2d((2, 3)),
        nn.Flatten(), nn.Linear(48, 5))
    network, notes = importer.import_model(str(model), (3, 21, 19), name="new kinds")
    assert notes == ["line 9: print(model) does not show AvgPool2d's ceil_mode and count_include_pad; assumed "
                     "PyTorch's defaults (False, True)"]
    layers = network.to_json()["layers"]
    assert [layer["type"] for layer in layers] == [
        "conv2d", "batchnorm2d", "relu6", "maxpool2d", "silu", "hardswish", "avgpool2d", "hardsigmoid", "gelu",
        "batchnorm2d", "adaptive_maxpool2d", "flatten", "linear"]  # Identity dropped from a chain, as before
    assert layers[3]["ceil_mode"] is True and layers[8]["approximate"] == "tanh"
    assert layers[9]["affine"] is False and layers[9]["track_running_stats"] is False
    records = analyse(network).records[1:]
    assert [(r.output_shape, r.params, r.buffers) for r in records] == torch_rows(torch, model, (3, 21, 19))
    # Written as an expression, AvgPool2d's ceil_mode and count_include_pad are read (and no note).
    pool = nn.Sequential(nn.AvgPool2d(3, 2, 1, True, False))
    network, notes = importer.import_model("nn.Sequential(nn.AvgPool2d(3, 2, 1, True, False))", (3, 20, 20))
    assert notes == [] and network.to_json()["layers"][0]["count_include_pad"] is False
    assert [r.output_shape for r in analyse(network).records[1:]] == [s for s, _, _ in torch_rows(torch, pool,
                                                                                                 (3, 20, 20))]


# A small torchvision-style print-out: a graph (skip connection, reused relu, implicit flatten).
GRAPH_PRINTED = """\
ResNet(
  (conv1): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
  (bn1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
  (relu): ReLU(inplace=True)
  (maxpool): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
  (layer1): Sequential(
    (0): BasicBlock(
      (conv1): Conv2d(8, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
      (bn1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
      (relu): ReLU(inplace=True)
      (conv2): Conv2d(16, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
      (bn2): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
      (downsample): Sequential(
        (0): Conv2d(8, 16, kernel_size=(1, 1), stride=(2, 2), bias=False)
        (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
      )
    )
  )
  (layer2): Sequential()
  (layer3): Sequential()
  (layer4): Sequential()
  (avgpool): AdaptiveAvgPool2d(output_size=(1, 1))
  (fc): Linear(in_features=16, out_features=10, bias=True)
)
"""


def test_graph_print_out_imports() -> None:
    network, notes = importer.import_model(GRAPH_PRINTED, (3, 32, 32), name="mini")
    analysis = analyse(network)
    assert analysis.output_shape == (10,)
    names = [r.name for r in analysis.records]
    assert names.index("layer1.0.add") < names.index("layer1.0.relu#2") < names.index("flatten") < names.index("fc")
    assert notes == ["read as torchvision's ResNet: the skips, concatenations, gates and flattens of its "
                     "forward() are built in"]
    # The line reader and the syntax-tree reader agree on a text that only the latter can read.
    indented = "\n".join("  " + line for line in GRAPH_PRINTED.splitlines()) + "\n  # copied from a notebook"
    assert importer.import_model(indented, (3, 32, 32), name="mini")[0].to_json() == network.to_json()


@FUZZ
@given(st.data())
def test_mutated_graph_print_text_only_raises_architecture_error(data: st.DataObject) -> None:
    text = GRAPH_PRINTED
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        insert = data.draw(st.sampled_from(["", "(", ")", ",", "0", "x", "=", "\n", "  ", "BasicBlock(",
                                            "(downsample): ", "Sequential(", "#"] + _TOKENS))
        text = text[:i] + insert + text[j:]
    try:
        importer.import_model(text, (3, 16, 16))
    except ArchitectureError:
        pass


def test_printed_order_size_error_mentions_functional_pooling() -> None:
    """PyTorch's MNIST example pools with F.max_pool2d: print(model) cannot show it, so the error says so."""
    text = ("Net(\n  (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))\n"
            "  (conv2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))\n"
            "  (dropout1): Dropout(p=0.25, inplace=False)\n  (dropout2): Dropout(p=0.5, inplace=False)\n"
            "  (fc1): Linear(in_features=9216, out_features=128, bias=True)\n"
            "  (fc2): Linear(in_features=128, out_features=10, bias=True)\n)")
    with pytest.raises(ArchitectureError) as info:
        importer.import_model(text, (1, 28, 28))
    message = str(info.value)
    assert message.startswith("line 6: fc1") and "in_features is 9216 but 36864" in message
    assert "F.max_pool2d" in message and "\n" not in message
    with_pool = text.replace("  (dropout1)", "  (pool): MaxPool2d(kernel_size=2, stride=2)\n  (dropout1)")
    network, notes = importer.import_model(with_pool, (1, 28, 28))
    assert analyse(network).output_shape == (10,)
    assert not [n for n in notes if "applied after every convolution" in n]  # fits in printed order


def test_cli_error_is_one_line_without_python_warnings(tmp_path: Path) -> None:
    """ast.parse warns about text such as `1or 2` on stderr; the CLI (a fresh interpreter) still writes one line."""
    import subprocess
    import sys
    path = tmp_path / "model.txt"
    path.write_text("nn.Sequential(nn.Conv2d(3, 8, 1or 2))", encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "explorer", "import", str(path), "--input", "3x8x8"],
                            cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "not a literal value" in result.stderr, result.stderr
