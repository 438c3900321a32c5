"""View models of a graph network (ResNet-18): tree, layout, block and merge cards, nested table."""
from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest

from explorer.analysis import analyse
from explorer.app import graphview
from explorer.app.views import Views
from explorer.app.viewmodel import diagram_model, nav_html, table_html
from explorer.spec import default_network, from_json
from resnet18 import resnet18


@pytest.fixture(scope="module")
def r18():
    return analyse(from_json(resnet18()))


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def index(analysis, name: str) -> int:
    return next(r.index for r in analysis.records if r.name == name)


class Items(HTMLParser):
    """treeitems with their level, parent item (by nesting) and accessible name (the text of the
    element they are labelled by)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict] = []
        self.stack: list[int | None] = []   # per open <li>: its data-i
        self.labels: dict[str, str] = {}
        self.label_id: str | None = None

    def handle_data(self, data):
        if self.label_id is not None:
            self.labels[self.label_id] = self.labels.get(self.label_id, "") + data

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "span" and "id" in a:
            self.label_id = a["id"]
        if tag == "li":
            parent = next((i for i in reversed(self.stack) if i is not None), None)
            self.items.append({"i": int(a["data-i"]), "name": a["aria-labelledby"], "level": int(a["aria-level"]),
                               "expanded": a.get("aria-expanded"), "parent": parent, "tabindex": a["tabindex"]})
            self.stack.append(int(a["data-i"]))

    def handle_endtag(self, tag):
        if tag == "li":
            self.stack.pop()
        if tag == "span":
            self.label_id = None


def tree_items(html: str) -> list[dict]:
    p = Items()
    p.feed(html)
    for it in p.items:
        it["name"] = p.labels[it["name"]]
    return p.items


def test_the_tree_has_one_item_per_node_named_by_the_node_and_nested_by_path(r18):
    items = tree_items(nav_html(r18))
    assert sorted(it["i"] for it in items) == list(range(len(r18.records)))
    by_i = {it["i"]: it for it in items}
    for r in r18.records:
        it = by_i[r.index]
        assert it["name"] == r.name
        assert it["level"] == r.depth + 1
        assert (r18.records[it["parent"]].name if it["parent"] is not None else None) == r.parent
        assert (it["expanded"] is not None) == (r.type in ("block", "parallel"))
    top = [it["name"] for it in items if it["level"] == 1]
    assert top == ["Input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                   "flatten", "fc"]
    assert [it["tabindex"] for it in items].count("0") == 1


def test_a_selection_opens_the_tree_on_the_way_to_it(r18):
    i = index(r18, "layer2.0.downsample.0")
    html = nav_html(r18, i)
    by_name = {it["name"]: it for it in tree_items(html)}
    for name in ("layer2", "layer2.0", "layer2.0.add", "layer2.0.downsample"):
        assert by_name[name]["expanded"] == "true"
    assert by_name["layer1"]["expanded"] == "false"
    assert by_name["layer2.0.downsample.0"]["tabindex"] == "0"


def test_subtotals_are_the_sum_of_their_children(r18):
    t = graphview.tree(r18)
    for r in r18.records:
        if r.subtotal is None:
            continue
        kids = t.children.get(r.index, [])
        own = sum(r18.records[k].subtotal.params if r18.records[k].subtotal else r18.records[k].params for k in kids)
        macs = sum(r18.records[k].subtotal.macs if r18.records[k].subtotal else r18.records[k].macs for k in kids)
        assert r.subtotal.params == own and r.subtotal.macs == macs, r.name
    assert r18.total_params == 11_689_512


def test_at_first_sight_only_the_top_level_is_drawn(r18):
    model = diagram_model(r18)
    cols = model.columns
    shown = [cols["name"][i] for i, x in enumerate(cols["x"]) if not math.isnan(x)]
    assert shown == ["Input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                     "flatten", "fc"]
    xs = [x for x in cols["x"] if not math.isnan(x)]
    assert xs == sorted(xs) and len(model.arrows["x0"]) == len(shown) - 1
    assert cols["card"][index(r18, "layer2.0.downsample.0")].count("8,192") >= 1


def test_an_open_block_frames_its_contents_and_a_residual_draws_its_shortcut(r18):
    t = graphview.tree(r18)
    opened = {index(r18, n) for n in ("layer1", "layer1.0")} | {i for i, k in enumerate(t.kind) if k == 2}
    lay = graphview.layout(t, opened)
    frame = index(r18, "layer1.0")
    assert lay.open_group[frame]
    for name in ("layer1.0.conv1", "layer1.0.bn2", "layer1.0.add", "layer1.0.relu_out"):
        i = index(r18, name)
        assert abs(lay.x[i] - lay.x[frame]) + lay.w[i] / 2 <= lay.w[frame] / 2 + 1e-9, name
        assert abs(lay.y[i] - lay.y[frame]) + lay.h[i] / 2 <= lay.h[frame] / 2 + 1e-9, name
    assert math.isnan(lay.x[index(r18, "layer1.1.conv1")])     # layer1.1 stays closed
    assert len(lay.arcs["x0"]) == 1                             # layer1.0's identity shortcut
    merge = index(r18, "layer1.0.add")
    assert lay.arcs["x1"][0] == pytest.approx(lay.x[merge])     # the arc lands on the ⊕ node


def test_a_projection_shortcut_is_stacked_under_the_main_path(r18):
    t = graphview.tree(r18)
    opened = {index(r18, n) for n in ("layer2", "layer2.0", "layer2.0.downsample")} | {
        i for i, k in enumerate(t.kind) if k == 2}
    lay = graphview.layout(t, opened)
    conv1, ds = index(r18, "layer2.0.conv1"), index(r18, "layer2.0.downsample.0")
    assert lay.y[ds] < lay.y[conv1] - 0.5
    assert lay.arcs["x0"] == []          # a projection shortcut is a branch with boxes, not an arc
    merge = index(r18, "layer2.0.add")
    assert lay.x[merge] > max(lay.x[conv1], lay.x[ds]) and lay.y[merge] == pytest.approx(lay.y[conv1])


def test_block_and_merge_cards_show_subtotals_shares_class_and_shapes(r18):
    cols = diagram_model(r18).columns
    block = text(cols["card"][index(r18, "layer2.0")])
    assert "(64, 56, 56) → (128, 28, 28)" in block
    assert "230,144" in block and "BasicBlock" in block
    share = 100 * 230_144 / r18.total_params
    assert f"{share:.1f} % of the network" in block
    merge = text(cols["card"][index(r18, "layer2.0.add")])
    assert "(128, 28, 28) + (128, 28, 28) → (128, 28, 28)" in merge
    assert "projection" in merge and "1×1 convolution" in merge
    same = text(cols["card"][index(r18, "layer1.0.add")])
    assert "(64, 56, 56) + (64, 56, 56)" in same and "identity" in same and "projection" not in same


def test_the_table_nests_block_rows_with_subtotals_and_keeps_the_totals(r18):
    html = table_html(r18)
    rows = re.findall(r'<tr data-rows="(\d+)" data-parent="(-?\d+)" class="([^"]*)"( hidden)? ', html)
    assert [int(r[0]) for r in rows] == [it["i"] for it in tree_items(nav_html(r18))]   # tree order
    for i, parent, cls, hidden in rows:
        r = r18.records[int(i)]
        assert int(parent) == (index(r18, r.parent) if r.parent else -1)
        assert f"cnnx-depth{r.depth}" in cls and bool(hidden) == (r.depth > 0)
    layer3 = re.search(r'<tr data-rows="%d".*?</tr>' % index(r18, "layer3"), html).group(0)
    assert f"{r18.records[index(r18, 'layer3')].subtotal.params:,}" in layer3
    assert f'data-total="{r18.total_params}">11,689,512' in html
    assert f"{r18.total_macs:,}" in html


def test_flat_networks_keep_the_toolbar_and_the_seed_table():
    a = analyse(default_network())
    assert 'role="toolbar"' in nav_html(a) and 'role="tree"' not in nav_html(a)
    assert "Conv1 + BN" in table_html(a) and "cnnx-nested" not in table_html(a)
    cols = diagram_model(a).columns
    assert cols["tname"] == cols["name"] and cols["x"] == [float(i) for i in range(17)]


def test_views_switch_between_flat_and_graph_networks(r18):
    flat = analyse(default_network())
    v = Views(flat)
    v.update(r18, index(r18, "layer2.0.downsample.0"))
    assert v.source.selected.indices == [index(r18, "layer2.0.downsample.0")]
    assert 'role="tree"' in v.nav.text and v.figure.height > 100
    v.update(flat, 2)
    assert 'role="toolbar"' in v.nav.text and v.figure.height == 240 and v.arcs.data["x0"] == []


def test_a_graph_figure_pans_inside_the_page_width_and_a_flat_one_scrolls_its_box(r18):
    """docs/design.md §7: a graph network's figure has no minimum width (the drawing moves inside
    it by a sideways drag) and starts as tall as one open top-level block; a flat network keeps
    its readable minimum width (its box scrolls natively) and no drag tool."""
    flat = analyse(default_network())
    v = Views(r18)
    one_open = graphview.layout(graphview.tree(r18), {index(r18, "layer2")} | {
        i for i, k in enumerate(graphview.tree(r18).kind) if k == 2})
    assert v.figure.min_width is None and v.pan.visible and v.figure.toolbar.active_drag is v.pan
    assert v.figure.height == round(graphview.PX_PER_LANE * one_open.height) + 30 > diagram_model(r18).height
    v.update(flat, None)
    assert v.figure.min_width == diagram_model(flat).width and v.figure.height == 240
    assert v.figure.toolbar.active_drag is None and not v.pan.visible
    v.update(r18, None)
    assert v.figure.min_width is None and v.figure.toolbar.active_drag is v.pan


def test_where_the_cost_lives_and_the_conventions_work_per_top_level_block(r18):
    from explorer.app.insights import budget_html, conventions_html
    html = budget_html(r18)
    names = re.findall(r'<th scope="row">([^<]+)</th>', html)
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten",
                     "fc"]
    layer4 = r18.records[index(r18, "layer4")].subtotal
    assert f"layer4 holds {100 * layer4.params / r18.total_params:.1f} % of the parameters" in text(html)
    per_block = conventions_html(r18).split("Per block")[1]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>'
                      r'<td class="num">([\d,]+)</td>', per_block)
    assert [r[0] for r in rows] == ["layer1", "layer2", "layer3", "layer4"]
    for name, params, keras, macs in rows:
        s = r18.records[index(r18, name)].subtotal
        assert (params, keras, macs) == (f"{s.params:,}", f"{s.params + s.buffers:,}", f"{s.macs:,}")
    flat = analyse(default_network())
    assert "Per block" not in conventions_html(flat) and "FC1 holds" in budget_html(flat)


def test_hostile_names_in_blocks_and_merges_stay_text():
    from hostile import LAYER_PAYLOADS
    from test_hostile_names import assert_inert
    from explorer.app.views import code_html, diagram_svg
    p = LAYER_PAYLOADS
    arch = {"name": "g", "input": {"channels": 3, "height": 8, "width": 8}, "layers": [
        {"type": "block", "name": p[0], "module": "BasicBlock", "layers": [
            {"type": "parallel", "name": p[1], "merge": "add", "branches": [
                [{"type": "conv2d", "name": p[2], "out_channels": 3, "kernel_size": 3, "padding": 1}], []]}]},
        {"type": "flatten", "name": p[3]}]}
    a = analyse(from_json(arch))
    model = diagram_model(a)
    pages = [nav_html(a), table_html(a), *model.columns["card"]]
    from explorer.app.insights import budget_html, conventions_html
    pages += [budget_html(a), conventions_html(a), code_html(a), diagram_svg(model)]
    for k, html in enumerate(pages):
        assert_inert(html, f"page {k}")
    names = [it["name"] for it in tree_items(nav_html(a))]
    assert names == ["Input", p[0], p[1], p[2], p[3]]   # accessible names are the literal names


def test_deeply_nested_parallels_are_laid_out_with_every_shortcut():
    """Each branch is measured once: 30 nested residuals lay out (fully open) with 30 arcs."""
    inner: list[dict] = [{"type": "relu", "name": "core"}]
    for k in range(30):
        inner = [{"type": "parallel", "name": f"add{k}", "merge": "add", "branches": [inner, []]}]
    a = analyse(from_json({"name": "deep", "input": {"channels": 1, "height": 4, "width": 4}, "layers": inner}))
    t = graphview.tree(a)
    lay = graphview.layout(t, {i for i, k in enumerate(t.kind) if k})
    assert len(lay.arcs["x0"]) == 30
    assert all(not math.isnan(x) for x in lay.x[1:])
    peaks = sorted(lay.arcs["cy0"])
    assert peaks == sorted(set(peaks))      # each shortcut clears the ones inside it
