"""Hostile names in the browser: a network whose name and layer names carry script payloads,
opened in the static export and on the desktop server; every view is visited (diagram
hover, card, table, quiz, insights, step-through, code and downloads; on the server also the
feature maps and their tap, and the editor with an error that echoes input). Nothing may run,
and every name must read literally (explorer/text.py; docs/design.md, "Untrusted text")."""
from __future__ import annotations

import json
import subprocess
import sys
import sys as _sys
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from e2e_support import ROOT, block_centre, card, layer_button, show_feature_maps, wait_ready
from explorer.analysis import analyse
from explorer.spec import from_json
from explorer.urlstate import encode_arch

_sys.path.insert(0, str(ROOT / "tests" / "app"))
from hostile import LAYER_PAYLOADS, NETWORK_NAME, hostile_json  # noqa: E402

pytestmark = pytest.mark.e2e

NETWORK = from_json(hostile_json())
NAMES = [r.name for r in analyse(NETWORK).records]

# Anything a payload would have done if it had been parsed as markup, searched through every
# shadow root (Bokeh renders its Divs in shadow DOM).
PWNED_JS = r"""() => {
  const found = [];
  if (window.__pwned !== undefined) found.push("window.__pwned = " + window.__pwned);
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.id === "pwned") found.push("element #pwned: " + el.tagName);
      for (const a of Array.from(el.attributes)) {
        if (/pwned/.test(a.value) && (a.name.startsWith("on") || a.name === "srcdoc" || a.name === "href"))
          found.push(el.tagName + " " + a.name + "=" + a.value);
      }
      if (el.tagName === "SCRIPT" && /^\s*window\.__pwned/.test(el.textContent)) found.push("script: " + el.textContent);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}"""

DEEP_TEXT_JS = """(selector) => {
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll(selector)) out.push(el.textContent);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return out.join("\\n");
}"""

LINKS_JS = """() => {
  const out = [];
  const walk = (root) => {
    for (const a of root.querySelectorAll("a[href]")) out.push([a.getAttribute("download"), a.getAttribute("href").slice(0, 30)]);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return out;
}"""


def assert_nothing_ran(page: Page, where: str) -> None:
    found = page.evaluate(PWNED_JS)
    assert found == [], f"{where}: a payload ran or became markup: {found}"


def deep_text(page: Page, selector: str) -> str:
    return page.evaluate(DEEP_TEXT_JS, selector)


def visit_every_view(page: Page) -> None:
    """Card, diagram hover, table, insights, quiz, step-through, code, downloads."""
    expect(page.get_by_text(NETWORK_NAME + ": input", exact=False)).to_be_visible()
    for i, name in enumerate(NAMES):
        layer_button(page, name).click()
        expect(card(page).locator("h2")).to_have_text(name)
        assert_nothing_ran(page, f"card of {name!r}")
        point = block_centre(page, i)
        page.mouse.move(point["x"], point["y"])
        # Bokeh's hover tooltip writes the name as text: it reads back literally
        page.wait_for_function(f"(name) => ({DEEP_TEXT_JS})('.bk-tooltip-content').includes('Layer: ' + name)",
                               arg=name, timeout=10_000)
        assert_nothing_ran(page, f"hover over {name!r}")
    page.mouse.move(2, 2)
    # table rows, insights (both <details>), budget rows
    for summary in ("Where the cost lives", "Why tools report different numbers", "PyTorch code for the whole network"):
        page.locator("summary", has_text=summary).first.click()
    expect(page.locator("table.cnnx-budget-table")).to_contain_text(LAYER_PAYLOADS[1])
    page.locator("table.cnnx-budget-table tr[data-rows]").nth(2).click()
    expect(card(page).locator("h2")).to_have_text(NAMES[3])
    page.locator("table.cnnx-table tbody tr[data-rows]").first.click()
    assert_nothing_ran(page, "table, insights, code")
    links = page.evaluate(LINKS_JS)
    downloads = [(d, h) for d, h in links if d]
    assert len(downloads) == 3 and all(h.startswith("data:") for _, h in downloads), downloads
    # step-through on the first convolution (its name is a payload)
    layer_button(page, NAMES[1]).click()
    card(page).locator("summary", has_text="Step through").click()
    page.get_by_role("button", name="Next step").click()
    expect(card(page).locator(".cnnx-step-sum")).to_contain_text("out[0, 1] = ")
    # quiz mode: the card asks about the layer, named literally; check an answer
    page.get_by_role("button", name="Quiz mode").click()
    expect(card(page).locator("h2")).to_have_text(NAMES[1])
    card(page).locator("input[name=shape]").fill("8, 16, 16")
    card(page).get_by_role("button", name="Check my answer").click()
    expect(card(page).locator(".cnnx-feedback")).to_contain_text("Output shape: correct")
    page.get_by_role("button", name="Quiz mode").click()
    assert_nothing_ran(page, "step-through and quiz")


# -- the static export ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    arch = folder / "hostile.json"
    arch.write_text(json.dumps(hostile_json()), encoding="utf-8")
    out = folder / "hostile.html"
    proc = subprocess.run([sys.executable, "-m", "explorer", "export", str(out), str(arch)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_export_shows_hostile_names_literally_and_runs_none(page: Page, hostile_export: Path) -> None:
    page.goto(hostile_export.as_uri() + "#layer=" + quote(LAYER_PAYLOADS[0], safe=""))
    wait_ready(page)
    expect(card(page).locator("h2")).to_have_text(LAYER_PAYLOADS[0])   # #layer= named it: no click needed
    assert_nothing_ran(page, "page load with #layer=")
    visit_every_view(page)


# -- the desktop server ---------------------------------------------------------------------------

def test_the_server_shows_hostile_names_literally_and_runs_none(page: Page, server_url: str) -> None:
    page.goto(server_url + "#layer=" + quote(LAYER_PAYLOADS[0], safe="") + "&arch=" + encode_arch(NETWORK))
    wait_ready(page)
    expect(layer_button(page, LAYER_PAYLOADS[-1])).to_be_visible()
    expect(card(page).locator("h2")).to_have_text(LAYER_PAYLOADS[0])
    assert_nothing_ran(page, "page load with #arch= and #layer=")
    # feature maps: the caption names the layer literally; tap a pixel of a map
    show_feature_maps(page)
    expect(page.get_by_text(f"{LAYER_PAYLOADS[0]}: 8 channels of 16×16")).to_be_visible()
    canvas_box = page.evaluate("""() => {
      for (const doc of Bokeh.documents) {
        const m = doc.get_model_by_name('cnnx-feature-grid');
        const v = m && Bokeh.index.find_one(m);
        if (!v) continue;
        const src = m.renderers.find((r) => r.data_source && r.data_source.data.label).data_source;
        v.canvas_view.el.scrollIntoView({block: 'center'});
        const r = v.canvas_view.el.getBoundingClientRect();   // the centre of channel 0's tile
        return {x: r.left + v.frame.x_scale.compute(src.data.x[0] + 0.5),
                y: r.top + v.frame.y_scale.compute(src.data.y[0] + 0.5)};
      }
      return null; }""")
    assert canvas_box is not None
    page.mouse.click(canvas_box["x"], canvas_box["y"])
    expect(page.get_by_text(f"of {LAYER_PAYLOADS[0]} sees input rows")).to_be_visible()
    assert_nothing_ran(page, "feature maps and their tap")
    # editor: the name field holds the payload as a value; an error that echoes input is text
    expect(page.get_by_label("name", exact=True)).to_have_value(LAYER_PAYLOADS[0])
    field = page.get_by_label("kernel_size", exact=True)
    field.fill("<img src=x onerror=window.__pwned=7>")
    field.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("kernel_size must be an integer")
    expect(page.get_by_role("alert")).to_contain_text("<img src=x onerror=")
    assert_nothing_ran(page, "editor error")
    visit_every_view(page)


# -- bounded work and hashchange on the desktop server --------------------------------------------

def _convs(size: int, count: int, channels: int = 64) -> dict:
    layers = [{"type": "conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1} for _ in range(count)]
    return {"name": f"{count} convs at {size}", "input": {"channels": 3, "height": size, "width": size}, "layers": layers}


def test_a_pasted_link_with_another_network_is_applied_without_reload(page: Page, server_url: str) -> None:
    small = from_json(_convs(8, 1, 4))
    page.goto(server_url)
    wait_ready(page)
    expect(layer_button(page, "Pool3")).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true; }")
    page.evaluate("(h) => { location.hash = h; }", "layer=Conv1&arch=" + encode_arch(small))
    expect(layer_button(page, "Pool3")).to_have_count(0)
    expect(page.get_by_text("1 convs at 8: input 3×8×8")).to_be_visible()
    assert page.evaluate("() => window.__sameDocument") is True     # no reload happened
    # and a hostile link pasted the same way leaves the page working, with a message
    nested = "[" * 8000
    import base64
    page.evaluate("(h) => { location.hash = h; }",
                  "arch=" + base64.urlsafe_b64encode(nested.encode()).decode().rstrip("="))
    expect(page.get_by_role("alert")).to_contain_text("nested more than")
    layer_button(page, "Conv1").click()
    expect(card(page).locator("h2")).to_have_text("Conv1")


def test_an_over_budget_network_skips_only_the_feature_maps(page: Page, server_url: str) -> None:
    big = from_json(_convs(512, 4))      # 29 GMACs: over the desktop budget of 20
    page.goto(server_url + "#layer=Conv2&arch=" + encode_arch(big))
    wait_ready(page)
    show_feature_maps(page)
    macs = analyse(big).total_macs
    expect(page.get_by_text(f"Feature maps skipped: this network needs {macs / 1e9:,.1f} GMACs")).to_be_visible()
    expect(card(page).locator("h2")).to_have_text("Conv2")
    expect(page.get_by_text("4 convs at 512: input 3×512×512")).to_be_visible()


def test_a_long_forward_pass_shows_a_busy_message_first(page: Page, server_url: str) -> None:
    slow = from_json(_convs(384, 2))     # ~5.5 GMACs: a few seconds of numpy
    page.goto(server_url + "#layer=Conv2&arch=" + encode_arch(slow))
    wait_ready(page)
    show_feature_maps(page)
    # the page's busy line, or the feature maps' own one, is up before the maps arrive
    busy = page.get_by_text("Computing the feature maps").or_(page.get_by_text("Working: showing “2 convs"))
    expect(busy.first).to_be_visible()
    expect(page.get_by_text("Conv2: 64 channels of 384×384", exact=False)).to_be_visible(timeout=60_000)
    expect(busy).to_have_count(0)


def test_a_long_page_update_shows_a_busy_message_first(page: Page, server_url: str) -> None:
    long = from_json({"name": "Long", "input": {"channels": 1, "height": 8, "width": 8},
                      "layers": [{"type": "relu"}] * 300})
    page.goto(server_url)
    wait_ready(page)
    page.evaluate("(h) => { location.hash = h; }", "arch=" + encode_arch(long))
    expect(page.get_by_text("Working: showing “Long” (300 layers)")).to_be_visible()
    expect(layer_button(page, "ReLU300")).to_be_attached(timeout=60_000)
    expect(page.get_by_text("Working: showing")).to_have_count(0)
