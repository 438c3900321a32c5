"""Page helpers shared by the end-to-end tests and bench/ui.py (page contract, docs/design.md §3).

Expected values always come from the core (`explorer.analysis.analyse`), never hard-coded.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect

from explorer.analysis import analyse
from explorer.spec import Network, default_network

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CNNX_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (docs/design.md §6: nothing may leave 127.0.0.1)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and (parts.hostname or "") in LOCAL_HOSTS


@dataclass(frozen=True)
class Layer:
    index: int
    name: str
    shape: str        # "(64, 16, 16)", as the card writes it
    params: str       # "18,496"
    pytorch: str      # "" for the Input row
    say: str          # the aria-live announcement
    has_module: bool  # False for the Input row (no Parameters row on its card)


def expected_layers(network: Network | None = None) -> list[Layer]:
    analysis = analyse(network or default_network())
    return [Layer(r.index, r.name, r.shape_text, f"{r.params:,}", r.pytorch,
                  f"{r.name}: output {'×'.join(map(str, r.output_shape))}, {r.params:,} parameters",
                  r.layer is not None)
            for r in analysis.records]


def expected_total(network: Network | None = None) -> str:
    return f"{analyse(network or default_network()).total_params:,}"


# -- JavaScript run in the page ---------------------------------------------------------------

RENDERED_JS = """() => {
  if (typeof window.cnnxSelect !== 'function' || !window.Bokeh || !Bokeh.documents.length) return false;
  for (const doc of Bokeh.documents) {
    const m = doc.get_model_by_name('cnnx-part-diagram');
    if (m != null && Bokeh.index.find_one(m) != null) return true;
  }
  return false;
}"""

# Rendered, and on the desktop server (whose page carries its session's document inline, see
# explorer/app/prebuilt.py) attached to that session too: its editor is inert until then.
READY_JS = """() => (""" + RENDERED_JS + """)() &&
  (document.getElementById('cnnx-session') === null || document.documentElement.dataset.tier !== 'static')"""

# The pixel (viewport coordinates) of block i's centre, from the plot's own frame scales.
BLOCK_CENTRE_JS = """(i) => {
  for (const doc of Bokeh.documents) {
    const plot = doc.get_model_by_name('cnnx-part-diagram');
    const src = doc.get_model_by_name('cnnx-layers');
    if (plot == null || src == null) continue;
    const view = Bokeh.index.find_one(plot);
    if (view == null) continue;
    const el = view.canvas_view.el;
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    const cx = view.frame.x_scale.compute(src.data.x[i]);
    const cy = view.frame.y_scale.compute(src.data.y[i]);
    const r = el.getBoundingClientRect();
    if (cx < view.frame.bbox.x0 || cx > view.frame.bbox.x1) throw new Error('block ' + i + ' outside the frame');
    return {x: r.left + cx, y: r.top + cy, n: src.data.x.length, name: src.data.name[i]};
  }
  throw new Error('diagram view not found');
}"""

CARD_JS = """(el) => ({
  name: (el.querySelector('h2') || {}).textContent || null,
  rows: Object.fromEntries(Array.from(el.querySelectorAll('dt')).map(
      dt => [dt.textContent.trim(), dt.nextElementSibling.firstChild.textContent.trim()])),
  code: el.querySelector('pre code') ? el.querySelector('pre code').textContent : null,
})"""

DEEP_ACTIVE_JS = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a) return null;
  return {tag: a.tagName, i: a.getAttribute('data-i'), text: a.textContent,
          pressed: a.getAttribute('aria-pressed')};
}"""


# -- locators and actions ---------------------------------------------------------------------

def wait_ready(page: Page, timeout: float = 30_000) -> None:
    """BokehJS has rendered the page and run its document_ready set-up; a desktop server page
    is also attached to its session (or has said that it cannot be)."""
    page.wait_for_function(READY_JS, timeout=timeout)


def wait_rendered(page: Page, timeout: float = 30_000) -> None:
    """BokehJS has rendered the page (a server page may not be attached to its session yet)."""
    page.wait_for_function(RENDERED_JS, timeout=timeout)


def layer_button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def show_feature_maps(page: Page) -> None:
    """Press "Show feature maps" (the feature view is built on first use)."""
    page.get_by_role("button", name="Show feature maps").click()


def card(page: Page) -> Locator:
    return page.locator("#layer-details")


def status(page: Page) -> Locator:
    return page.get_by_role("status")


def block_centre(page: Page, index: int) -> dict[str, Any]:
    return page.evaluate(BLOCK_CENTRE_JS, index)


def click_block(page: Page, index: int) -> None:
    point = block_centre(page, index)
    page.mouse.click(point["x"], point["y"])


def deep_active(page: Page) -> dict[str, Any] | None:
    return page.evaluate(DEEP_ACTIVE_JS)


def total_cell(page: Page) -> Locator:
    return page.locator("tfoot td[data-total]")


def assert_card(page: Page, layer: Layer, *, announce: bool = True) -> None:
    """The details card (and the live region) describe `layer` exactly."""
    box = card(page)
    expect(box.locator("h2")).to_have_text(layer.name)
    info = box.evaluate(CARD_JS)
    assert info["name"] == layer.name
    assert info["rows"].get("Output shape") == layer.shape, (layer.name, info["rows"])
    if layer.has_module:
        assert info["rows"].get("Parameters") == layer.params, (layer.name, info["rows"])
    else:  # the Input row has no module, hence no Parameters row; the live region still says 0
        assert info["rows"].get("Parameters", layer.params) == layer.params, (layer.name, info["rows"])
    assert info["code"] == (layer.pytorch or None), (layer.name, info["code"])
    if announce:
        expect(status(page)).to_have_text(layer.say)


def assert_pressed(page: Page, layer: Layer) -> None:
    """Exactly the selected layer's button is pressed."""
    pressed = page.locator("button[data-i][aria-pressed=true]")
    expect(pressed).to_have_count(1)
    expect(pressed).to_have_text(layer.name)


# -- server subprocesses ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], url: str, log: Path, timeout: float = 60.0) -> subprocess.Popen:
    """Start a server subprocess and wait until `url` answers 200."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            # Each request builds a whole session: a short timeout on a loaded machine would
            # abandon it and queue another, and the server would never catch up.
            with urllib.request.urlopen(url, timeout=60) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s:\n"
                               f"{log.read_text(errors='replace')}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
