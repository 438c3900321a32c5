"""The one state owner: its actions, the views/editor/features that watch it, and the
guarantee that a refused or failing change keeps the last valid network everywhere."""
from __future__ import annotations

import re
from html import unescape

import pytest

pn = pytest.importorskip("panel")

from explorer.app.page import Explorer  # noqa: E402
from explorer.app.state import ExplorerState  # noqa: E402
from explorer.palette import PIECES  # noqa: E402
from explorer.urlstate import decode_arch, encode_arch  # noqa: E402

RESNET = "ResNet-18 for CIFAR-10 (3×32×32)"


def text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def agree(app: Explorer) -> None:
    """Diagram, card source, editor, feature view and URL all show the state's network and selection."""
    state = app.state
    rows = [r.name for r in state.network.records]
    assert app.views.source.data["name"] == rows
    assert app.views.source.selected.indices == ([] if state.selection is None else [state.selection])
    assert app.editor.index == app.show_features().index == state.selection
    assert app.show_features().analysis is state.network
    assert decode_arch(app.url_sink.text) == state.network.network
    assert app.editor.json.value == state.network.network.dumps()
    if state.selection not in (None, 0) and state.network.records[state.selection].is_leaf:
        assert app.editor.widget("name").value == state.selected_name


@pytest.fixture(scope="module")
def resnet_app() -> Explorer:
    app = Explorer(live=True)
    assert app.state.load_preset(RESNET) is None
    return app


def test_the_state_declares_network_selection_and_error_params() -> None:
    state = ExplorerState()
    assert {"network", "selection", "error"} <= set(state.param)
    seen = []
    state.param.watch(lambda *events: seen.append(sorted(e.name for e in events)), ["network", "selection"])
    state.select("Conv2")
    assert seen == [["selection"]]
    state.apply_json(state.network.network.to_json(), select=1)
    assert seen[-1] == ["network", "selection"]            # one batched call for both


def test_select_moves_every_view(resnet_app: Explorer) -> None:
    app = resnet_app
    app.select("layer2.0.downsample.0")
    agree(app)
    card = text(app.views.source.data["card"][app.selected])
    assert "8,192" in card                                 # 64·128·1·1 weights, no bias
    with pytest.raises(KeyError):
        app.select("no such layer")


def test_a_browser_click_goes_through_the_state(resnet_app: Explorer) -> None:
    app = resnet_app
    index = app.state.index_of("layer3.1.conv2")
    app.views.source.selected.indices = [index]
    assert app.state.selected_name == "layer3.1.conv2"
    agree(app)


def test_editing_a_layer_inside_a_block_recomputes_everything() -> None:
    app = Explorer(live=True)
    app.state.load_preset(RESNET)
    app.select("layer2.0.conv1")
    app.editor.widget("out_channels").value = 64          # conv2 and bn1 take the new width
    assert app.state.error == ""
    conv1 = app.analysis.record("layer2.0.conv1")
    assert conv1.params == 64 * 64 * 9 and conv1.output_shape == (64, 16, 16)
    assert app.analysis.total_params == 11_173_962 - 64 * 64 * 9 - 2 * 64 - 64 * 128 * 9
    assert f"{app.analysis.total_params:,}" in text(app.views.table.text)
    assert app.state.selected_name == "layer2.0.conv1"
    agree(app)


def test_a_merge_that_breaks_shapes_is_explained_and_the_network_stays() -> None:
    app = Explorer(live=True)
    app.state.load_preset(RESNET)
    before = app.network
    app.select("layer2.0.downsample")
    message = app.state.remove()
    assert message is not None and "layer2.0.add" in message and "differ" in message
    assert "1×1" in message                                # the fix: a projection shortcut
    assert app.network == before and app.state.selected_name == "layer2.0.downsample"
    assert "layer2.0.add" in unescape(app.editor.error.object)
    agree(app)


@pytest.mark.parametrize("piece", list(PIECES))
def test_every_palette_piece_fits_after_the_selected_node(piece: str) -> None:
    app = Explorer(live=True)
    app.select("ReLU2")                                     # 64×16×16 arrives
    assert app.state.insert(piece) is None, app.state.error
    record = app.analysis.records[app.selected]
    assert record.type == "block" and record.input_shape == record.output_shape == (64, 16, 16)
    assert app.analysis.output_shape == (10,)
    agree(app)


def test_a_piece_after_flatten_is_refused_with_the_fix() -> None:
    app = Explorer(live=True)
    app.select("Flatten")
    message = app.state.insert("Residual block (basic)")
    assert message is not None and "select a layer before Flatten" in message
    assert app.analysis.total_params == 620_810


def test_remove_and_move_whole_blocks(resnet_app: Explorer) -> None:
    app = Explorer(live=True)
    app.state.load_preset(RESNET)
    app.select("layer1.1")
    assert app.state.move(offset=-1) is None
    assert [r.name for r in app.analysis.records if r.depth == 1 and r.path == ("layer1",)] == ["layer1.1", "layer1.0"]
    assert app.state.selected_name == "layer1.1"
    assert app.state.remove() is None
    assert "layer1.1" not in app.network.names and app.analysis.total_params == 11_173_962 - 2 * (64 * 64 * 9 + 128)
    agree(app)
    app.select("layer1.0")
    message = app.state.remove()                            # the only block of layer1
    assert message is not None and "may not be empty" in message


def test_the_link_carries_a_graph_network() -> None:
    app = Explorer(live=True)
    app.state.load_preset(RESNET)
    arch = app.url_sink.text
    assert decode_arch(arch) == app.network
    other = Explorer(live=True, fragment=f"#layer=layer4.0.downsample.0&arch={arch}")
    assert other.network == app.network and other.state.selected_name == "layer4.0.downsample.0"
    assert other.notice.object == ""
    assert encode_arch(other.network) == arch


def test_a_failing_view_keeps_the_last_valid_network_in_every_watcher(monkeypatch) -> None:
    app = Explorer(live=True)
    app.select("Conv2")

    def broken(*_a, **_k):
        raise RuntimeError("the diagram broke")
    monkeypatch.setattr(app.views, "update", broken)
    message = app.state.load_preset(RESNET)
    assert message is not None and "unchanged" in message
    assert app.network.name != "ResNet-18 (CIFAR-10)" and app.analysis.total_params == 620_810
    assert "the diagram broke" in app.notice.object
    assert app.editor.index == app.show_features().index == app.state.selection == 5
    assert app.show_features().analysis is app.state.network


def test_import_shows_the_importers_notes(monkeypatch) -> None:
    from explorer import importer
    from explorer.spec import default_network

    def fake(text, size, name="Imported model"):
        return default_network(), ["AvgPool assumed after every conv"]
    monkeypatch.setattr(importer, "import_model", fake, raising=False)
    app = Explorer(live=True)
    assert app.state.import_text("anything", "3x32x32") is None
    assert app.state.notes == ["AvgPool assumed after every conv"]
    assert "AvgPool assumed after every conv" in app.editor.notes.object
    app.state.reset()
    assert app.editor.notes.object == ""


def test_comparison_section_follows_the_network() -> None:
    app = Explorer(live=True)
    assert "no residual shortcuts" in app.teaching.body.object
    app.state.load_preset(RESNET)
    body = text(app.teaching.body.object)
    assert "8 shortcuts" in body and "173,824" in body     # the three projections' conv + BN weights
    app.teaching.reduction.value = "÷2"
    assert "÷2" in text(app.teaching.body.object)


def test_a_selected_merge_shows_its_output_and_its_receptive_field() -> None:
    from explorer.analysis import rf_box
    from explorer.features import compute
    app = Explorer(live=True)
    app.state.load_preset("Small Inception-style net (3×32×32)")
    app.select("inception3a.cat")
    record = app.analysis.record("inception3a.cat")
    assert record.output_shape == (256, 16, 16)
    assert "inception3a.cat" in app.show_features().caption.object and "256 channels" in app.show_features().caption.object
    expected = compute(app.analysis, app.show_features().sample.value).outputs[record.index]
    assert (app.show_features().grid_src.data["image"][0] == expected[0][::-1]).all()
    box = app.show_features().tap(0.5, 0.5)                       # the centre of channel 0's tile
    assert box == rf_box(record, 8, 8)
    # stem 3×3 (3), max-pool 3/2 (5, jump 2), then a 3×3 branch: 9×9; the 1×1 branch alone sees 5×5
    assert record.receptive_field == (9, 9) and box[3] - box[1] + 1 == 9


def test_changing_a_merge_kind_recomputes_or_explains() -> None:
    app = Explorer(live=True)
    app.state.load_preset(RESNET)
    before = app.network
    app.select("layer1.0.add")
    app.editor.widget("merge").value = "concat"            # 128 channels reach layer1.1's 64-wide add
    assert "layer1.1.add: shapes 128×32×32 and 64×32×32 differ" in app.state.error
    assert app.network == before and app.state.selected_name == "layer1.0.add"
    assert "layer1.1.add" in unescape(app.editor.error.object)
    app.select("layer4.1.add")
    app.editor.widget("merge").value = "concat"            # the last block: the classifier infers 1024 inputs
    assert app.state.error == ""
    assert app.analysis.record("layer4.1.add").output_shape == (1024, 4, 4)
    assert app.analysis.record("fc").params == 1024 * 10 + 10
    assert app.state.selected_name == "layer4.1.add"
    agree(app)
    app.select("layer2.0.add")
    app.editor.widget("merge").value = "multiply"          # 128×16×16 × 128×16×16: fits
    assert app.state.error == "" and app.analysis.record("layer2.0.add").output_shape == (128, 16, 16)
    before = app.network
    app.select("layer1.1.add")
    app.editor.widget("merge").value = "add"               # unchanged: no edit
    assert app.network == before
