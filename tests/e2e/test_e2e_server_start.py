"""Desktop server start-up (explorer/app/prebuilt.py, docs/design.md §5): the page arrives with
its session's document, so layers are clickable before the websocket opens; what the reader
did meanwhile reaches the server once it does; a server that cannot be reached is said so."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e_support import assert_card, expected_layers, layer_button, wait_ready

pytestmark = pytest.mark.e2e

BY_NAME = {layer.name: layer for layer in expected_layers()}
WS = re.compile(r"/explorer/ws(\?.*)?$")


def tier(page: Page) -> str | None:
    return page.evaluate("document.documentElement.dataset.tier")


def test_layers_are_clickable_before_the_websocket_opens_and_the_server_then_follows(
        page: Page, server_url: str) -> None:
    held = []
    page.route_web_socket(WS, lambda ws: held.append(ws))   # the websocket waits, unconnected
    page.goto(server_url)
    wait_ready(page)
    layer_button(page, "Conv2").click()
    assert_card(page, BY_NAME["Conv2"])
    assert held, "the page never opened its websocket"
    assert tier(page) == "static"
    # The editor's form comes from Python: it cannot show Conv2 yet.
    expect(page.get_by_role("heading", name="Conv2 (conv2d)")).to_have_count(0)

    held[0].connect_to_server()
    expect(page.locator("html")).to_have_attribute("data-tier", "live")
    # The selection made while unconnected reached the server: its editor shows Conv2.
    expect(page.get_by_role("heading", name="Conv2 (conv2d)")).to_be_visible()
    assert_card(page, BY_NAME["Conv2"])
    # and the session is live for further clicks
    layer_button(page, "FC1").click()
    expect(page.get_by_role("heading", name="FC1 (linear)")).to_be_visible()


def test_an_unreachable_server_is_said_and_layers_still_work(page: Page, server_url: str) -> None:
    page.route_web_socket(WS, lambda ws: ws.close(code=1011, reason="test: server gone"))
    page.goto(server_url)
    wait_ready(page)
    expect(page.locator("html")).to_have_attribute("data-tier", "error")
    expect(page.get_by_role("alert")).to_contain_text("could not be reached")
    layer_button(page, "Pool2").click()
    assert_card(page, BY_NAME["Pool2"])


def test_the_page_loads_only_the_scripts_it_uses(page: Page, server_url: str) -> None:
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto(server_url)
    wait_ready(page)
    expect(page.locator("html")).to_have_attribute("data-tier", "live")
    assert any("/bokeh.min.js" in url for url in scripts), scripts
    assert any("/panel.min.js" in url for url in scripts), scripts
    assert not [url for url in scripts if "bokeh-gl" in url or "es-module-shims" in url], scripts
