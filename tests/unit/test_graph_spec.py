"""Graph networks without torch: the JSON format, names, limits, errors, analysis rows, CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from explorer import cli, nn
from explorer.analysis import analyse
from explorer.forward import forward, init_weights
from explorer.spec import (MAX_BRANCHES, MAX_DEPTH, MAX_NODES, ArchitectureError, Block, Parallel, from_json,
                           iter_nodes)


def net(*layers, c=3, h=8, w=8) -> dict:
    return {"name": "g", "input": {"channels": c, "height": h, "width": w}, "layers": list(layers)}


def conv(out, k=3, **kw) -> dict:
    return {"type": "conv2d", "out_channels": out, "kernel_size": k, **kw}


def error_of(data) -> ArchitectureError:
    with pytest.raises(ArchitectureError) as info:
        analyse(from_json(data))
    return info.value


def residual(name: str, c_in: int, c_out: int, stride: int) -> dict:
    """A torchvision-style BasicBlock, named by module paths."""
    body = [conv(c_out, 3, stride=stride, padding=1, bias=False, name=f"{name}.conv1"),
            {"type": "batchnorm2d", "name": f"{name}.bn1"}, {"type": "relu", "name": f"{name}.relu"},
            conv(c_out, 3, padding=1, bias=False, name=f"{name}.conv2"), {"type": "batchnorm2d", "name": f"{name}.bn2"}]
    shortcut = [] if stride == 1 and c_in == c_out else [
        {"type": "block", "name": f"{name}.downsample", "layers": [
            conv(c_out, 1, stride=stride, bias=False, name=f"{name}.downsample.0"),
            {"type": "batchnorm2d", "name": f"{name}.downsample.1"}]}]
    return {"type": "block", "name": name, "module": "BasicBlock", "layers": [
        {"type": "parallel", "name": f"{name}.add", "merge": "add", "branches": [body, shortcut]},
        {"type": "relu", "name": f"{name}.relu_2"}]}


# --------------------------------------------------------------------------- format and names

def test_graph_round_trips_through_json() -> None:
    data = net(conv(4, padding=1), residual("r", 4, 8, 2),
               {"type": "parallel", "merge": "concat", "branches": [[conv(2, 1)], [], [conv(3, 3, padding=1)]]},
               {"type": "block", "layers": [{"type": "gelu", "approximate": "tanh"},
                                            {"type": "stochastic_depth", "p": 0.1, "mode": "batch"}]})
    network = from_json(data)
    assert from_json(network.to_json()) == network
    assert not network.is_flat and from_json(net(conv(2))).is_flat
    assert isinstance(network.layers[1], Block) and network.layers[1].module == "BasicBlock"
    assert isinstance(network.layers[2], Parallel) and network.layers[2].branches[1] == ()


def test_default_names_number_leaves_over_the_whole_tree() -> None:
    data = net(conv(4, padding=1),
               {"type": "block", "layers": [{"type": "relu"},
                                            {"type": "parallel", "merge": "add", "branches": [[conv(4, 1)], []]}]},
               {"type": "parallel", "merge": "concat", "branches": [[conv(2, 1)], []]},
               {"type": "parallel", "merge": "multiply", "branches": [[], [{"type": "sigmoid"}]]},
               {"type": "flatten"}, {"type": "block", "layers": [{"type": "linear", "out_features": 3}]})
    names = [r.name for r in analyse(from_json(data)).records]
    assert names == ["Input", "Conv1", "Block1", "ReLU1", "Conv2", "Add1", "Conv3", "Concat1", "Sigmoid1",
                     "Multiply1", "Flatten", "Block2", "Logits"]


def test_rows_in_walk_order_with_paths() -> None:
    a = analyse(from_json(net(conv(4, padding=1, name="stem"), residual("layer1.0", 4, 4, 1))))
    rows = {r.name: r for r in a.records}
    assert [r.name for r in a.records] == [
        "Input", "stem", "layer1.0", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2",
        "layer1.0.bn2", "layer1.0.add", "layer1.0.relu_2"]
    assert rows["layer1.0.conv1"].path == ("layer1.0", "layer1.0.add") and rows["layer1.0.conv1"].depth == 2
    assert rows["layer1.0.conv1"].parent == "layer1.0.add" and rows["layer1.0.conv1"].branch == 0
    assert rows["layer1.0.add"].path == ("layer1.0",) and rows["layer1.0"].path == ()
    assert [r.index for r in a.records] == list(range(len(a.records)))
    block = rows["layer1.0"]
    assert block.params == 0 and block.subtotal.params == 2 * (4 * 4 * 9) + 2 * 8 == a.total_params - rows["stem"].params
    assert block.output_shape == a.output_shape == (4, 8, 8)


def test_names_are_unique_over_the_whole_tree() -> None:
    err = error_of(net({"type": "block", "name": "x", "layers": [{"type": "relu", "name": "x"}]}))
    assert "already used" in str(err) and err.field == "name"


def test_torchvision_module_paths_of_any_length_are_names() -> None:
    name = "trunk_output.block3.block3-11.f.se.scale_activation"
    assert analyse(from_json(net({"type": "block", "name": "b", "layers": [{"type": "sigmoid", "name": name}]}))
                   ).records[-1].name == name


# --------------------------------------------------------------------------- bad input

def test_mismatched_residual_names_the_path_and_the_fix() -> None:
    data = net({"type": "block", "name": "layer2", "layers": [{"type": "block", "name": "layer2.0", "layers": [
        {"type": "parallel", "name": "layer2.0.add", "merge": "add",
         "branches": [[conv(128, 3, stride=2, padding=1)], []]}]}]}, c=64, h=56, w=56)
    err = error_of(data)
    assert str(err) == ("layer2 › layer2.0 › layer2.0.add: shapes 64×56×56 and 128×28×28 differ; give the "
                        "shortcut a 1×1 convolution with stride 2 and 128 channels")
    assert err.path == ("layer2", "layer2.0") and err.layer_name == "layer2.0.add"


@pytest.mark.parametrize("data, needle", [
    (net({"type": "relu"}, {"type": "block", "name": "b", "layers": []}),
     "b (layer 2): a block needs a non-empty list \"layers\""),
    (net({"type": "block", "name": "b", "layers": [{"type": "relu"}, {"type": "conv3d"}]}),
     "b › Layer 3: unknown layer type \"conv3d\"; did you mean \"conv2d\"?"),
    (net({"type": "block", "layers": [{"type": "parallel", "merge": "add",
                                       "branches": [[conv(0, 1)], []]}]}),
     "Block1 › Add1 › Conv1: out_channels is 0"),
    (net({"type": "parallel", "merge": "add", "branches": [[]]}), "got 1 branch"),
    (net({"type": "parallel", "merge": "sum", "branches": [[], []]}), "merge must be one of"),
    (net({"type": "parallel", "merge": "add", "branches": [[]] * (MAX_BRANCHES + 1)}), "2 to 16 lists"),
    (net({"type": "parallel", "merge": "concat", "branches": [[{"type": "maxpool2d", "kernel_size": 2}], []]}),
     "branch 1 gives 3×4×4; branch 2 gives 3×8×8"),
    (net({"type": "parallel", "merge": "multiply",
          "branches": [[{"type": "adaptive_avgpool2d", "output_size": 1}, conv(5, 1)], []]}),
     "shapes 5×1×1 and 3×8×8 cannot be multiplied element-wise"),
    (net({"type": "parallel", "merge": "add", "branches": [[conv(4, 1)], [conv(5, 1)]]}),
     "shapes 4×8×8 and 5×8×8 differ (branches 1 and 2)"),
    (net({"type": "block", "layer": []}), "unknown field \"layer\" for block; did you mean \"layers\"?"),
    (net({"type": "block", "module": "my block", "layers": [{"type": "relu"}]}), "module must be a Python class"),
    (net({"type": "block", "layers": [{"type": "flatten"}, conv(2)]}), "Block1 › Conv1: a convolution needs"),
])
def test_bad_graphs_name_the_node_and_the_fix(data, needle) -> None:
    assert needle in str(error_of(data))


def nested(depth: int) -> dict:
    node: dict = {"type": "relu"}
    for i in range(depth):
        node = {"type": "block", "name": f"b{i}", "layers": [node]}
    return node


def test_nesting_depth_limit() -> None:
    assert analyse(from_json(net(nested(MAX_DEPTH)))).records[-1].depth == MAX_DEPTH
    err = error_of(net(nested(MAX_DEPTH + 1)))
    assert f"nested more than {MAX_DEPTH} deep" in str(err) and "flatten some" in str(err)


def test_node_limit() -> None:
    per_block = [{"type": "relu"}, {"type": "relu"}]
    blocks = (MAX_NODES // 3) + 1
    err = error_of(net(*[{"type": "block", "layers": per_block}] * blocks))
    assert f"more than the {MAX_NODES:,} supported" in str(err)
    ok = net(*[{"type": "block", "layers": per_block}] * (MAX_NODES // 3))
    assert len(list(iter_nodes(from_json(ok).layers))) <= MAX_NODES


def test_cli_reports_a_graph_error_in_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(net({"type": "block", "name": "b", "layers": []})))
    assert cli.main(["summary", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: b (layer 1): a block needs")


# --------------------------------------------------------------------------- analysis through branches

def test_receptive_field_is_the_largest_over_the_branches() -> None:
    data = net({"type": "parallel", "merge": "add", "branches": [
        [conv(3, 3, padding=1), conv(3, 3, padding=1)], [], [conv(3, 3, padding=1)]]}, h=16, w=16)
    merge = analyse(from_json(data)).records[-1]
    assert merge.receptive_field == (5, 5) and merge.jump == (1, 1)
    identity_only = analyse(from_json(net({"type": "parallel", "merge": "add", "branches": [[], []]})))
    assert identity_only.records[-1].receptive_field == (1, 1)


def test_summary_json_and_table_show_the_nesting(tmp_path, capsys) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps(net(conv(4, padding=1, name="stem"), residual("layer1.0", 4, 8, 2),
                                   {"type": "flatten", "name": "flatten"},
                                   {"type": "linear", "name": "fc", "out_features": 3})))
    assert cli.main(["summary", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr()[0])
    assert data["output_shape"] == [3]
    rows = {row["name"]: row for row in data["layers"]}
    assert rows["layer1.0.conv1"]["block"] == "layer1.0" and rows["layer1.0.conv1"]["depth"] == 2
    assert rows["layer1.0.downsample.0"]["block"] == "layer1.0.downsample"
    assert rows["layer1.0.downsample.0"]["path"] == ["layer1.0", "layer1.0.add", "layer1.0.downsample"]
    assert rows["stem"]["block"] is None and rows["stem"]["depth"] == 0
    assert rows["layer1.0"]["subtotal"]["params"] == sum(
        row["params"] for row in data["layers"] if "layer1.0" in row["path"])
    assert data["total_params"] == sum(row["params"] for row in data["layers"])
    assert cli.main(["summary", str(path)]) == 0
    table = capsys.readouterr()[0]
    lines = {line.split()[1]: line for line in table.splitlines()[3:] if len(line.split()) > 2}
    indent = {name: line.index(name) - lines["stem"].index("stem") for name, line in lines.items()}
    assert (indent["layer1.0"], indent["layer1.0.add"], indent["layer1.0.conv1"]) == (0, 2, 4)
    assert indent["layer1.0.downsample.0"] == 6 and "parallel (add)" in lines["layer1.0.add"]
    assert f"({rows['layer1.0']['subtotal']['params']:,})" in lines["layer1.0"]


def test_numpy_forward_rows_follow_the_records() -> None:
    data = net(conv(4, padding=1), residual("r", 4, 4, 1), {"type": "parallel", "merge": "concat",
                                                            "branches": [[conv(2, 1)], []]})
    a = analyse(from_json(data))
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    outs = forward(a, init_weights(a), x)
    assert len(outs) == len(a.records)
    for r, o in zip(a.records, outs):
        assert o.shape[1:] == r.output_shape, r.name
    rows = {r.name: i for i, r in enumerate(a.records)}
    np.testing.assert_array_equal(outs[rows["r"]], outs[rows["r.relu_2"]])  # a block's row: its output
    np.testing.assert_allclose(outs[rows["r.add"]], outs[rows["r.bn2"]] + outs[rows["Conv1"]], rtol=1e-6)


# --------------------------------------------------------------------------- new numpy ops

def test_stochastic_depth_drops_whole_rows_or_the_whole_batch() -> None:
    x = np.ones((64, 2, 3, 3), np.float32)
    rng = np.random.default_rng(0)
    assert nn.stochastic_depth(x, 0.5, "row", training=False) is not None
    np.testing.assert_array_equal(nn.stochastic_depth(x, 0.5, "row", training=False), x)
    rows = nn.stochastic_depth(x, 0.25, "row", training=True, rng=rng)
    per_sample = rows.reshape(64, -1)
    assert all(len(set(s)) == 1 for s in per_sample)                  # a sample is kept or dropped whole
    assert set(np.unique(rows)) <= {0.0, np.float32(1 / 0.75)} and 0 < (per_sample[:, 0] == 0).sum() < 64
    batch = nn.stochastic_depth(x, 0.5, "batch", training=True, rng=rng)
    assert len(np.unique(batch)) == 1
    np.testing.assert_array_equal(nn.stochastic_depth(x, 1.0, "row", training=True, rng=rng), 0 * x)


def test_erf_and_gelu_are_accurate() -> None:
    z = np.linspace(-6, 6, 2001)
    assert np.abs(nn.erf(z) - np.array([math.erf(v) for v in z])).max() < 2e-7
    x = np.linspace(-5, 5, 101).astype(np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    assert np.abs(nn.gelu(x) - exact).max() < 1e-6


# --------------------------------------------------------------------------- generated code (text)

def test_generated_code_shows_the_skips_and_named_submodules() -> None:
    from explorer.codegen import module_source
    se = {"type": "block", "name": "b.se", "module": "SqueezeExcitation", "layers": [
        {"type": "parallel", "name": "b.se.mul", "merge": "multiply", "branches": [[], [
            {"type": "adaptive_avgpool2d", "name": "b.se.avgpool", "output_size": 1},
            conv(4, 1, name="b.se.fc"), {"type": "sigmoid", "name": "b.se.gate"}]]}]}
    cna = {"type": "block", "name": "b.0", "module": "Conv2dNormActivation", "layers": [
        conv(4, 1, name="b.0.0"), {"type": "batchnorm2d", "name": "b.0.1"}]}
    data = net(conv(4, padding=1, name="stem"), residual("layer1.0", 4, 4, 1),
               {"type": "block", "name": "b", "layers": [cna, se]},
               {"type": "parallel", "name": "cat", "merge": "concat", "branches": [
                   [{"type": "block", "name": "branch1", "layers": [conv(2, 1, name="branch1.0")]}], []]})
    src = module_source(analyse(from_json(data)))
    compile(src, "generated.py", "exec")
    assert "class BasicBlock(nn.Module):" in src and "        identity = x\n" in src
    assert "        out = out + identity\n" in src
    assert "class Conv2dNormActivation(nn.Sequential):" in src and "        out = identity * scale\n" in src
    assert "        self.fc = nn.Conv2d(4, 4, kernel_size=1)" in src
    assert "torch.cat([branch1, identity], dim=1)" in src
    # attribute = last part of the module path; "0" is no identifier, so add_module is used
    assert "        self.add_module('0', BasicBlock())" in src and "getattr(self, '0')(x)" in src
