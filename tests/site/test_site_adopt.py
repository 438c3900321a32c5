"""The live tier adopts the prerendered document (pyodide_build/adopt.py, docs/design.md §5).

The page embeds the document the site's own Pyodide built at build time; the worker checks
its fingerprint and the page keeps its BokehJS document, sending Python what changed while
it was static. A different fingerprint falls back to rendering the worker's document.
Uses the real explorer site (`real_site`); variants of it differ only in the worker's CONFIG.
"""
from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import expect
from site_helpers import NO_NUMPY_REASON, card_shows, held_page, serve, wait_tier

from explorer.analysis import analyse
from explorer.spec import default_network, from_json
from pyodide_build import adopt
from pyodide_build.build import write_service_worker

pytestmark = pytest.mark.e2e

CONFIG_RE = re.compile(r"const CONFIG = (\{.*?\});\n", re.DOTALL)

# a mark on a prerendered element: still there when live means the views were kept
TAG_DIAGRAM = """() => {
  const view = Bokeh.index.roots[0];
  view.el.dataset.cnnxProbe = "prerendered";
  return Bokeh.documents.length;
}"""
KEPT = "() => Bokeh.index.roots[0].el.dataset.cnnxProbe === 'prerendered'"

# the explorer's own state (the worker runs the app script in the namespace _cnn_ns)
PY_SELECTION = "_cnn_ns['explorer'].state.selected_name"
# `visible` of the editor's models in Python's document
PY_EDITOR_VISIBLE = ("from panel.io.state import state\n"
                     "sorted({m.visible for m in state.curdoc.models\n"
                     "        if 'cnnx-part-editor' in (getattr(m, 'css_classes', None) or [])})")


def worker_config(site) -> dict:
    return json.loads(CONFIG_RE.search((site / "assets" / "worker.js").read_text(encoding="utf-8")).group(1))


def variant(site, dest, **adopt_changes):
    """A copy of the built site whose worker CONFIG.adopt differs (a redeployed site)."""
    shutil.copytree(site, dest)
    path = dest / "assets" / "worker.js"
    text = path.read_text(encoding="utf-8")
    cfg = worker_config(dest)
    cfg["adopt"].update(adopt_changes)
    path.write_text(CONFIG_RE.sub(lambda m: "const CONFIG = " + json.dumps(cfg, separators=(",", ":")) + ";\n",
                                  text, count=1), encoding="utf-8")
    write_service_worker(dest)
    return dest


@pytest.fixture
def live_real(real_site):
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    return out


def test_the_build_embeds_the_document_pyodide_builds(live_real):
    """The page's document carries Bokeh's counter ids (p1234), and the worker is told the
    fingerprint the build computed over them."""
    cfg = worker_config(live_real)["adopt"]
    assert cfg and re.fullmatch(r"[0-9a-f]{64}", cfg["expected"])
    assert cfg["prepare"] == adopt.PREPARE and cfg["fingerprint"] == adopt.FINGERPRINT
    html = (live_real / "index.html").read_text(encoding="utf-8")
    roots = re.findall(r'data-root-id="([^"]+)"', html)
    assert roots and all(re.fullmatch(r"p\d+", r) for r in roots), roots


def test_the_adopted_page_is_live_and_an_edit_redraws(live_real, new_context):
    """No second render: the prerendered views are the live ones. An edit in the editor
    (Conv2's out_channels) reaches Python and the table is redrawn with its total."""
    data = default_network().to_json()
    conv2 = next(layer for layer in data["layers"] if layer.get("name") == "Conv2")
    old = conv2["out_channels"]
    conv2["out_channels"] = old // 2
    want = analyse(from_json(data)).total_params
    assert want != analyse(default_network()).total_params

    errors: list[str] = []
    with held_page(new_context, live_real) as held:
        held.page.on("pageerror", lambda e: errors.append(str(e)))
        page = held.open()
        page.wait_for_function("window.Bokeh && Bokeh.index.roots.length > 0")
        assert page.evaluate(TAG_DIAGRAM) == 1
        held.go_live()
        assert page.evaluate("window.cnnExplorer.adopted") is True
        marks = page.evaluate("window.cnnExplorer.marks")
        assert "adopt_mismatch" not in marks and "live_rendered" in marks
        assert page.evaluate(KEPT), "the prerendered views were replaced"
        assert page.evaluate("Bokeh.documents.length") == 1
        page.get_by_role("button", name="Conv2", exact=True).click()
        field = page.get_by_label("out_channels", exact=True)
        expect(field).to_have_value(str(old), timeout=30_000)
        field.fill(str(old // 2))
        field.press("Enter")
        expect(page.locator("tfoot td[data-total]")).to_have_attribute("data-total", str(want), timeout=60_000)
    assert not errors, errors


def test_a_selection_made_while_static_reaches_python(live_real, new_context):
    """A layer clicked before Python is live is Python's selection once it is (sent in the
    hand-off's patch), and the card Python draws for it is the same layer's."""
    with held_page(new_context, live_real) as held:
        page = held.open()
        page.get_by_role("button", name="FC1", exact=True).click()
        card_shows(page, "524,544")
        held.go_live()
        assert page.evaluate("window.cnnExplorer.adopted") is True
        assert page.evaluate(f"window.cnnExplorer.python({json.dumps(PY_SELECTION)})") == "FC1"
        # the editor, which only Python draws, is on FC1 too
        expect(page.get_by_label("out_features", exact=True)).to_have_value("256", timeout=30_000)


def test_a_tampered_fingerprint_falls_back_to_rendering(live_real, new_context, tmp_path):
    """The worker's document does not match the build's fingerprint: it is serialised and
    rendered as before adopting existed, and the page still goes live with its selection."""
    site = variant(live_real, tmp_path / "site", expected="0" * 64)
    warnings: list[str] = []
    with held_page(new_context, site) as held:
        held.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        page = held.open()
        page.get_by_role("button", name="Conv2", exact=True).click()
        card_shows(page, "18,496")
        page.wait_for_function("window.Bokeh && Bokeh.index.roots.length > 0")
        page.evaluate(TAG_DIAGRAM)
        held.go_live()
        assert not page.evaluate("window.cnnExplorer.adopted")
        marks = page.evaluate("window.cnnExplorer.marks")
        assert "adopt_mismatch" in marks and "doc_serialized" in marks
        assert not page.evaluate(KEPT), "the page kept the prerendered views"
        assert any("differs from the prerendered one" in w for w in warnings), warnings
        page.wait_for_timeout(500)
        assert "18,496" in page.locator("#layer-details").text_content()
        page.get_by_role("button", name="Pool1", exact=True).click()
        card_shows(page, "(32, 16, 16)")


def test_a_page_that_cannot_compare_asks_for_the_document(live_real, new_context, tmp_path):
    """The page cannot tell what changed while static (here: it cannot find its prerendered
    JSON, as a data block of another type): it asks the worker for its document and renders
    it, and goes live with the reader's selection."""
    site = variant(live_real, tmp_path / "site")
    page_path = site / "index.html"
    text = page_path.read_text(encoding="utf-8")
    text, n = re.subn(r'<script type="application/json" id="(p\d+)">', r'<script type="text/plain" id="\1">', text)
    assert n == 1
    page_path.write_text(text, encoding="utf-8")
    write_service_worker(site)
    with held_page(new_context, site) as held:
        page = held.open()
        page.get_by_role("button", name="Conv2", exact=True).click()
        card_shows(page, "18,496")
        held.go_live()
        assert not page.evaluate("window.cnnExplorer.adopted")
        assert "adopt_refused" in page.evaluate("window.cnnExplorer.marks")
        assert page.evaluate(f"window.cnnExplorer.python({json.dumps(PY_SELECTION)})") == "Conv2"
        page.get_by_role("button", name="Pool1", exact=True).click()
        card_shows(page, "(32, 16, 16)")


def test_links_adopt_when_the_app_applies_its_fragment(live_real, new_context, tmp_path):
    """With CONFIG.adopt.links (the app script's `# pyodide_build: adopt-links`, which the
    explorer's entry.py has), a #layer=…&hide=… link adopts: the page's own callbacks applied
    it, Python gets the selection and the hidden part in the hand-off's patch."""
    assert worker_config(live_real)["adopt"]["links"] is True
    ctx, _ = new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    with serve(live_real) as srv:
        page.goto(srv.url + "index.html#layer=Conv2&hide=editor")
        card_shows(page, "(64, 16, 16)")
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        assert page.evaluate("window.cnnExplorer.adopted") is True
        assert page.evaluate(f"window.cnnExplorer.python({json.dumps(PY_SELECTION)})") == "Conv2"
        hidden = page.evaluate(f"window.cnnExplorer.python({json.dumps(PY_EDITOR_VISIBLE)})")
        assert hidden == "[False]", hidden
        page.get_by_role("button", name="Pool1", exact=True).click()
        card_shows(page, "(32, 16, 16)")


def test_a_link_is_rendered_without_the_pragma(live_real, new_context, tmp_path):
    """Without CONFIG.adopt.links a #layer= link is rendered (the script would have seen the
    fragment; the build's document did not)."""
    site = variant(live_real, tmp_path / "site", links=False)
    ctx, _ = new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    with serve(site) as srv:
        page.goto(srv.url + "index.html#layer=Conv2")
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        assert not page.evaluate("window.cnnExplorer.adopted")
        card_shows(page, "(64, 16, 16)")
