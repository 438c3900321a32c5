"""Importing torchvision print-outs: every family round-trips against torchvision itself.

For each family, `str(model)` is imported (parsed, never run) and checked three ways:
- a reference torch module built in this file straight from the imported graph JSON (no
  explorer code involved) loads torchvision's `state_dict` strictly and gives the same output,
  which proves the block semantics (skips, concats, SE gates, implicit flattens) and names;
- the explorer's analysis agrees with torch and torchinfo at two input sizes: total
  parameters, output shape, MACs (torchinfo's `total_mult_adds`);
- the explorer's generated PyTorch code builds, loads torchvision's `state_dict` strictly and
  gives the same output in eval mode.
Plus the printed-order reading of other models, its notes, and the refusals.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from explorer import cli
from explorer.analysis import analyse
from explorer.import_blocks import to_nodes
from explorer.importer import import_model, read_modules
from explorer.spec import ArchitectureError, loads

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
nn = torch.nn
from torch_graph import model_of  # noqa: E402  (the reference model built from the JSON alone)

# (torchvision constructor, keyword arguments, a second input size the model accepts)
FAMILIES: dict[str, tuple[str, dict[str, Any], tuple[int, int, int]]] = {
    "alexnet": ("alexnet", {}, (3, 97, 75)),
    "vgg11_bn": ("vgg11_bn", {}, (3, 64, 48)),
    "resnet18": ("resnet18", {}, (3, 97, 75)),
    "resnet50": ("resnet50", {}, (3, 64, 64)),
    "mobilenet_v2": ("mobilenet_v2", {}, (3, 97, 75)),
    "mobilenet_v3_small": ("mobilenet_v3_small", {}, (3, 97, 75)),
    "squeezenet1_1": ("squeezenet1_1", {}, (3, 97, 75)),
    "googlenet": ("googlenet", {"aux_logits": False, "init_weights": False}, (3, 97, 75)),
    "inception_v3": ("inception_v3", {"aux_logits": False, "init_weights": False}, (3, 107, 91)),
    "densenet121": ("densenet121", {}, (3, 64, 64)),
    "efficientnet_b0": ("efficientnet_b0", {}, (3, 97, 75)),
    "mnasnet0_5": ("mnasnet0_5", {}, (3, 97, 75)),
    "regnet_y_400mf": ("regnet_y_400mf", {}, (3, 97, 75)),
}
FULL = (3, 224, 224)


@pytest.fixture(scope="module")
def tv() -> Any:
    """torchvision's model definitions (its compiled ops are not needed and do not load here).
    One torch thread: these models are small, and a busy shared machine makes more threads slower."""
    register_fake, threads = torch.library.register_fake, torch.get_num_threads()
    torch.library.register_fake = lambda *a, **k: (lambda f: f)
    try:
        models = pytest.importorskip("torchvision.models")
    finally:
        torch.library.register_fake = register_fake  # needed only while torchvision imports
    torch.set_num_threads(1)
    yield models
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def models(tv: Any) -> dict[str, Any]:
    """Each family's model, built once, in eval mode, with fixed random weights and BN statistics."""
    torch.manual_seed(0)
    built = {}
    for family, (ctor, kwargs, _) in FAMILIES.items():
        model = getattr(tv, ctor)(**kwargs)
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.BatchNorm2d):  # non-trivial statistics, so eval mode is tested
                    module.running_mean.uniform_(-0.1, 0.1)
                    module.running_var.uniform_(0.5, 1.5)
        built[family] = model.eval()
    return built


def close(a: Any, b: Any) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, b.abs().max().item()))


@pytest.mark.parametrize("family", FAMILIES)
def test_imported_graph_is_torchvisions_model(family: str, models: dict[str, Any]) -> None:
    """The graph JSON, built as torch modules by this test, is torchvision's model: same
    state_dict keys and shapes (strict load) and the same output."""
    model = models[family]
    nodes, notes, _ = to_nodes(read_modules(str(model)))
    assert notes[0].startswith(f"read as torchvision's {type(model).__name__}")
    with torch.device("meta"):  # no weight initialisation: torchvision's tensors are assigned below
        reference = model_of(nodes).eval()   # tests/unit/torch_graph.py: from the JSON alone
    reference.load_state_dict(model.state_dict(), strict=True, assign=True)
    x = torch.randn(2, *FAMILIES[family][2])
    with torch.no_grad():
        assert close(reference(x), model(x))


# --------------------------------------------------------------------------- the explorer's analysis and code

def imported(family: str, model: Any, shape: tuple[int, int, int]) -> Any:
    network, _ = import_model(str(model), shape, name=family)
    return network


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("size", ["full", "small"])
def test_analysis_matches_torch_and_torchinfo(family: str, size: str, models: dict[str, Any]) -> None:
    torchinfo = pytest.importorskip("torchinfo")
    model = models[family]
    shape = FULL if size == "full" else FAMILIES[family][2]
    analysis = analyse(imported(family, model, shape))
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    info = torchinfo.summary(model, input_size=(1, *shape), verbose=0, device="cpu")  # runs torch's forward
    assert analysis.output_shape == tuple(info.summary_list[0].output_size[1:])
    assert analysis.total_macs == info.total_mult_adds


@pytest.mark.parametrize("family", FAMILIES)
def test_generated_code_loads_torchvision_weights(family: str, models: dict[str, Any]) -> None:
    from explorer.codegen import module_source
    model = models[family]
    shape = FAMILIES[family][2]
    source = module_source(analyse(imported(family, model, shape)))
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(source, f"<{family}>", "exec"), namespace)  # the explorer's own output, not user text
    classes = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, nn.Module)
               and v.__module__ == "generated"]
    with torch.device("meta"):  # no weight initialisation: torchvision's tensors are assigned below
        generated = classes[-1]().eval()  # the network class comes last, after its block classes
    generated.load_state_dict(model.state_dict(), strict=True, assign=True)
    # a module forward() applies twice (BasicBlock's relu) is called twice, not copied as `relu#2`
    assert not [name for name, _ in generated.named_modules() if "#" in name]
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert close(generated(x), model(x))


@pytest.mark.parametrize("family", FAMILIES)
def test_numpy_forward_with_torchvision_weights(family: str, models: dict[str, Any]) -> None:
    """The explorer's numpy engine runs the imported graph with torchvision's weights (taken by
    module path, as the names promise) and gives torchvision's output, eval mode."""
    import numpy as np

    from explorer.forward import forward
    model, shape = models[family], FAMILIES[family][2]
    analysis = analyse(imported(family, model, shape))
    by_path: dict[str, dict[str, Any]] = {}
    for key, value in model.state_dict().items():
        path, _, field = key.rpartition(".")
        if field != "num_batches_tracked":
            by_path.setdefault(path, {})[field] = value.numpy()
    weights = [by_path.pop(r.name, {}) for r in analysis.leaves]
    assert by_path == {}  # every tensor of torchvision's model found its layer
    x = np.random.default_rng(0).standard_normal((1, *shape)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x))
    assert close(torch.from_numpy(forward(analysis, weights, x)[-1]), expected)


# --------------------------------------------------------------------------- names and notes

def test_names_are_module_paths_and_merges_are_named_after_their_block(models: dict[str, Any]) -> None:
    nodes, _, _ = to_nodes(read_modules(str(models["resnet18"])))
    block = next(n for n in nodes if n["name"] == "layer2")["layers"][0]
    assert (block["name"], block["module"]) == ("layer2.0", "BasicBlock")
    add, relu = block["layers"]
    assert (add["type"], add["name"], add["merge"]) == ("parallel", "layer2.0.add", "add")
    body, shortcut = add["branches"]
    assert [n["name"] for n in body] == ["layer2.0.conv1", "layer2.0.bn1", "layer2.0.relu", "layer2.0.conv2",
                                         "layer2.0.bn2"]
    assert shortcut[0]["name"] == "layer2.0.downsample" and shortcut[0]["type"] == "block"
    assert [n["name"] for n in shortcut[0]["layers"]] == ["layer2.0.downsample.0", "layer2.0.downsample.1"]
    assert relu == {"type": "relu", "name": "layer2.0.relu#2"}  # BasicBlock applies its relu twice
    assert [n["name"] for n in nodes[-3:]] == ["avgpool", "flatten", "fc"]


def test_second_and_third_use_of_a_module(models: dict[str, Any]) -> None:
    nodes, _, _ = to_nodes(read_modules(str(models["resnet50"])))
    text = str(nodes)
    assert "'layer1.0.relu#2'" in text and "'layer1.0.relu#3'" in text and "relu#4" not in text


def test_inserted_names_do_not_clash_with_modules() -> None:
    text = ("ResNet(\n  (conv1): Conv2d(3, 4, kernel_size=(1, 1), stride=(1, 1), bias=False)\n"
            "  (bn1): BatchNorm2d(4)\n  (relu): ReLU(inplace=True)\n  (maxpool): MaxPool2d(kernel_size=1)\n"
            + "".join(f"  (layer{i}): Sequential()\n" for i in range(1, 5)) +
            "  (avgpool): AdaptiveAvgPool2d(output_size=(1, 1))\n  (flatten): Identity()\n"
            "  (fc): Linear(in_features=4, out_features=2, bias=True)\n)")
    with pytest.raises(ArchitectureError, match=r"child \(flatten\)"):  # not torchvision's ResNet
        to_nodes(read_modules(text))
    nodes, _, _ = to_nodes(read_modules(text.replace("  (flatten): Identity()\n", "")))
    assert [n["name"] for n in nodes] == ["conv1", "bn1", "relu", "maxpool", "avgpool", "flatten", "fc"]


TUTORIAL_NET = """\
Net(
  (conv1): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))
  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))
  (fc1): Linear(in_features=400, out_features=120, bias=True)
  (fc2): Linear(in_features=120, out_features=84, bias=True)
  (fc3): Linear(in_features=84, out_features=10, bias=True)
)"""


class Net(nn.Module):
    """The PyTorch CIFAR-10 tutorial's network: `pool` applied twice, F.relu invisible in print()."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: Any) -> Any:
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def test_tutorial_net_in_printed_order_with_notes() -> None:
    model = Net()
    assert str(model) == TUTORIAL_NET
    network, notes = import_model(TUTORIAL_NET, (3, 32, 32), name="net")
    analysis = analyse(network)
    assert [r.name for r in analysis.records] == ["Input", "conv1", "pool", "conv2", "pool#2", "flatten", "fc1",
                                                  "fc2", "fc3"]
    assert analysis.records[-1].output_shape == (10,)
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    assert len(notes) == 4
    assert "printed order" in notes[0] and "F.relu" in notes[1] and "flatten is inserted before fc1" in notes[2]
    assert "pool is applied after every convolution" in notes[3]


def test_alexnet_style_model_of_unknown_class_gets_a_flatten_and_notes(models: dict[str, Any]) -> None:
    text = str(models["alexnet"]).replace("AlexNet(", "MyNet(", 1)
    network, notes = import_model(text, FULL, name="mine")
    analysis = analyse(network)
    assert analysis.total_params == sum(p.numel() for p in models["alexnet"].parameters())
    assert analysis.output_shape == (1000,)
    assert [n for n in notes if "flatten is inserted before classifier" in n]
    assert not [n for n in notes if "is applied after every convolution" in n]  # sizes fit in printed order


@pytest.mark.parametrize("ctor, prefix, words", [("googlenet", "aux", "aux1 and aux2"),
                                                  ("inception_v3", "AuxLogits", "AuxLogits")])
def test_auxiliary_heads_are_left_out_with_a_note(ctor: str, prefix: str, words: str, tv: Any) -> None:
    with torch.device("meta"):  # only the print-out and the parameter counts are needed
        model = getattr(tv, ctor)(aux_logits=True, init_weights=False).eval()
    network, notes = import_model(str(model), (3, 299, 299), name="g")
    aux = sum(p.numel() for name, p in model.named_parameters() if name.startswith(prefix))
    assert aux > 0
    assert analyse(network).total_params == sum(p.numel() for p in model.parameters()) - aux
    assert [n for n in notes if words in n and "aux_logits=False" in n]


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("text, words", [
    ("Net(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (block): MyBlock(\n"
     "    (conv): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1))\n    (relu): ReLU()\n  )\n)",
     ["line 3", "MyBlock block", "custom module", "order of its children is unknown", "paste an nn.Sequential",
      "architecture JSON"]),
    ("ResNet(\n  (conv1): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n)",
     ["line 1", "ResNet", "no child (bn1)", "torchvision's ResNet"]),
    ("Sequential(\n  (0): BasicBlock(\n    (conv1): Conv2d(3, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
     "    (extra): ReLU()\n  )\n)", ["line 2", "BasicBlock 0"]),
    ("Net(\n  (rnn): LSTM(8, 16)\n)", ["line 2", "LSTM rnn", "not supported", "the importer reads Conv2d, "]),
    ("Sequential(\n  (0): BasicBlock(\n    (conv1): Conv2d(3, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
     "    (bn1): BatchNorm2d(3)\n    (relu): Sequential()\n    (conv2): Conv2d(3, 3, kernel_size=(1, 1))\n"
     "    (bn2): BatchNorm2d(3)\n  )\n)", ["line 2", "BasicBlock 0", "relu is a Sequential", "one layer"]),
    ("Net(\n  (blocks): ModuleList(\n    (0): ReLU()\n  )\n)", ["line 2", "ModuleList", "no forward()"]),
])
def test_unknown_blocks_are_refused_with_the_class_and_the_fix(text: str, words: list[str]) -> None:
    with pytest.raises(ArchitectureError) as info:
        import_model(text, (3, 16, 16))
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("ctor, words", [
    ("shufflenet_v2_x0_5", "line 1: ShuffleNetV2: not supported; its blocks split the channels"),
    ("convnext_tiny", "line 1: ConvNeXt: not supported; its blocks use LayerNorm"),
    ("vit_b_16", "line 1: VisionTransformer: not supported; it is a vision transformer"),
])
def test_families_outside_the_layer_set_are_refused_with_the_reason(ctor: str, words: str, tv: Any) -> None:
    with torch.device("meta"):
        model = getattr(tv, ctor)()
    with pytest.raises(ArchitectureError) as info:
        import_model(str(model), FULL)
    assert str(info.value).startswith(words)


def test_module_limits() -> None:
    deep = "Net(\n" + "".join("  " * i + f"(b{i}): Sequential(\n" for i in range(1, 40)) + "ReLU()\n" + ")\n" * 40
    with pytest.raises(ArchitectureError, match="nested more than 32 deep"):
        read_modules(deep)
    wide = "Net(\n" + "".join(f"  (r{i}): ReLU()\n" for i in range(2001)) + ")"
    with pytest.raises(ArchitectureError, match="more than 2,000 modules"):
        read_modules(wide)


def test_cli_import_prints_notes_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.txt"
    path.write_text(TUTORIAL_NET, encoding="utf-8")
    assert cli.main(["import", str(path), "--input", "3x32x32"]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 4 and all(line.startswith("note: ") for line in lines)
    assert analyse(loads(out)).records[-1].output_shape == (10,)


def test_cli_import_refuses_a_custom_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.txt"
    path.write_text("Net(\n  (body): Residual(\n    (conv): Conv2d(3, 3, kernel_size=(1, 1), stride=(1, 1))\n"
                    "  )\n)", encoding="utf-8")
    assert cli.main(["import", str(path), "--input", "3x8x8"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "Residual" in err and "paste an nn.Sequential" in err


def _dump(module: Any) -> Any:
    return (module.cls, module.path, module.line, module.layer, module.supported,
            [_dump(child) for child in module.children.values()])


@pytest.mark.parametrize("family", FAMILIES)
def test_line_reader_and_syntax_tree_reader_agree(family: str, models: dict[str, Any]) -> None:
    """The importer's fast line-by-line reader of print-outs gives exactly the tree of its full reader."""
    from explorer import importer
    source, keys = importer._source(str(models[family]))
    fast = importer._print_tree(source, keys)
    assert fast is not None
    assert _dump(fast) == _dump(importer._tree(importer._top_call(importer._parse(source)), keys, "", 0, [0]))


def test_a_custom_block_that_is_not_torchvisions_gives_the_graph_error_with_its_line(
        models: dict[str, Any]) -> None:
    """A BasicBlock without its downsample (as someone's own block might be) fails where torch would."""
    lines = str(models["resnet18"]).splitlines()
    start = next(i for i, line in enumerate(lines) if "(downsample)" in line)
    del lines[start:start + 4]
    with pytest.raises(ArchitectureError) as info:
        import_model("\n".join(lines), FULL)
    message = str(info.value)
    block_line = next(i for i, line in enumerate(lines, 1) if "(0): BasicBlock" in line and i > start - 10)
    assert message.startswith(f"line {block_line}: ") and "layer2.0.add" in message
    assert "64×56×56 and 128×28×28" in message and "\n" not in message


def test_torchvision_blocks_inside_a_sequential(tv: Any) -> None:
    """Blocks are recognised anywhere, not only inside their own model: paths start at the Sequential."""
    from torchvision.models.resnet import BasicBlock, Bottleneck
    torch.manual_seed(1)
    projection = nn.Sequential(nn.Conv2d(16, 64, 1, stride=2, bias=False), nn.BatchNorm2d(64))
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), BasicBlock(16, 16),
                          Bottleneck(16, 16, stride=2, downsample=projection),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)).eval()
    network, notes = import_model(str(model), (3, 20, 20), name="mixed")
    assert notes == []  # the model is an nn.Sequential: nothing assumed
    analysis = analyse(network)
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    assert analysis.output_shape == (10,)
    names = [r.name for r in analysis.records]
    assert "1.add" in names and "2.relu#3" in names and "2.downsample.0" in names
    nodes, _, _ = to_nodes(read_modules(str(model)))
    with torch.device("meta"):
        reference = model_of(nodes).eval()   # tests/unit/torch_graph.py: from the JSON alone
    reference.load_state_dict(model.state_dict(), strict=True, assign=True)
    x = torch.randn(2, 3, 20, 20)
    with torch.no_grad():
        assert close(reference(x), model(x))


def test_efficientnet_v2_fused_blocks(tv: Any) -> None:
    """FusedMBConv (EfficientNet V2) has MBConv's forward(): the residual only where the shape is kept."""
    from functools import partial

    from torchvision.models.efficientnet import FusedMBConv, FusedMBConvConfig
    torch.manual_seed(2)
    norm = partial(nn.BatchNorm2d, eps=1e-3)
    model = nn.Sequential(FusedMBConv(FusedMBConvConfig(1, 3, 1, 8, 8, 1), 0.1, norm),
                          FusedMBConv(FusedMBConvConfig(4, 3, 2, 8, 16, 1), 0.1, norm),
                          FusedMBConv(FusedMBConvConfig(4, 3, 1, 16, 16, 1), 0.1, norm)).eval()
    network, _ = import_model(str(model), (8, 15, 15))
    analysis = analyse(network)
    assert [r.name for r in analysis.records if r.type == "parallel"] == ["0.add", "2.add"]
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    nodes, _, _ = to_nodes(read_modules(str(model)))
    with torch.device("meta"):
        reference = model_of(nodes).eval()   # tests/unit/torch_graph.py: from the JSON alone
    reference.load_state_dict(model.state_dict(), strict=True, assign=True)
    x = torch.randn(2, 8, 15, 15)
    with torch.no_grad():
        assert close(reference(x), model(x))


def random_block_chain(seed: int) -> tuple[Any, tuple[int, int, int]]:
    """A random nn.Sequential of torchvision building blocks (any order, random widths and strides)."""
    import random
    from functools import partial

    from torchvision.models import densenet, efficientnet, mnasnet, mobilenetv2, mobilenetv3, regnet, resnet, squeezenet
    from torchvision.models.googlenet import Inception
    from torchvision.ops import SqueezeExcitation
    r = random.Random(seed)
    c = 8 * r.randint(1, 3)
    shape = (c, r.randint(12, 40), r.randint(12, 40))
    blocks: list[Any] = [nn.BatchNorm2d(c)]
    for _ in range(r.randint(2, 5)):
        kind = r.choice(["basic", "bottleneck", "v2", "v3", "se", "fire", "inception", "dense", "mnas", "mbconv",
                         "regnet"])
        stride = r.choice([1, 1, 2])
        out = 8 * r.randint(1, 4)
        if kind in ("basic", "bottleneck"):
            cls = resnet.BasicBlock if kind == "basic" else resnet.Bottleneck
            width = out if kind == "basic" else out * 4
            down = None
            if stride != 1 or c != width:
                down = nn.Sequential(nn.Conv2d(c, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width))
            block, c = cls(c, out, stride=stride, downsample=down), width
        elif kind == "v2":
            block, c = mobilenetv2.InvertedResidual(c, out, stride, r.choice([1, 6])), out
        elif kind == "v3":
            cnf = mobilenetv3.InvertedResidualConfig(c, r.choice([3, 5]), c * r.randint(1, 4), out, r.random() < 0.5,
                                                     r.choice(["RE", "HS"]), stride, 1, 1.0)
            block, c = mobilenetv3.InvertedResidual(cnf, partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)), out
        elif kind == "se":
            block = SqueezeExcitation(c, max(1, c // 4))
        elif kind == "fire":
            e = out // 2
            block, c = squeezenet.Fire(c, max(1, c // 2), e, e), 2 * e
        elif kind == "inception":
            block, c = Inception(c, 8, 4, 8, 4, 8, 8), 32
        elif kind == "dense":
            n = r.randint(1, 3)
            block, c = densenet._DenseBlock(n, c, 2, 8, 0.0), c + 8 * n
        elif kind == "mnas":
            block, c = mnasnet._InvertedResidual(c, out, r.choice([3, 5]), stride, r.choice([3, 6])), out
        elif kind == "mbconv":
            cnf = efficientnet.MBConvConfig(r.choice([1, 4, 6]), r.choice([3, 5]), stride, c, out, 1)
            block, c = efficientnet.MBConv(cnf, 0.2, nn.BatchNorm2d), out
        else:
            block = regnet.ResBottleneckBlock(c, out, stride, nn.BatchNorm2d, nn.ReLU, 8, 1.0, r.choice([None, 0.25]))
            c = out
        blocks.append(block)
    blocks += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 5)]
    return nn.Sequential(*blocks), shape


@pytest.mark.parametrize("seed", range(12))
def test_random_chains_of_torchvision_blocks(seed: int, tv: Any) -> None:
    torch.manual_seed(seed)
    model, shape = random_block_chain(seed)
    model.eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    network, notes = import_model(str(model), shape, name=f"chain {seed}")
    assert notes == [] or all("AvgPool2d" in n or "_DenseLayer" in n for n in notes)
    analysis = analyse(network)
    assert analysis.total_params == sum(p.numel() for p in model.parameters())
    x = torch.randn(2, *shape)
    with torch.no_grad():
        expected = model(x)
    assert analysis.output_shape == tuple(expected.shape[1:])
    nodes, _, _ = to_nodes(read_modules(str(model)))
    with torch.device("meta"):
        reference = model_of(nodes).eval()   # tests/unit/torch_graph.py: from the JSON alone
    reference.load_state_dict(model.state_dict(), strict=True, assign=True)
    with torch.no_grad():
        assert close(reference(x), expected), str(model)


def test_random_chains_cover_every_block(tv: Any) -> None:
    seen = {type(block).__name__ for seed in range(12) for block in random_block_chain(seed)[0]}
    assert {"BasicBlock", "Bottleneck", "InvertedResidual", "SqueezeExcitation", "Fire", "Inception", "_DenseBlock",
            "_InvertedResidual", "MBConv", "ResBottleneckBlock"} <= seen
