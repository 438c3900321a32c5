"""Graph networks (ResNet-18) on the live Pyodide site: a nested `#layer=` from a link across the
hand-off, the tree by keyboard, and an edit inside a block recomputed in the browser
(docs/design.md §7, issue 10).

The network arrives through `#arch=`: the live tier loads it, while the static tier shows the
prerendered default network until Python is live (docs/design.md §3). Every expected number comes
from explorer's analysis of the same network. One page load for the whole module (`resnet_page`),
since each cold start of Python costs 10-20 s; the tests run in file order on it and each opens
what it needs itself.
"""
from __future__ import annotations

import contextlib
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from site_helpers import NO_NUMPY_REASON, PROJECT, Guard, hold_worker, release, serve, wait_tier

from explorer.analysis import analyse
from explorer.presets import preset
from explorer.spec import default_network, from_json
from explorer.urlstate import encode_arch, make_fragment
from pyodide_build.build import DEFAULT_ENTRY

ENTRY = PROJECT / DEFAULT_ENTRY
pytestmark = [pytest.mark.e2e, pytest.mark.live,
              pytest.mark.skipif(not ENTRY.exists(), reason=f"{ENTRY} does not exist yet")]

IMAGENET = "ResNet-18 for ImageNet (3×224×224)"
DOWNSAMPLE = "layer2.0.downsample.0"
EDITED = "layer2.0.conv1"
PYTHON_MS = 60_000          # a deferred redraw of a ResNet in Pyodide, on a loaded machine

# The accessible name of the focused element, through shadow roots (a tree item's name is the
# text of the hidden span its aria-labelledby points at, docs/design.md §7).
FOCUSED_JS = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a) return null;
  const id = a.getAttribute('aria-labelledby');
  return id ? a.getRootNode().getElementById(id).textContent : a.getAttribute('aria-label');
}"""

CARD_ROWS_JS = """(el) => Object.fromEntries(Array.from(el.querySelectorAll('dt')).map(
    dt => [dt.textContent.trim(), dt.nextElementSibling.firstChild.textContent.trim()]))"""


def item(page: Page, name: str):
    return page.get_by_role("treeitem", name=name, exact=True)


def card_params(page: Page) -> str | None:
    return page.locator("#layer-details").evaluate(CARD_ROWS_JS).get("Parameters")


def press_until(page: Page, key: str, name: str, limit: int = 30) -> None:
    """Press `key` until the tree item `name` has the focus (the keyboard alone moves it)."""
    for _ in range(limit):
        if page.evaluate(FOCUSED_JS) == name:
            return
        page.keyboard.press(key)
    assert page.evaluate(FOCUSED_JS) == name, f"{key} x{limit} never reached {name}"


def link(name: str, layer: str | None = None) -> str:
    return "index.html#" + make_fragment(layer=layer, arch=encode_arch(preset(name))).lstrip("#")


def static_snapshot(page: Page) -> dict[str, Any]:
    """What the page shows now (Playwright's locators see into the panes' shadow roots)."""
    return {"tier": page.evaluate("document.documentElement.dataset.tier"),
            "card": page.locator("#layer-details").text_content(),
            "heading": page.locator("#layer-details h2").count(),
            "pressed": page.locator("button[data-i][aria-pressed=true]").count(),
            "buttons": [t.strip() for t in page.locator("button[data-i]").all_text_contents()],
            "treeitems": page.get_by_role("treeitem").count(),
            "hash": page.evaluate("decodeURIComponent(location.hash)"),
            "status": page.locator("#cnn-status").text_content()}


@pytest.fixture(scope="module")
def resnet_page(real_site, chromium) -> Any:
    """One page for the module (each cold start of Python costs 10-20 s): the site opened at
    `#arch=<ResNet-18 ImageNet>&layer=layer2.0.downsample.0` with the worker held back; what the
    static tier showed is recorded, then Python is let in and the page is returned once live.
    Yields (page, static snapshot)."""
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    _, browser = chromium
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    guard = Guard(ctx)
    held = hold_worker(ctx)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with serve(out) as srv:
        page.goto(srv.url + link(IMAGENET, DOWNSAMPLE))
        page.get_by_role("button", name="Conv2", exact=True).wait_for(timeout=15_000)
        page.wait_for_timeout(300)                  # the fragment is applied on document_ready
        static = static_snapshot(page)
        release(page, held)
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        yield page, static
    with contextlib.suppress(Exception):
        ctx.close()
    guard.check()
    assert not errors, errors


def test_a_nested_layer_in_the_link_is_selected_with_its_blocks_open(resnet_page) -> None:
    """Before Python is live the prerendered (default) network stays on screen, nothing picked
    for a name it lacks, the fragment kept for Python; once live, the card shows the projection
    convolution with its 64·128·1·1 parameters and the blocks on the way are open."""
    page, static = resnet_page
    default = [r.name for r in analyse(default_network()).records]
    assert static["tier"] == "static", static
    assert static["buttons"] == default, static["buttons"]
    assert static["heading"] == 0 and static["pressed"] == 0 and static["treeitems"] == 0, static
    assert f"layer={DOWNSAMPLE}" in static["hash"] and "arch=" in static["hash"]
    assert "The network in this link appears once Python is ready" in static["status"], static["status"]
    analysis = analyse(preset(IMAGENET))
    record = analysis.record(DOWNSAMPLE)
    assert record.params == 64 * 128 * 1 * 1
    expect(item(page, DOWNSAMPLE)).to_have_attribute("aria-selected", "true", timeout=PYTHON_MS)
    expect(page.locator("#layer-details h2")).to_have_text(DOWNSAMPLE)
    assert card_params(page) == f"{record.params:,}" == "8,192"
    expect(page.locator("#layer-details")).to_contain_text(record.shape_text)
    for name in ("layer2", "layer2.0", "layer2.0.downsample"):
        expect(item(page, name)).to_have_attribute("aria-expanded", "true")
    for name in ("layer1", "layer3"):
        expect(item(page, name)).to_have_attribute("aria-expanded", "false")
    expect(item(page, DOWNSAMPLE)).to_be_visible()
    expect(page.locator("tfoot td[data-total]")).to_have_attribute("data-total", str(analysis.total_params))


def open_by_keyboard(page: Page, name: str) -> None:
    """With `name` focused: Right opens it when closed (an open block stays as it is)."""
    if item(page, name).get_attribute("aria-expanded") != "true":
        page.keyboard.press("ArrowRight")
    expect(item(page, name)).to_have_attribute("aria-expanded", "true")
    assert page.evaluate(FOCUSED_JS) == name


def test_the_tree_opens_layer2_by_keyboard_and_selects_the_downsample_conv(resnet_page) -> None:
    """Keyboard only, in the live tier: close layer2, open it with Enter (which selects it: its
    subtotal) and with Right, walk into layer2.0's shortcut, select the projection convolution."""
    page, _ = resnet_page
    analysis = analyse(preset(IMAGENET))
    block, conv = analysis.record("layer2"), analysis.record(DOWNSAMPLE)
    expect(item(page, "layer2")).to_be_visible(timeout=PYTHON_MS)
    item(page, "Input").focus()
    press_until(page, "ArrowDown", "layer2")
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "true")   # the link opened it
    page.keyboard.press("ArrowLeft")                        # an open block: closes
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "false")
    expect(item(page, "layer2.0")).to_be_hidden()
    page.keyboard.press("Enter")                            # a block: selects it and opens or closes it
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#layer-details h2")).to_have_text("layer2")
    assert card_params(page) == f"{block.subtotal.params:,}"
    page.keyboard.press("ArrowLeft")
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowRight")                       # a closed block: opens
    expect(item(page, "layer2")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowRight")                       # an open block: to its first child
    assert page.evaluate(FOCUSED_JS) == "layer2.0"
    open_by_keyboard(page, "layer2.0")
    press_until(page, "ArrowDown", "layer2.0.downsample")
    open_by_keyboard(page, "layer2.0.downsample")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED_JS) == DOWNSAMPLE
    page.keyboard.press("Enter")
    expect(page.locator("#layer-details h2")).to_have_text(DOWNSAMPLE)
    assert card_params(page) == f"{conv.params:,}" == "8,192"
    expect(item(page, DOWNSAMPLE)).to_have_attribute("aria-selected", "true")
    # Python followed the browser's selection: the editor's form is for that layer.
    expect(page.get_by_role("heading", name=f"{DOWNSAMPLE} (conv2d)")).to_be_visible(timeout=PYTHON_MS)


def _with_out_channels(data: dict[str, Any], name: str, value: int) -> int:
    """Set `out_channels` of the node called `name` anywhere in the §7 JSON; how many were set."""
    hits = 0
    for node in data.get("layers", []) + [n for branch in data.get("branches", []) for n in branch]:
        if node.get("name") == name:
            node["out_channels"] = value
            hits += 1
        hits += _with_out_channels(node, name, value)
    return hits


def test_an_edit_inside_a_block_recomputes_in_the_browser(resnet_page) -> None:
    """The editor's out_channels field of layer2.0.conv1 (inside layer2 › layer2.0): Pyodide
    recomputes the network; total and card equal what explorer's analysis gives in CPython."""
    page, _ = resnet_page
    data = preset(IMAGENET).to_json()
    before = analyse(from_json(data))
    old = before.record(EDITED).layer.out_channels
    assert _with_out_channels(data, EDITED, old // 2) == 1
    edited = analyse(from_json(data))
    assert edited.total_params != before.total_params
    for name in ("layer2", "layer2.0"):                     # open the way (the test above may have)
        if item(page, name).get_attribute("aria-expanded") != "true":
            item(page, name).locator(":scope > .cnnx-ti").click()
            expect(item(page, name)).to_have_attribute("aria-expanded", "true")
    item(page, EDITED).locator(":scope > .cnnx-ti").click()
    expect(page.locator("#layer-details h2")).to_have_text(EDITED)
    expect(page.get_by_role("heading", name=f"{EDITED} (conv2d)")).to_be_visible(timeout=PYTHON_MS)
    field = page.get_by_label("out_channels", exact=True)
    expect(field).to_have_value(str(old))
    field.fill(str(old // 2))
    field.press("Enter")
    expect(page.locator("tfoot td[data-total]")).to_have_attribute("data-total", str(edited.total_params),
                                                                    timeout=PYTHON_MS)
    record = edited.record(EDITED)
    expect(page.locator("#layer-details h2")).to_have_text(EDITED)
    expect(page.locator("#layer-details")).to_contain_text(record.shape_text)
    assert card_params(page) == f"{record.params:,}"
    expect(page.get_by_role("alert")).to_have_count(0)
