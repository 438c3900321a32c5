"""A graph network (ResNet-18, 3×224×224) in the static export: tree, open/close, cards, table.

Everything here runs with no Python in the page (docs/design.md §1, §7): the tree, the open
state, the layout of opened blocks and the nested table are operated by assets/graph.js over
columns precomputed in Python.
"""
from __future__ import annotations

import functools
import http.server
import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e_support import DEEP_ACTIVE_JS, ROOT, block_centre, card, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))
from resnet18 import resnet18  # noqa: E402

pytestmark = pytest.mark.e2e
DOWNSAMPLE = "layer2.0.downsample.0"
INDEX_JS = "(n) => Bokeh.documents[0].get_model_by_name('cnnx-layers').data.name.indexOf(n)"


@pytest.fixture(scope="module")
def graph_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("graph")
    arch = folder / "resnet18.json"
    arch.write_text(json.dumps(resnet18()), encoding="utf-8")
    out = folder / "resnet18.html"
    proc = subprocess.run([sys.executable, "-m", "explorer", "export", str(out), str(arch)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{out.name}"
    httpd.shutdown()
    httpd.server_close()


def item(page: Page, name: str):
    return page.get_by_role("treeitem", name=name, exact=True)


def click(page: Page, name: str) -> None:
    """Click the item's own label (the item's box also holds its opened children)."""
    item(page, name).locator(":scope > .cnnx-ti").click()


def focused(page: Page) -> str | None:
    info = page.evaluate(DEEP_ACTIVE_JS)
    return None if info is None else page.evaluate("""() => { let a = document.activeElement;
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
        const label = a.getAttribute('aria-labelledby');
        return label ? a.getRootNode().getElementById(label).textContent : a.getAttribute('aria-label'); }""")


def card_rows(page: Page) -> dict[str, str]:
    return card(page).evaluate("""(el) => Object.fromEntries(Array.from(el.querySelectorAll('dt')).map(
        dt => [dt.textContent.trim(), dt.nextElementSibling.firstChild.textContent.trim()]))""")


def test_open_layer2_and_select_its_downsample_convolution(page: Page, graph_url: str) -> None:
    page.goto(graph_url)
    wait_ready(page)
    expect(page.locator("html")).to_have_attribute("data-tier", "static")
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "false")
    expect(item(page, "layer2.0")).to_be_hidden()
    click(page, "layer2")
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "true")
    expect(card(page).locator("h2")).to_have_text("layer2")
    assert card_rows(page)["Parameters"] == "525,568"
    click(page, "layer2.0")
    click(page, "layer2.0.downsample")
    click(page, DOWNSAMPLE)
    expect(card(page).locator("h2")).to_have_text(DOWNSAMPLE)
    assert card_rows(page)["Parameters"] == "8,192"
    expect(item(page, DOWNSAMPLE)).to_have_attribute("aria-selected", "true")
    assert page.evaluate("location.hash") == f"#layer={DOWNSAMPLE}"
    # The diagram now draws the block's layers; the merge card explains the projection.
    shown = page.evaluate("""(name) => { for (const doc of Bokeh.documents) {
        const s = doc.get_model_by_name('cnnx-layers'); if (s == null) continue;
        const i = s.data.name.indexOf(name); return !Number.isNaN(Number(s.data.x[i])); } }""", DOWNSAMPLE)
    assert shown
    click(page, "layer2.0.add")
    expect(card(page)).to_contain_text("(128, 28, 28) + (128, 28, 28) → (128, 28, 28)")
    expect(card(page)).to_contain_text("projection")


def test_a_nested_layer_in_the_fragment_is_selected_on_load_with_its_blocks_open(page: Page, graph_url: str) -> None:
    page.goto(f"{graph_url}#layer={DOWNSAMPLE}")
    wait_ready(page)
    expect(card(page).locator("h2")).to_have_text(DOWNSAMPLE)
    assert card_rows(page)["Parameters"] == "8,192"
    for name in ("layer2", "layer2.0", "layer2.0.downsample"):
        expect(item(page, name)).to_have_attribute("aria-expanded", "true")
    expect(item(page, "layer1")).to_have_attribute("aria-expanded", "false")
    expect(item(page, DOWNSAMPLE)).to_be_visible()
    # The table opened the same blocks: the selected layer's row is shown and highlighted.
    at = page.evaluate(INDEX_JS, DOWNSAMPLE)
    row = page.locator(f'tr[data-parent][data-rows="{at}"]')
    expect(row).to_be_visible()
    expect(row).to_have_class("cnnx-depth4 cnnx-selected")


def test_the_tree_works_by_keyboard_alone(page: Page, graph_url: str) -> None:
    page.goto(graph_url)
    wait_ready(page)
    item(page, "Input").focus()
    keys = ["ArrowDown"] * 6 + ["ArrowRight"]               # layer2, opened
    for key in keys:
        page.keyboard.press(key)
    assert focused(page) == "layer2"
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "true")
    for key, want in [("ArrowRight", "layer2.0"), ("ArrowRight", "layer2.0"), ("ArrowRight", "layer2.0.add"),
                      ("ArrowRight", "layer2.0.conv1"), ("End", "fc"), ("Home", "Input"), ("End", "fc"),
                      ("ArrowUp", "flatten")]:
        page.keyboard.press(key)
        assert focused(page) == want, (key, want, focused(page))
    item(page, "layer2.0.conv1").focus()
    for _ in range(5):
        page.keyboard.press("ArrowDown")
    assert focused(page) == "layer2.0.downsample"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert focused(page) == DOWNSAMPLE
    page.keyboard.press("Enter")
    expect(card(page).locator("h2")).to_have_text(DOWNSAMPLE)
    assert card_rows(page)["Parameters"] == "8,192"
    page.keyboard.press("ArrowLeft")                        # a leaf: to its parent
    assert focused(page) == "layer2.0.downsample"
    page.keyboard.press("ArrowLeft")                        # an open block: closes
    expect(item(page, "layer2.0.downsample")).to_have_attribute("aria-expanded", "false")
    expect(item(page, DOWNSAMPLE)).to_be_hidden()
    page.keyboard.press(" ")                                # Space: select and open
    expect(card(page).locator("h2")).to_have_text("layer2.0.downsample")
    expect(item(page, "layer2.0.downsample")).to_have_attribute("aria-expanded", "true")
    assert page.locator('[role="treeitem"][tabindex="0"]').count() == 1


def test_the_browser_layout_matches_the_python_layout(page: Page, graph_url: str) -> None:
    """assets/graph.js mirrors explorer/app/graphview.layout: same boxes for the same open blocks."""
    from explorer.analysis import analyse
    from explorer.app import graphview
    from explorer.spec import from_json
    page.goto(graph_url)
    wait_ready(page)
    page.get_by_role("button", name="Expand all").click()
    expect(item(page, DOWNSAMPLE)).to_be_visible()
    got = page.evaluate("""() => { const s = Bokeh.documents[0].get_model_by_name('cnnx-layers');
        return [Array.from(s.data.x, Number), Array.from(s.data.y, Number)]; }""")
    t = graphview.tree(analyse(from_json(resnet18())))
    lay = graphview.layout(t, {i for i, k in enumerate(t.kind) if k})
    for axis, want in zip(got, (lay.x, lay.y)):
        assert len(axis) == len(want)
        for a, b in zip(axis, want):
            assert (a is None and math.isnan(b)) or a == pytest.approx(b)
    click(page, DOWNSAMPLE)
    page.get_by_role("button", name="Collapse all").click()
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "false")
    # The tab stop left the hidden layer for the closed block that holds it.
    expect(page.locator('[role="treeitem"][tabindex="0"]')).to_have_count(1)
    expect(item(page, "layer2")).to_have_attribute("tabindex", "0")


def test_a_tap_on_a_block_in_the_diagram_opens_it(page: Page, graph_url: str) -> None:
    page.goto(graph_url)
    wait_ready(page)
    i = page.evaluate(INDEX_JS, "layer1")
    point = block_centre(page, i)
    page.mouse.click(point["x"], point["y"])
    expect(item(page, "layer1")).to_have_attribute("aria-expanded", "true")
    expect(card(page).locator("h2")).to_have_text("layer1")


def test_no_horizontal_page_overflow_at_360px_with_everything_open(new_page, graph_url: str) -> None:
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(f"{graph_url}#layer={DOWNSAMPLE}")
    wait_ready(page)
    page.get_by_role("button", name="Expand all").click()
    for tr in page.locator("tr[data-parent] button[data-open][aria-expanded=false]").all()[:3]:
        tr.click()
    page.wait_for_timeout(500)
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert client == 360 and width <= 360


FIGURE_JS = """() => { const f = Bokeh.documents[0].get_model_by_name('cnnx-part-diagram');
    const v = Bokeh.index.find_one(f), r = v.el.getBoundingClientRect();
    return {width: r.width, height: r.height, modelHeight: f.height, minWidth: f.min_width,
            start: f.x_range.start, span: f.x_range.end - f.x_range.start, frame: v.frame.bbox.width}; }"""


def test_opening_a_block_keeps_the_figure_and_the_selection_is_brought_into_its_box(new_page, graph_url: str) -> None:
    """docs/design.md §7: the figure never changes width (a resize re-lays-out the whole page),
    the drawing keeps its scale and moves inside the box, and a selection far along is shown."""
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(graph_url)
    wait_ready(page)
    before = page.evaluate(FIGURE_JS)
    assert before["minWidth"] is None and before["width"] <= 360
    assert before["span"] * 84 == pytest.approx(before["frame"], abs=1)       # 84 px a slot, not squeezed
    click(page, "layer2")
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "true")
    after = page.evaluate(FIGURE_JS)
    assert (after["width"], after["height"], after["modelHeight"]) == (before["width"], before["height"],
                                                                        before["modelHeight"])
    assert after["span"] == pytest.approx(before["span"])
    click(page, "fc")
    expect(card(page).locator("h2")).to_have_text("fc")
    moved = page.evaluate(FIGURE_JS)
    assert moved["start"] > before["start"] + 5                      # the drawing moved left to show fc
    point = block_centre(page, page.evaluate(INDEX_JS, "fc"))         # raises unless fc is inside the frame
    assert 0 <= point["x"] <= 360
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client == 360


def test_a_sideways_wheel_moves_the_drawing_and_a_vertical_one_scrolls_the_page(page: Page, graph_url: str) -> None:
    page.goto(graph_url)
    wait_ready(page)
    page.get_by_role("button", name="Expand all").click()
    expect(item(page, DOWNSAMPLE)).to_be_visible()
    point = block_centre(page, page.evaluate(INDEX_JS, "conv1"))
    page.mouse.move(point["x"], point["y"])
    start = page.evaluate(FIGURE_JS)["start"]
    page.mouse.wheel(420, 0)
    page.wait_for_function("(s) => Bokeh.documents[0].get_model_by_name('cnnx-part-diagram').x_range.start > s + 4",
                           arg=start)
    moved = page.evaluate(FIGURE_JS)["start"]
    assert moved == pytest.approx(start + 5, abs=0.01)               # 420 px at 84 px a slot
    y = page.evaluate("window.scrollY")
    page.mouse.wheel(0, 300)
    page.wait_for_function("(y) => window.scrollY > y", arg=y)
    assert page.evaluate(FIGURE_JS)["start"] == moved


def swipe(page: Page, cdp, x: float, y: float, dx: float, dy: float) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + dx * k / 10,
                                                                                      "y": y + dy * k / 10}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(300)


def test_on_a_phone_a_sideways_swipe_moves_the_drawing_and_a_vertical_one_the_page(new_page, graph_url: str) -> None:
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(graph_url)
    wait_ready(page)
    point = block_centre(page, page.evaluate(INDEX_JS, "conv1"))
    cdp = page.context.new_cdp_session(page)
    start, y = page.evaluate(FIGURE_JS)["start"], page.evaluate("window.scrollY")
    swipe(page, cdp, point["x"] + 100, point["y"], -200, 0)
    moved = page.evaluate(FIGURE_JS)["start"]
    assert moved > start + 1 and page.evaluate("window.scrollY") == y
    swipe(page, cdp, point["x"] + 100, point["y"], 0, -200)
    assert page.evaluate("window.scrollY") > y + 50 and page.evaluate(FIGURE_JS)["start"] == moved


def test_the_desktop_server_shows_a_graph_network_from_a_link(page: Page, server_url: str) -> None:
    """The live tier: the same tree and cards, the network arriving through `#arch=`."""
    from explorer.spec import from_json
    from explorer.urlstate import encode_arch, make_fragment
    fragment = make_fragment(layer=DOWNSAMPLE, arch=encode_arch(from_json(resnet18())))
    page.goto(server_url + "#" + fragment.lstrip("#"))
    wait_ready(page, timeout=60_000)
    expect(item(page, DOWNSAMPLE)).to_have_attribute("aria-selected", "true", timeout=60_000)
    expect(card(page).locator("h2")).to_have_text(DOWNSAMPLE)
    assert card_rows(page)["Parameters"] == "8,192"
    expect(item(page, "layer2.0.downsample")).to_have_attribute("aria-expanded", "true")
    click(page, "layer3")
    expect(item(page, "layer3")).to_have_attribute("aria-expanded", "true")
    expect(card(page).locator("h2")).to_have_text("layer3")
    assert card_rows(page)["Parameters"] == "2,099,712"
