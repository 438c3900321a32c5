"""The graph presets against the torch modules they copy: parameters, buffers, output shape,
and the module paths of every layer with state (they are torchvision's state_dict keys)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torch.library.register_fake = lambda *a, **k: (lambda f: f)   # torchvision is installed without its deps
torchvision = pytest.importorskip("torchvision")

from torch import nn  # noqa: E402

from explorer.analysis import analyse  # noqa: E402
from explorer.presets import PRESETS, preset  # noqa: E402
from torch_graph import build  # noqa: E402

pytestmark = pytest.mark.torch


def resnet18_cifar() -> nn.Module:
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


REFERENCES = {
    "ResNet-18 for CIFAR-10 (3×32×32)": resnet18_cifar,
    "ResNet-18 for ImageNet (3×224×224)": lambda: torchvision.models.resnet18(),
    "MobileNetV2-style (3×32×32)": lambda: torchvision.models.mobilenet_v2(num_classes=10),
    "DenseNet-style (3×32×32)": lambda: torchvision.models.DenseNet(
        growth_rate=12, block_config=(4, 4, 4), num_init_features=24, bn_size=4, num_classes=10),
}


def state_prefixes(model: nn.Module) -> set[str]:
    return {key.rsplit(".", 1)[0] for key in model.state_dict()
            if not key.endswith("num_batches_tracked")}


@pytest.mark.parametrize("name", list(REFERENCES))
def test_graph_preset_matches_torchvision(name: str) -> None:
    analysis = analyse(preset(name))
    model = REFERENCES[name]().eval()
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    assert analysis.total_params == params
    assert analysis.total_buffers == buffers
    with torch.no_grad():
        out = model(torch.zeros(1, *analysis.network.input.shape))
    assert tuple(out.shape[1:]) == analysis.output_shape
    named = {r.name for r in analysis.leaves if r.params or r.buffers}
    assert named == state_prefixes(model)


def test_resnet18_counts_are_the_published_ones() -> None:
    assert analyse(preset("ResNet-18 for CIFAR-10 (3×32×32)")).total_params == 11_173_962
    assert analyse(preset("ResNet-18 for ImageNet (3×224×224)")).total_params == 11_689_512


def test_small_inception_matches_an_independent_torch_build() -> None:
    data = PRESETS["Small Inception-style net (3×32×32)"]
    analysis = analyse(preset("Small Inception-style net (3×32×32)"))
    model, _ = build(data)
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 32, 32))   # materialises the lazy modules
    assert tuple(out.shape[1:]) == analysis.output_shape == (10,)
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    concat = analysis.record("inception3a.cat")
    assert concat.output_shape == (64 + 128 + 32 + 32, 16, 16)
