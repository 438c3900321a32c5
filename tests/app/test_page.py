"""The Panel page in CPython: selection data, edits, bad edits, URL fragment."""
from __future__ import annotations

import re
from html import unescape

import pytest

pn = pytest.importorskip("panel")

from explorer.analysis import analyse  # noqa: E402
from explorer.app.page import Explorer  # noqa: E402
from explorer.app.viewmodel import table_rows  # noqa: E402
from explorer.spec import default_network  # noqa: E402
from explorer.urlstate import encode_arch  # noqa: E402


def text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def app() -> Explorer:
    return Explorer(live=True)


def conv1_json(app: Explorer, **changes: object) -> dict:
    data = app.network.to_json()
    data["layers"][0] = {**data["layers"][0], **changes}
    return data


def test_every_layer_has_a_card_with_shape_params_and_code(app: Explorer) -> None:
    src = app.views.source.data
    expected = analyse(default_network()).records
    assert src["name"] == [r.name for r in expected]
    for r, card, say in zip(expected, src["card"], src["say"]):
        body = text(card)
        assert 'id="layer-details"' in card
        assert r.shape_text in body
        assert f"{r.params:,}" in body
        assert r.pytorch in body
        assert say.startswith(f"{r.name}: output ")


def test_layer_buttons_mirror_blocks_in_order(app: Explorer) -> None:
    names = re.findall(r'<button type="button" data-i="\d+"[^>]*>([^<]+)</button>', app.views.nav.text)
    assert names == app.views.source.data["name"]
    assert len(names) == 17


def test_select_updates_selection_and_editor(app: Explorer) -> None:
    app.select("Conv2")
    assert app.selected == 5 and app.views.source.selected.indices == [5]
    assert app.editor is not None and app.editor.index == 5 and app.show_features().index == 5
    labels = [w.name for w in app.editor.form.objects[1].objects]
    assert "out_channels" in labels and "kernel_size" in labels


def test_edit_recomputes_everything(app: Explorer) -> None:
    assert app.apply_json(conv1_json(app, out_channels=16)) is None
    conv1 = app.analysis.record("Conv1")
    assert conv1.params == 448
    assert app.analysis.total_params == 620_810 - 448 - 32 - 9_216
    assert "448" in text(app.views.source.data["card"][1])
    assert f"{app.analysis.total_params:,}" in text(app.views.table.text)
    assert "nn.Conv2d(3, 16, kernel_size=3, padding=1)" in text(app.views.code.text)
    assert app.url_sink.text == encode_arch(app.network)


@pytest.mark.parametrize("changes, fragment", [
    ({"out_channels": 0}, "Conv1 (layer 1): out_channels"),
    ({"kernel_size": 40}, "Conv1 (layer 1): kernel_size 40 does not fit"),
    ({"kernal_size": 3}, "unknown field \"kernal_size\""),
    ({"groups": 5}, "groups=5 must divide"),
])
def test_bad_edit_keeps_last_valid_network(app: Explorer, changes: dict, fragment: str) -> None:
    before = app.views.source.data["card"]
    error = app.apply_json(conv1_json(app, **changes))
    assert error is not None and fragment in error
    assert app.analysis.total_params == 620_810
    assert app.views.source.data["card"] == before
    assert app.editor is not None and fragment in unescape(app.editor.error.object)


def test_good_edit_after_bad_clears_error(app: Explorer) -> None:
    app.apply_json(conv1_json(app, out_channels=0))
    assert app.apply_json(conv1_json(app, out_channels=8)) is None
    assert app.editor is not None and app.editor.error.object == ""


def test_editor_structure_buttons(app: Explorer) -> None:
    editor = app.editor
    assert editor is not None
    app.select("Conv1")
    editor.new_type.value = "dropout"
    editor.insert.clicks += 1                   # the button calls state.insert(kind)
    assert [r.type for r in app.analysis.records[:3]] == ["input", "conv2d", "dropout"]
    editor.remove.clicks += 1                   # removes the new dropout (selected after insert)
    assert app.analysis.total_params == 620_810
    app.select("Pool3")
    editor.down.clicks += 1                     # Pool3 after Flatten: invalid, network kept
    assert "Pool3" in editor.error.object and "move it before Flatten" in editor.error.object
    assert app.analysis.records[12].name == "Pool3" and editor.index == 12
    app.select("ReLU4")
    app.state.move(offset=-1)                   # ReLU before FC1: valid, names renumber
    assert [r.name for r in app.analysis.records[13:17]] == ["Flatten", "ReLU4", "FC1", "Logits"]


def test_input_preset_rewires_the_network(app: Explorer) -> None:
    editor = app.editor
    assert editor is not None
    editor.preset.value = "MNIST (1×28×28)"
    assert app.network.input.shape == (1, 28, 28)
    # 28 → 14 → 7 → 3 after three pools: FC1 now takes 128·3·3 inputs.
    assert app.analysis.record("FC1").params == 128 * 3 * 3 * 256 + 256


def test_fragment_loads_network_and_layer() -> None:
    net = default_network()
    data = net.to_json()
    data["layers"][0]["out_channels"] = 8
    from explorer.spec import from_json
    arch = encode_arch(from_json(data))
    app = Explorer(live=True, fragment=f"#layer=Conv2&arch={arch}")
    assert app.analysis.record("Conv1").params == 3 * 3 * 3 * 8 + 8
    assert app.selected == 5
    assert app.notice.object == ""


def test_corrupted_fragment_loads_default_and_says_so() -> None:
    app = Explorer(live=True, fragment="#arch=%%%not-base64")
    assert app.analysis.total_params == 620_810
    assert "could not be loaded" in app.notice.object


def test_fragment_hide_parts() -> None:
    app = Explorer(live=True, fragment="#hide=table,code")
    assert app.views.table.visible is False and app.views.code.visible is False
    assert app.views.card.visible is True


def test_table_groups_conv_and_bn_like_the_seed() -> None:
    rows = table_rows(analyse(default_network()))
    labels = [r.label for r in rows]
    assert labels == ["Input", "Conv1 + BN", "Pool1", "Conv2 + BN", "Pool2", "Conv3 + BN", "Pool3", "Flatten",
                      "FC1", "FC2 (Logits)"]
    assert [r.params for r in rows][1] == "896 + 64"


def test_static_page_has_no_editor() -> None:
    app = Explorer(live=False)
    assert app.editor is None
    assert app.views.source.selected.js_property_callbacks  # client-side selection wired


def test_presets_load_and_broken_preset_teaches(app: Explorer) -> None:
    editor = app.editor
    assert editor is not None
    editor.network_preset.value = "LeNet-5 (1×32×32)"
    assert app.network.name == "LeNet-5" and app.analysis.total_params == 61_706
    editor.network_preset.value = "Broken on purpose: Linear in_features"
    assert app.network.name == "LeNet-5"  # last valid network kept
    assert "in_features is 4096 but 2048 values arrive" in editor.error.object
    assert "nn.Linear(2048, 256)" in editor.error.object


def test_new_exercise_changes_sizes_but_keeps_structure(app: Explorer) -> None:
    editor = app.editor
    assert editor is not None
    before = [r.type for r in app.analysis.records]
    app.state.new_exercise()
    assert [r.type for r in app.analysis.records] == before
    assert app.analysis.output_shape == (10,)
    assert app.analysis.total_params != 620_810


PRINTED = """Sequential(
  (0): Conv2d(1, 8, kernel_size=(5, 5), stride=(1, 1))
  (1): ReLU()
  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (3): Flatten(start_dim=1, end_dim=-1)
  (4): Linear(in_features=1152, out_features=10, bias=True)
)"""


def test_bring_your_own_model(app: Explorer) -> None:
    editor = app.editor
    assert editor is not None
    editor.model_text.value = PRINTED
    editor.model_input.value = "1x28x28"
    editor.load_model.clicks += 1
    assert app.network.input.shape == (1, 28, 28)
    assert app.analysis.total_params == 5 * 5 * 8 + 8 + 1152 * 10 + 10
    assert editor.error.object == ""


@pytest.mark.parametrize("text, words", [
    (PRINTED.replace("ReLU()", "PixelShuffle(upscale_factor=2)"), ["PixelShuffle", "line 3"]),
    ("__import__('os').system('echo pwned')", ["__import__"]),
    (PRINTED.replace("1152", "4096"), ["in_features is 4096"]),
])
def test_bad_model_text_keeps_the_network(app: Explorer, text: str, words: list[str]) -> None:
    editor = app.editor
    assert editor is not None
    assert app.state.import_text(text, "1x28x28") is not None
    assert app.analysis.total_params == 620_810
    for word in words:
        assert word in unescape(editor.error.object)


def test_inserting_after_the_last_layer_selects_the_new_one(app: Explorer) -> None:
    """Regression: the selection moved past the end of the previous network while the
    feature view still held that network, and the update stopped half-way."""
    editor, features = app.editor, app.show_features()
    assert editor is not None and features is not None
    app.select("Logits")
    app.state.insert("relu")
    assert [r.name for r in app.analysis.records][-2:] == ["Logits", "ReLU5"]
    assert app.selected == 17 and editor.index == 17 and features.index == 17
    assert "ReLU5" in features.caption.object


def test_folded_editor_sections_join_the_document_when_opened(app: Explorer) -> None:
    """The model-import and JSON sections are built on first opening (docs/design.md §5),
    with the widgets the editor already keeps up to date."""
    from bokeh.document import Document
    from panel.models import Card

    ed = app.editor
    doc = Document()
    doc.add_root(app.layout.get_root(doc))
    cards = [m for m in doc.models if isinstance(m, Card)]
    assert len(cards) == 2 and all(len(c.children) == 1 for c in cards)     # the header only
    before = len(doc.models)
    json_card = next(o for o in ed.layout.objects if isinstance(o, pn.Card) and o.title == "Architecture as JSON")
    json_card.collapsed = False
    assert json_card.objects[0] is ed.json and ed.json.value == app.network.dumps()
    assert len(doc.models) > before + 3          # the text box, its row, two buttons
    json_card.collapsed = True
    json_card.collapsed = False
    assert json_card.objects[0] is ed.json      # built once


def test_page_divs_share_one_stylesheet_per_page() -> None:
    """One InlineStyleSheet per page (not per Div: 45 KB less to send; not per process: a
    model belongs to one document and the server holds many)."""
    from bokeh.document import Document
    from bokeh.models import InlineStyleSheet

    first, second = Explorer(live=True), Explorer(live=True)
    docs = []
    for page in (first, second):
        doc = Document()
        doc.add_root(page.layout.get_root(doc))
        docs.append(doc)
        ours = [m for m in doc.models if isinstance(m, InlineStyleSheet) and m.css == page.views.css.css]
        assert ours == [page.views.css]
    assert first.views.css is not second.views.css
