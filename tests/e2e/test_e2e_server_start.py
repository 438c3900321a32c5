"""Desktop server start-up (explorer/app/prebuilt.py, docs/design.md §5): the page arrives with
its session's document, so layers are clickable before the websocket opens; what the reader
did meanwhile reaches the server once it does, in order; the controls that need Python wait,
inert, until then; a server that cannot be reached is said so."""
from __future__ import annotations

import json
import re
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from e2e_support import (assert_card, expected_layers, free_port, layer_button, show_feature_maps, start_server,
                         stop_server, wait_ready, wait_rendered)
from explorer.spec import from_json
from explorer.urlstate import encode_arch
from test_e2e_server import SHORT_SESSIONS

pytestmark = pytest.mark.e2e

BY_NAME = {layer.name: layer for layer in expected_layers()}
WS = re.compile(r"/explorer/ws(\?.*)?$")


def tier(page: Page) -> str | None:
    return page.evaluate("document.documentElement.dataset.tier")


# Which gated parts (by class) are inert, found through the shadow roots Bokeh renders into.
GATED_JS = """() => {
  const out = {};
  const walk = (root) => {
    for (const el of root.querySelectorAll('.cnnx-part-editor, .cnnx-part-features, .cnnx-part-compare')) {
      const part = Array.from(el.classList).find((c) => c.startsWith('cnnx-part-'));
      out[part] = {inert: el.inert, opacity: el.style.opacity};
    }
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return out;
}"""

WAIT_NOTES_JS = """() => {
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('.cnnx-wait-note')) out.push(el.textContent);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return out;
}"""

PARTS = {"cnnx-part-editor", "cnnx-part-features", "cnnx-part-compare"}


def _convs(size: int, count: int, channels: int = 64) -> dict:
    layers = [{"type": "conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1} for _ in range(count)]
    return {"name": f"{count} convs at {size}", "input": {"channels": 3, "height": size, "width": size},
            "layers": layers}


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_layers_are_clickable_before_the_websocket_opens_and_the_server_then_follows(
        page: Page, server_url: str) -> None:
    held = []
    page.route_web_socket(WS, lambda ws: held.append(ws))   # the websocket waits, unconnected
    page.goto(server_url)
    wait_rendered(page)
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


def test_python_controls_wait_inert_until_the_session_is_attached(page: Page, server_url: str) -> None:
    """The race the previous design lost: "Show feature maps" pressed on the static page was
    replayed in one burst with document_ready and the link's network, and BokehJS received the
    maps' data before the models holding it ("reference pNNNN isn't known"). Now the button
    cannot be pressed before the session is attached, and is live right after."""
    errors = _console_errors(page)
    held = []
    page.route_web_socket(WS, lambda ws: held.append(ws))
    page.goto(server_url + "#layer=Conv2&arch=" + encode_arch(from_json(_convs(384, 2))))
    wait_rendered(page)
    page.wait_for_function(f"() => Object.keys(({GATED_JS})()).length === {len(PARTS)}")
    gated = page.evaluate(GATED_JS)
    assert set(gated) == PARTS and all(g == {"inert": True, "opacity": "0.55"} for g in gated.values()), gated
    # a reader who waits more than a moment is told why
    page.wait_for_function(f"() => ({WAIT_NOTES_JS})().length === {len(PARTS)}")
    assert all("Editing will be available" in text for text in page.evaluate(WAIT_NOTES_JS))
    # a click on the dimmed button reaches nothing (inert: no hit target)
    page.get_by_role("button", name="Show feature maps").click(force=True)
    layer_button(page, "Conv1").click()                     # layer clicks stay live
    expect(page.locator("#layer-details h2")).to_have_text("Conv1")
    assert tier(page) == "static"

    held[0].connect_to_server()
    expect(page.locator("html")).to_have_attribute("data-tier", "live")
    gated = page.evaluate(GATED_JS)
    assert all(g == {"inert": False, "opacity": ""} for g in gated.values()), gated
    assert page.evaluate(WAIT_NOTES_JS) == []
    # the click on the inert button was not recorded: no feature maps until pressed now
    expect(page.get_by_text("Computing the feature maps")).to_have_count(0)
    show_feature_maps(page)
    expect(page.get_by_text("Conv1: 64 channels of 384×384", exact=False)).to_be_visible(timeout=60_000)
    assert not [e for e in errors if "isn't known" in e], errors


@pytest.mark.parametrize("run", range(3))
def test_feature_maps_pressed_as_soon_as_possible_after_a_link(page: Page, server_url: str, run: int) -> None:
    """A link with a slow network, "Show feature maps" pressed as soon as Playwright can (it
    waits for the button to leave the inert subtree): the maps arrive, nothing is rejected."""
    errors = _console_errors(page)
    page.goto(server_url + "#layer=Conv2&arch=" + encode_arch(from_json(_convs(384, 2))))
    wait_rendered(page)  # not attached yet: the click waits for the button to leave the inert part
    show_feature_maps(page)
    expect(page.get_by_text("Conv2: 64 channels of 384×384", exact=False)).to_be_visible(timeout=60_000)
    expect(page.locator("#layer-details h2")).to_have_text("Conv2")
    assert not [e for e in errors if "isn't known" in e], errors


class HoldDocumentReady:
    """Routes the page's websocket and holds back its `document_ready` message (answering the
    page's request for it with an OK, as the server would), so that whatever the page sends
    next reaches the server first: the order a page gets when BokehJS finishes rendering only
    after the session is attached. Bokeh messages are a header, a metadata and a content frame."""

    def __init__(self) -> None:
        self.server = None
        self.held: list = []
        self.frames: list = []

    def route(self, ws) -> None:
        self.page_side = ws
        self.server = ws.connect_to_server()
        ws.on_message(self.from_page)

    def from_page(self, frame) -> None:
        self.frames.append(frame)
        if len(self.frames) < 3:
            return
        frames, self.frames = self.frames, []
        header = json.loads(frames[0])
        if header.get("num_buffers"):
            raise AssertionError("this route expects messages without buffers")
        if '"document_ready"' in frames[2] and not self.held:
            self.held = frames
            reply = {"msgid": "held-ready-ok", "msgtype": "OK", "reqid": header["msgid"]}
            for part in (json.dumps(reply), "{}", "{}"):
                self.page_side.send(part)
            return
        for part in frames:
            self.server.send(part)

    def release(self) -> None:
        for part in self.held:
            self.server.send(part)


def test_a_press_handled_before_document_ready_still_reaches_the_page(page: Page, server_url: str) -> None:
    """Regression (CI, phone page): Panel counts a session as connected only once its page
    reports document_ready, and until then drops the changes made under its hold(), since its
    own page pulls the whole document later. A prebuilt page never pulls: a "Show feature maps"
    press handled before document_ready built the maps on the server only and left the button
    on the page. Prebuilt sessions count as connected from their build on (prebuilt.py)."""
    hold = HoldDocumentReady()
    page.route_web_socket(WS, hold.route)
    page.goto(server_url)
    wait_ready(page)
    assert hold.held, "the page's document_ready was not seen"
    layer_button(page, "Conv2").click()
    show_feature_maps(page)
    expect(page.get_by_text("Conv2: 64 channels of 16×16")).to_be_visible()
    expect(page.get_by_role("heading", name="Conv2 (conv2d)")).to_be_visible()
    hold.release()
    layer_button(page, "FC1").click()
    expect(page.get_by_role("heading", name="FC1 (linear)")).to_be_visible()


def test_a_page_slower_to_connect_than_the_session_lifetime_keeps_its_session(page: Page, tmp_path) -> None:
    """Regression: Bokeh discards a session nobody has connected to once the unused-session
    lifetime passes, and a page connecting later got a new session under the same id whose
    models are not the ones on the page (every change was refused: "can't resolve reference").
    A served session now waits for its page to connect. Lifetime 1 s here, the page 2.5 s."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/explorer"
    proc = start_server([sys.executable, "-c", SHORT_SESSIONS, str(port)], url, tmp_path / "serve.log")
    try:
        errors = _console_errors(page)
        held = []
        page.route_web_socket(WS, lambda ws: held.append(ws))
        page.goto(url)
        wait_rendered(page)
        layer_button(page, "Conv2").click()
        time.sleep(2.5)      # several clean-ups of unused sessions pass
        held[0].connect_to_server()
        expect(page.locator("html")).to_have_attribute("data-tier", "live")
        expect(page.get_by_role("heading", name="Conv2 (conv2d)")).to_be_visible()
        layer_button(page, "FC1").click()
        expect(page.get_by_role("heading", name="FC1 (linear)")).to_be_visible()
        assert not [e for e in errors if "did not accept" in e or "resolve reference" in e], errors
    finally:
        stop_server(proc)


def test_changes_made_before_the_session_reach_it_in_order(page: Page, server_url: str) -> None:
    held = []
    page.route_web_socket(WS, lambda ws: held.append(ws))
    page.goto(server_url)
    wait_rendered(page)
    for name in ("Conv2", "Pool1", "FC1", "Pool2"):
        layer_button(page, name).click()
    assert_card(page, BY_NAME["Pool2"])
    held[0].connect_to_server()
    expect(page.locator("html")).to_have_attribute("data-tier", "live")
    # the server saw the clicks in order: its editor shows the last one
    expect(page.get_by_role("heading", name="Pool2 (maxpool2d)")).to_be_visible()
    assert_card(page, BY_NAME["Pool2"])


def test_an_unreachable_server_is_said_and_layers_still_work(page: Page, server_url: str) -> None:
    page.route_web_socket(WS, lambda ws: ws.close(code=1011, reason="test: server gone"))
    page.goto(server_url)
    wait_ready(page)
    expect(page.locator("html")).to_have_attribute("data-tier", "error")
    expect(page.get_by_role("alert")).to_contain_text("could not be reached")
    # the controls that need Python stay inert and say why
    page.wait_for_function(f"() => ({WAIT_NOTES_JS})().length === {len(PARTS)}")
    assert all("could not be reached" in text for text in page.evaluate(WAIT_NOTES_JS))
    assert all(g["inert"] for g in page.evaluate(GATED_JS).values())
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
