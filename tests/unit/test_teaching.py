"""Presets, new-exercise randomisation, budget shares and conventions."""
from __future__ import annotations

import re

import pytest

from explorer.analysis import analyse
from explorer.app.insights import budget_html, conventions_html, shares
from explorer.app.quiz import quiz_html
from explorer.exercise import new_exercise
from explorer.presets import BROKEN_PRESET, PRESETS, preset
from explorer.spec import ArchitectureError, default_network

GOOD = [name for name in PRESETS if name != BROKEN_PRESET]


@pytest.mark.parametrize("name", GOOD)
def test_presets_are_valid(name: str) -> None:
    analysis = analyse(preset(name))
    assert analysis.output_shape == ((1000,) if "ImageNet" in name else (10,))


def test_lenet5_has_the_textbook_parameter_count() -> None:
    assert analyse(preset("LeNet-5 (1×32×32)")).total_params == 61_706


def test_broken_preset_fails_with_the_teaching_message() -> None:
    with pytest.raises(ArchitectureError) as err:
        analyse(preset(BROKEN_PRESET))
    assert str(err.value).startswith("FC1 (layer 14): in_features is 4096 but 2048 values arrive")
    assert str(err.value).endswith("use nn.Linear(2048, 256)")


@pytest.mark.parametrize("name", GOOD)
@pytest.mark.parametrize("seed", range(5))
def test_new_exercise_is_valid_and_keeps_structure_and_classes(name: str, seed: int) -> None:
    net = preset(name)
    variant = new_exercise(net, seed)
    analysis = analyse(variant)
    assert [type(a) for a in variant.layers] == [type(b) for b in net.layers]
    assert analysis.output_shape == analyse(net).output_shape
    assert variant != net


def test_new_exercise_is_reproducible_for_a_seed() -> None:
    assert new_exercise(default_network(), 7) == new_exercise(default_network(), 7)


def test_budget_shares_fc1_dominates_parameters_not_macs() -> None:
    analysis = analyse(default_network())
    recs = analysis.records[1:]
    params = shares([r.params for r in recs])
    macs = shares([r.macs for r in recs])
    fc1 = [r.name for r in recs].index("FC1")
    assert params[fc1] == pytest.approx(100 * 524_544 / 620_810)
    assert macs[fc1] < 10
    assert sum(params) == pytest.approx(100)
    html = budget_html(analysis)
    assert "FC1 holds 84.5 % of the parameters" in html


def test_conventions_count_keras_and_flops() -> None:
    analysis = analyse(default_network())
    text = conventions_html(analysis)
    assert f"{620_810 + 448:,}" in text            # Keras adds running mean/var (2·C per BN)
    assert f"{2 * 10_906_826:,}" in text           # FLOPs = 2·MACs
    assert f"{620_810 * 4 / 1e6:,.2f} MB" in text
    assert f"{620_810 * 4 / 2**20:,.2f} MiB" in text


def test_quiz_card_carries_the_answers_for_the_browser_check() -> None:
    analysis = analyse(default_network())
    conv2 = analysis.record("Conv2")
    html = quiz_html(conv2)
    assert 'data-shape="64,16,16"' in html and 'data-params="18496"' in html
    assert 'id="layer-details"' in html
    # The answers are not shown before a try: only inside the hidden reveal block.
    visible = re.sub(r'<div class="cnnx-reveal" hidden>.*?</div>', "", html)
    assert "18,496" not in visible and "(64, 16, 16)" not in visible


def test_new_exercise_on_a_graph_changes_kernels_inside_blocks_and_keeps_every_shape() -> None:
    net = preset("ResNet-18 for CIFAR-10 (3×32×32)")
    variant = new_exercise(net, 3)
    before, after = analyse(net), analyse(variant)
    assert [r.output_shape for r in after.records] == [r.output_shape for r in before.records]
    changed = [a.name for a, b in zip(after.records, before.records)
               if a.is_leaf and a.path and a.layer != b.layer]
    assert changed and after.total_params != before.total_params
