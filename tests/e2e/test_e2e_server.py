"""The desktop server (`python -m explorer serve`): the same page, with Python live behind it.

Selection works as in the static export; editing recomputes everything or explains why not
and keeps the last valid network; `#arch=` loads a network from the link (docs/design.md §3).
"""
from __future__ import annotations

import re
import sys
import time
import urllib.request
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

from e2e_support import (assert_card, assert_pressed, click_block, expected_layers, expected_total, free_port,
                         layer_button, start_server, stop_server, total_cell, wait_ready)
from explorer.analysis import analyse
from explorer.spec import default_network, from_json
from explorer.urlstate import decode_arch, encode_arch

pytestmark = pytest.mark.e2e

DEFAULT = expected_layers()
BY_NAME = {layer.name: layer for layer in DEFAULT}


def network_with(**out_channels: int):
    """The default network with some conv layers' out_channels changed (by layer name)."""
    data = default_network().to_json()
    for layer in data["layers"]:
        if layer.get("name") in out_channels:
            layer["out_channels"] = out_channels[layer["name"]]
    return from_json(data)


def open_app(page: Page, url: str, fragment: str = "") -> None:
    page.goto(url + fragment)
    wait_ready(page)
    expect(layer_button(page, "Input")).to_be_visible()


def stats_table(page: Page):
    return page.locator("table.cnnx-table", has=page.locator("caption", has_text="Network statistics"))


def fragment_params(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(page.evaluate("location.hash").lstrip("#")).items()}


def test_buttons_and_canvas_update_the_card(page: Page, server_url: str) -> None:
    open_app(page, server_url)
    expect(total_cell(page)).to_have_attribute("data-total", str(analyse(default_network()).total_params))
    for name in ("Conv1", "Pool2", "FC1", "Logits", "Input"):
        layer_button(page, name).click()
        assert_card(page, BY_NAME[name])
        assert_pressed(page, BY_NAME[name])
    for name in ("BN2", "Conv3", "Flatten"):
        click_block(page, BY_NAME[name].index)
        assert_card(page, BY_NAME[name])
        page.mouse.move(2, 2)
        page.wait_for_timeout(320)  # outside Bokeh's double-tap window


def test_editing_recomputes_or_explains_and_keeps_the_last_valid_network(page: Page, server_url: str) -> None:
    edited = network_with(Conv1=16)
    after = expected_layers(edited)
    total_before, total_after = expected_total(), expected_total(edited)
    assert (total_before, total_after) == ("620,810", "611,114")  # the numbers the brief and README quote
    open_app(page, server_url)
    layer_button(page, "Conv1").click()
    assert_card(page, BY_NAME["Conv1"])
    field = page.get_by_label("out_channels", exact=True)
    expect(field).to_have_value("32")

    # An invalid value on the default network: explained, naming the layer; nothing else changes.
    table_before = stats_table(page).inner_text()
    field.fill("0")
    field.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Conv1")
    expect(alert).to_contain_text("out_channels")
    expect(total_cell(page)).to_contain_text(total_before)
    assert stats_table(page).inner_text() == table_before
    assert_card(page, BY_NAME["Conv1"])

    # A valid value: card, table, total and the URL fragment follow.
    field = page.get_by_label("out_channels", exact=True)
    field.fill("16")
    field.press("Enter")
    expect(total_cell(page)).to_contain_text(total_after)
    assert_card(page, after[BY_NAME["Conv1"].index])
    assert after[BY_NAME["Conv1"].index].params == "448"
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(stats_table(page)).to_contain_text(after[BY_NAME["BN1"].index].shape)
    page.wait_for_function("() => location.hash.includes('arch=')")
    shared = analyse(decode_arch(fragment_params(page)["arch"]))
    assert f"{shared.total_params:,}" == total_after
    layer_button(page, "BN1").click()
    assert_card(page, after[BY_NAME["BN1"].index])
    # The editor's form comes from the server: wait for it, or the next fill could land in
    # the Conv1 form that is about to be replaced.
    expect(page.get_by_role("heading", name="BN1 (batchnorm2d)")).to_be_visible()

    # Invalid again: the edited network (611,114) stays, not the default.
    layer_button(page, "Conv1").click()
    expect(page.get_by_role("heading", name="Conv1 (conv2d)")).to_be_visible()
    field = page.get_by_label("out_channels", exact=True)
    expect(field).to_have_value("16")
    table_before = stats_table(page).inner_text()
    field.fill("0")
    field.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Conv1")
    expect(total_cell(page)).to_contain_text(total_after)
    assert stats_table(page).inner_text() == table_before
    assert_card(page, after[BY_NAME["Conv1"].index])


def test_a_network_in_the_link_is_shown(page: Page, server_url: str) -> None:
    network = network_with(Conv1=16, Conv2=48)
    expected = expected_layers(network)
    open_app(page, server_url, "#arch=" + encode_arch(network))
    expect(total_cell(page)).to_contain_text(expected_total(network))
    expect(page.get_by_role("alert")).to_have_count(0)
    for name in ("Conv2", "BN2", "Conv3"):
        layer_button(page, name).click()
        assert_card(page, expected[BY_NAME[name].index])
    click_block(page, BY_NAME["Conv1"].index)
    assert_card(page, expected[BY_NAME["Conv1"].index])


def test_a_network_and_a_layer_in_the_link(page: Page, server_url: str) -> None:
    network = network_with(Conv1=16, Conv2=48)
    expected = expected_layers(network)
    open_app(page, server_url, "#layer=Conv2&arch=" + encode_arch(network))
    expect(total_cell(page)).to_contain_text(expected_total(network))
    # The table shows the new network by now, so the card would have followed within one update.
    expect(page.locator("#layer-details")).to_contain_text(expected[BY_NAME["Conv2"].index].shape, timeout=3_000)
    assert_card(page, expected[BY_NAME["Conv2"].index])


def test_a_corrupted_network_in_the_link_falls_back_to_the_default(page: Page, server_url: str) -> None:
    open_app(page, server_url, "#arch=!!!")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("could not be loaded")
    expect(notice).to_contain_text("default network")
    expect(total_cell(page)).to_contain_text(expected_total())
    layer_button(page, "Conv2").click()
    assert_card(page, BY_NAME["Conv2"])


# `python -m explorer serve` as is, but with Bokeh's unused-session clean-up every 0.3 s (1 s lifetime).
SHORT_SESSIONS = """
import sys
import panel as pn
from explorer.app import server
serve = pn.serve
pn.serve = lambda *a, **k: serve(*a, **k, check_unused_sessions_milliseconds=300,
                                 unused_session_lifetime_milliseconds=1000)
server.serve(port=int(sys.argv[1]))
"""


def test_new_pages_render_after_earlier_sessions_were_discarded(new_page, tmp_path) -> None:
    """Regression: a Bokeh model shared between sessions is wiped when the first session is
    destroyed, and every later page failed to render. The same session function is served here
    with short session lifetimes so the clean-up happens within the test."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/explorer"
    proc = start_server([sys.executable, "-c", SHORT_SESSIONS, str(port)], url, tmp_path / "serve.log")
    try:
        for _ in range(2):
            page = new_page()
            open_app(page, url)
            layer_button(page, "Conv2").click()
            assert_card(page, BY_NAME["Conv2"])
            page.close()
            time.sleep(2.5)  # the closed page's session expires and is destroyed
    finally:
        stop_server(proc)


def test_server_page_is_the_live_tier(page: Page, server_url: str) -> None:
    open_app(page, server_url)
    expect(page.locator("html")).to_have_attribute("data-tier", "live")


def test_server_page_has_a_viewport_meta(server_url: str) -> None:
    with urllib.request.urlopen(server_url, timeout=30) as resp:
        html = resp.read().decode("utf-8")
    assert re.search(r'<meta[^>]*name="viewport"', html)


RESNET = "ResNet-18 for CIFAR-10 (3×32×32)"


def test_resnet18_preset_edit_inside_a_block_recomputes_everything(page: Page, server_url: str) -> None:
    """Load the ResNet-18 preset, edit a convolution inside layer2.0: card, total, table and the
    link follow (the second convolution and the BatchNorm take the new width by inference)."""
    from explorer.presets import preset
    open_app(page, server_url)
    page.get_by_label("Preset network").select_option(label=RESNET)
    expect(total_cell(page)).to_have_attribute("data-total", "11173962", timeout=60_000)
    page.get_by_role("button", name="Expand all").click()   # a graph network's layers are a tree
    item = page.get_by_role("treeitem", name="layer2.0.conv1", exact=True)
    item.scroll_into_view_if_needed()
    item.locator(".cnnx-ti").first.click()
    expect(page.get_by_role("heading", name="layer2.0.conv1 (conv2d)")).to_be_visible(timeout=30_000)
    field = page.get_by_label("out_channels", exact=True)
    expect(field).to_have_value("128")
    field.fill("64")
    field.press("Enter")
    data = preset(RESNET).to_json()
    data["layers"][4]["layers"][0]["layers"][0]["branches"][0][0]["out_channels"] = 64   # layer2.0.conv1
    edited = analyse(from_json(data))
    expect(total_cell(page)).to_have_attribute("data-total", str(edited.total_params), timeout=60_000)
    assert edited.total_params == 11_173_962 - 64 * 64 * 9 - 2 * 64 - 64 * 128 * 9
    record = edited.record("layer2.0.conv1")
    expect(page.locator("#layer-details h2")).to_have_text("layer2.0.conv1")
    expect(page.locator("#layer-details")).to_contain_text(f"{record.params:,}")
    expect(page.locator("#layer-details")).to_contain_text(record.shape_text)
    expect(page.get_by_role("alert")).to_have_count(0)
    page.wait_for_function("() => decodeURIComponent(location.hash).includes('arch=')")
    page.wait_for_function(f"() => location.hash.includes({encode_arch(edited.network)!r})", timeout=30_000)
