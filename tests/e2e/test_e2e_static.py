"""The static export (`python -m explorer export`): no Python in the browser.

Selection by canvas click, layer button, keyboard, table row and URL fragment must update the
details card and the live region from data precomputed in Python (docs/design.md §1, §3).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e_support import (DEEP_ACTIVE_JS, assert_card, assert_pressed, block_centre, card, click_block,
                         deep_active, expected_layers, expected_total, layer_button, status, total_cell,
                         wait_ready)
from explorer.urlstate import HIDEABLE

pytestmark = pytest.mark.e2e

LAYERS = expected_layers()
BY_NAME = {layer.name: layer for layer in LAYERS}


def stats_table(page: Page):
    """The statistics table (the page has other tables, e.g. the cost breakdown)."""
    return page.locator("table.cnnx-table", has=page.locator("caption", has_text="Network statistics"))


def open_page(page: Page, url: str, fragment: str = "") -> None:
    page.goto(url + fragment)
    wait_ready(page)


def test_the_page_is_the_static_tier_with_the_default_network(page: Page, static_url: str) -> None:
    open_page(page, static_url)
    expect(page.locator("html")).to_have_attribute("data-tier", "static")
    expect(page.locator("button[data-i]")).to_have_count(len(LAYERS))
    expect(page.locator("button[data-i]")).to_have_text([layer.name for layer in LAYERS])
    expect(total_cell(page)).to_contain_text(expected_total())
    # Editing needs Python: the page says so instead of showing a dead form.
    expect(page.get_by_text("Editing the network needs Python")).to_be_visible()
    expect(page.get_by_label("out_channels", exact=True)).to_have_count(0)


def test_clicking_every_block_on_the_canvas_selects_it(page: Page, static_url: str) -> None:
    open_page(page, static_url)
    assert block_centre(page, 0)["n"] == len(LAYERS)
    for layer in LAYERS:
        click_block(page, layer.index)
        assert_card(page, layer)
        assert_pressed(page, layer)
        page.mouse.move(2, 2)  # leave the block so its hover tooltip cannot cover the next one
        # Wait out Bokeh's double-tap window so each click is a plain tap.
        page.wait_for_timeout(320)


def test_quick_second_click_on_another_block_still_selects_it(page: Page, static_url: str) -> None:
    """Bokeh turns a second tap within 300 ms into a double tap; the page handles that too."""
    open_page(page, static_url)
    conv1, conv2 = BY_NAME["Conv1"], BY_NAME["Conv2"]
    a, b = block_centre(page, conv1.index), block_centre(page, conv2.index)
    page.mouse.click(a["x"], a["y"])
    page.mouse.click(b["x"], b["y"])
    assert_card(page, conv2)


def test_clicking_every_layer_button_selects_it(page: Page, static_url: str) -> None:
    open_page(page, static_url)
    for layer in LAYERS:
        layer_button(page, layer.name).click()
        assert_card(page, layer)
        assert_pressed(page, layer)
    assert "layer=Logits" in page.evaluate("location.hash")


def test_keyboard_only_walk_through_all_layers(page: Page, static_url: str) -> None:
    open_page(page, static_url)
    page.locator("body").click(position={"x": 1, "y": 1})  # start from the document, not the URL bar
    for _ in range(80):
        page.keyboard.press("Tab")
        active = deep_active(page)
        if active and active["i"] is not None and active["tag"] == "BUTTON":
            break
    else:
        pytest.fail("no layer button was reached with Tab")
    # One tab stop for the whole toolbar (roving tabindex): nothing is selected yet, so Input.
    assert active["i"] == "0" and active["text"] == LAYERS[0].name
    page.keyboard.press("Enter")
    assert_card(page, LAYERS[0])
    for layer in LAYERS[1:]:
        page.keyboard.press("ArrowRight")
        assert_card(page, layer)
        assert_pressed(page, layer)
        active = deep_active(page)
        assert active is not None and active["text"] == layer.name and active["pressed"] == "true", active
    page.keyboard.press("ArrowRight")  # stays on the last layer
    assert_card(page, LAYERS[-1])
    page.keyboard.press("Home")
    assert_card(page, LAYERS[0])
    assert page.evaluate(DEEP_ACTIVE_JS)["text"] == LAYERS[0].name
    page.keyboard.press("End")
    assert_card(page, LAYERS[-1])
    assert page.evaluate(DEEP_ACTIVE_JS)["text"] == LAYERS[-1].name
    page.keyboard.press("ArrowLeft")
    assert_card(page, LAYERS[-2])


def test_layer_in_the_fragment_is_preselected(page: Page, static_url: str) -> None:
    open_page(page, static_url, "#layer=Conv2")
    assert_card(page, BY_NAME["Conv2"])
    assert_pressed(page, BY_NAME["Conv2"])
    # …and changing the fragment later moves the selection.
    page.evaluate("location.hash = 'layer=FC1'")
    assert_card(page, BY_NAME["FC1"])


def test_clicking_a_table_row_selects_its_layer(page: Page, static_url: str) -> None:
    open_page(page, static_url)
    rows = stats_table(page).locator("tbody tr[data-rows]")
    count = rows.count()
    assert count >= 10  # the seed's table: Input, Conv+BN ×3, Pool ×3, Flatten, FC1, Logits
    covered: set[int] = set()
    for k in range(count):
        row = rows.nth(k)
        indices = [int(i) for i in row.get_attribute("data-rows").split(",")]
        covered.update(indices)
        row.click()
        assert_card(page, LAYERS[indices[0]])
        expect(row).to_have_class("cnnx-selected")
        expect(stats_table(page).locator("tr.cnnx-selected")).to_have_count(1)
    assert covered == {layer.index for layer in LAYERS}


def test_hide_table_in_the_fragment_hides_the_table(page: Page, static_url: str) -> None:
    open_page(page, static_url, "#hide=table&layer=Conv2")
    expect(stats_table(page)).to_have_count(1)
    expect(stats_table(page)).to_be_hidden()
    assert_card(page, BY_NAME["Conv2"])
    expect(layer_button(page, "Conv2")).to_be_visible()


def test_phone_card_never_overflows(new_page, static_url: str) -> None:
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                    device_scale_factor=2)
    open_page(page, static_url, "#layer=Conv2")
    # The layout viewport is the phone's width (needs <meta name="viewport">), not 980 px.
    assert page.evaluate("document.documentElement.clientWidth") == 360
    # Only the diagram scrolls sideways (inside its own box); the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for layer in LAYERS:
        layer_button(page, layer.name).tap()
        assert_card(page, layer, announce=False)
        box = card(page).evaluate("""el => {
            const r = el.getBoundingClientRect();
            return {sw: el.scrollWidth, cw: el.clientWidth, left: r.left, right: r.right,
                    vw: document.documentElement.clientWidth};
        }""")
        assert box["sw"] <= box["cw"], (layer.name, box)
        assert box["left"] >= 0 and box["right"] <= box["vw"], (layer.name, box)


def test_opens_from_a_double_click_under_file_url(page: Page, static_html: Path) -> None:
    url = static_html.as_uri()
    assert url.startswith("file://")
    started = time.monotonic()
    open_page(page, url)
    assert time.monotonic() - started < 20
    layer_button(page, "Conv2").click()
    assert_card(page, BY_NAME["Conv2"])
    click_block(page, BY_NAME["FC1"].index)
    assert_card(page, BY_NAME["FC1"])
    expect(status(page)).to_have_text(BY_NAME["FC1"].say)


# What each part of `#hide=` looks like on the static page (explorer.urlstate.HIDEABLE).
PART_MARKERS = {
    "header": lambda page: page.get_by_role("heading", name="CNN Architecture Explorer"),
    "summary": lambda page: page.get_by_text("CIFAR-10 CNN: input"),
    "diagram": lambda page: page.locator("canvas").first,
    "legend": lambda page: page.get_by_text("Input Image"),
    "nav": lambda page: page.locator("button[data-i]").first,
    "quiz": lambda page: page.locator("button", has_text="Quiz mode"),
    "card": lambda page: page.locator("#layer-details"),
    "table": lambda page: page.get_by_text("Network statistics"),  # the table and its heading
    "insights": lambda page: page.get_by_text("Where the cost lives"),
    "code": lambda page: page.get_by_text("PyTorch code for the whole network"),
    "editor": lambda page: page.get_by_text("Editing the network needs Python"),
    "features": lambda page: page.get_by_text("Feature maps from a real forward pass need Python"),
}


def test_every_hideable_part_can_be_hidden(page: Page, static_url: str) -> None:
    parts = [part for part in HIDEABLE if part in PART_MARKERS]
    open_page(page, static_url)
    shown = [part for part in parts if PART_MARKERS[part](page).first.is_visible()]
    assert shown == parts, f"markers not visible without #hide: {set(parts) - set(shown)}"
    open_page(page, static_url, "#hide=" + ",".join(parts))
    page.wait_for_timeout(300)
    still = [part for part in parts if PART_MARKERS[part](page).first.is_visible()]
    assert still == [], f"still visible with #hide={','.join(parts)}: {still}"


def test_the_request_guard_blocks_other_hosts(page: Page, static_url: str, request_guard) -> None:
    """The guard every page test relies on really stops (and reports) a request to another host."""
    open_page(page, static_url)
    page.evaluate("""async () => {
        try { await fetch('https://cdn.example.invalid/x.js'); } catch (e) {}
        await new Promise((resolve) => { const img = new Image(); img.onerror = img.onload = resolve;
                                         img.src = 'http://203.0.113.7/pixel.png'; });
    }""")
    blocked = list(request_guard.blocked)
    assert any("cdn.example.invalid" in b for b in blocked) and any("203.0.113.7" in b for b in blocked), blocked
    request_guard.blocked.clear()  # expected here; any other blocked request still fails the test
    request_guard.page_errors.clear()
