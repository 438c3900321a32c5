"""The real explorer (explorer/app/entry.py) as a site: builds, keeps the page contract in
the static tier, and goes live offline. Skipped while the entry script does not exist.
The site is built once per session (`real_site` in conftest.py)."""
from __future__ import annotations

import json

import pytest
from site_helpers import (LIVE_TIMEOUT_MS, NO_NUMPY_REASON, PROJECT, card_shows, held_page, release,
                          serve, wait_tier)

from pyodide_build.build import DEFAULT_ENTRY

ENTRY = PROJECT / DEFAULT_ENTRY

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not ENTRY.exists(), reason=f"{ENTRY} does not exist yet")]


def test_real_app_runs_in_pyodide_at_build_time(real_site):
    _, _, warnings = real_site
    assert not warnings, warnings


def test_real_app_static_then_live(real_site, new_context):
    out, report, _ = real_site
    ctx, _ = new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    with serve(out) as srv:
        page.goto(srv.url + "index.html")
        page.get_by_role("button", name="Conv2", exact=True).click()
        card = page.locator("#layer-details")
        card.filter(has_text="(64, 16, 16)").wait_for(timeout=15000)
        text = card.text_content()
        assert "18,496" in text and "nn.Conv2d(32, 64, kernel_size=3, padding=1)" in text
        if not report.live:
            pytest.skip(NO_NUMPY_REASON)
        tier = wait_tier(page)
        assert tier == "live", page.evaluate("window.cnnExplorer.reason")
        page.get_by_role("button", name="Pool1", exact=True).click()
        card.filter(has_text="(32, 16, 16)").wait_for(timeout=10000)


# ---------------------------------------------------------------- the hand-off to Python

CSP_LISTENER = """window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || "")));"""

# Every element of the page, open shadow roots included (Bokeh and Panel draw inside them).
_ALL_ELEMENTS = """
  const all = [];
  (function walk(root) {
    for (const el of root.querySelectorAll("*")) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); }
  })(document);"""

# the largest horizontal scroll offset of any element
SCROLLED = "() => {" + _ALL_ELEMENTS + """
  return Math.max(0, ...all.map((el) => el.scrollLeft));
}"""

# open <details> (summary text) and pressed toggles (text)
DOM_STATE = "() => {" + _ALL_ELEMENTS + """
  const open = all.filter((el) => el.tagName === "DETAILS" && el.open)
                  .map((el) => el.querySelector("summary").textContent.trim());
  const pressed = all.filter((el) => el.tagName === "BUTTON" && el.getAttribute("aria-pressed") === "true"
                                     && !el.dataset.i).map((el) => el.textContent.trim());
  return {open, pressed};
}"""


# for each button text: is the (first) button with that text inside an inert subtree?
INERT_BUTTONS = "(texts) => {" + _ALL_ELEMENTS + """
  const found = {};
  for (const el of all) {
    if (el.tagName === "BUTTON" && !(el.textContent.trim() in found)) found[el.textContent.trim()] = el;
  }
  return texts.map((t) => {
    for (let el = found[t]; el; el = el.parentElement || (el.getRootNode() && el.getRootNode().host)) {
      if (el.inert) return true;
    }
    return found[t] ? false : null;
  });
}"""


def test_editing_is_disabled_with_the_progress_until_python_is_live(real_site, new_context):
    """Static tier: the editor and the feature-map button are inert under a line that says
    when editing works; live: the line is gone and the same controls work."""
    from playwright.sync_api import expect
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    with held_page(new_context, out) as held:
        page = held.open()
        notes = page.locator(".cnnx-wait-note")
        expect(notes).to_have_count(2)                      # the editor and the feature maps
        expect(notes.first).to_contain_text("Editing will be available in a few seconds")
        # inert: out of the tab order and the accessibility tree, so no dead control is offered
        assert page.evaluate(INERT_BUTTONS, ["Insert after selected", "Show feature maps"]) == [True, True]
        release(page, held.routes)
        expect(notes.first).to_contain_text("%")            # the loading progress, as it goes
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        expect(notes).to_have_count(0)
        assert page.evaluate(INERT_BUTTONS, ["Insert after selected", "Show feature maps"]) == [False, False]
        expect(page.get_by_role("button", name="Insert after selected")).to_be_enabled()
        page.get_by_role("button", name="Conv2", exact=True).click()
        page.get_by_role("button", name="Show feature maps").click()
        page.get_by_text("Conv2: 64 channels of 16×16").wait_for(timeout=30_000)


def test_fragment_selection_survives_the_hand_off(real_site, new_context):
    """#layer=Conv2: Conv2's card in the static tier and once Python is live (it used to fall
    back to the placeholder), with no CSP violation; clicks keep working after the swap."""
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    ctx, _ = new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.add_init_script(CSP_LISTENER)
    with serve(out) as srv:
        page.goto(srv.url + "index.html#layer=Conv2")
        card_shows(page, "(64, 16, 16)")
        assert page.evaluate("document.documentElement.dataset.tier") == "static"
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        page.wait_for_timeout(500)
        text = page.locator("#layer-details").text_content()
        assert "(64, 16, 16)" in text and "18,496" in text, text
        page.get_by_role("button", name="Pool1", exact=True).click()
        card_shows(page, "(32, 16, 16)")
        page.get_by_role("button", name="Conv2", exact=True).click()
        card_shows(page, "18,496")
        assert page.evaluate("window.__csp") == []


def test_what_the_reader_did_while_static_survives_the_hand_off(real_site, new_context):
    """A selection, quiz mode, an open <details> and the scroll position, all made before
    Python was live, are all still there after the swap."""
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    with held_page(new_context, out, height=700) as held:
        page = held.open()
        page.get_by_role("button", name="FC1", exact=True).click()
        card_shows(page, "524,544")
        page.get_by_role("button", name="Quiz mode").click()
        card_shows(page, "predict")
        summary = page.get_by_text("Where the cost lives")
        summary.click()
        page.mouse.wheel(0, summary.bounding_box()["y"] - 200)   # the reader scrolls it near the top
        page.wait_for_timeout(300)
        before = page.evaluate(DOM_STATE)
        top = summary.bounding_box()["y"]           # what the reader looks at, on screen
        assert "Where the cost lives" in before["open"] and "Quiz mode" in before["pressed"]
        assert page.evaluate("window.scrollY") > 100 and 0 <= top < 700
        assert page.evaluate("document.documentElement.dataset.tier") == "static"
        held.go_live()
        page.wait_for_timeout(800)
        after = page.evaluate(DOM_STATE)
        assert set(before["open"]) <= set(after["open"]), (before, after)
        assert "Quiz mode" in after["pressed"], after
        card = page.locator("#layer-details")
        assert "FC1" in card.text_content() and "predict" in card.text_content()
        assert abs(summary.bounding_box()["y"] - top) <= 40, (top, summary.bounding_box())
        # the live document got the selection too (Python's side follows it)
        page.get_by_role("button", name="Quiz mode").click()
        card_shows(page, "524,544")


def test_phone_diagram_scrolls_to_the_selection_after_the_hand_off(real_site, new_context):
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    ctx, _ = new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    with serve(out) as srv:
        page.goto(srv.url + "index.html#layer=Logits")
        card_shows(page, "(10)")
        page.wait_for_function(f"({SCROLLED})() > 0", timeout=10000)
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        page.wait_for_function(f"({SCROLLED})() > 0", timeout=10000)
        assert "(10)" in page.locator("#layer-details").text_content()


HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>host</title></head>
<body><h1>Course notes</h1>
<iframe id="cnn" src="{src}" style="width:100%;border:0;height:150px"
        sandbox="{sandbox}" title="CNN explorer"></iframe>
<script>
window.heights = []; window.lti = []; window.tiers = []; window.reasons = [];
addEventListener("message", function (e) {{
  var f = document.getElementById("cnn");
  if (e.source !== f.contentWindow || !e.data) return;
  if (e.data.type === "cnn-explorer:height") {{ f.style.height = e.data.height + "px"; heights.push(e.data.height); }}
  if (e.data.subject === "lti.frameResize") lti.push(e.data.height);
  if (e.data.type === "cnn-explorer:tier") {{ tiers.push(e.data.tier); reasons.push(e.data.reason); }}
}});
</script></body></html>"""


def host_page(tmp_path, src: str, sandbox: str):
    host_dir = tmp_path / "host"
    host_dir.mkdir(exist_ok=True)
    (host_dir / "index.html").write_text(HOST_PAGE.format(src=src, sandbox=sandbox))
    return host_dir


def test_embed_keeps_the_layer_and_its_height_through_the_hand_off(real_site, new_context,
                                                                    tmp_path):
    """The README's embed (#layer=Conv2&hide=editor) in a host page: Conv2's card before and
    after live; the height messages never collapse; Canvas's lti.frameResize goes along."""
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    ctx, _ = new_context(viewport={"width": 1100, "height": 800})
    page = ctx.new_page()
    with serve(out) as site:
        host = host_page(tmp_path, site.url + "embed.html#layer=Conv2&hide=editor",
                         "allow-scripts allow-same-origin")
        with serve(host) as h:
            page.goto(h.url + "index.html")
            frame = page.frame_locator("#cnn")
            frame.locator("#layer-details").filter(has_text="(64, 16, 16)").wait_for(timeout=15000)
            page.wait_for_function("window.tiers.includes('live') || window.tiers.includes('error')",
                                   timeout=LIVE_TIMEOUT_MS)
            assert "live" in page.evaluate("window.tiers"), page.evaluate("window.reasons")
            page.wait_for_timeout(1500)
            text = frame.locator("#layer-details").text_content()
            assert "(64, 16, 16)" in text and "18,496" in text, text
            heights = page.evaluate("window.heights")
            assert heights and min(heights) > 200, heights
            assert page.evaluate("window.lti") == heights
            box = page.locator("#cnn").bounding_box()
            assert abs(box["height"] - heights[-1]) <= 2


def test_embed_in_a_sandbox_without_same_origin(real_site, new_context, tmp_path):
    """sandbox="allow-scripts" only (an opaque origin: no service worker, no storage): the
    static tier works; Python cannot start there and the page says why in one line."""
    out, report, _ = real_site
    ctx, _ = new_context(viewport={"width": 1100, "height": 800})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with serve(out) as site:
        host = host_page(tmp_path, site.url + "embed.html#layer=Conv2", "allow-scripts")
        with serve(host) as h:
            page.goto(h.url + "index.html")
            frame = page.frame_locator("#cnn")
            frame.locator("#layer-details").filter(has_text="(64, 16, 16)").wait_for(timeout=15000)
            frame.get_by_role("button", name="Pool1", exact=True).click()
            frame.locator("#layer-details").filter(has_text="(32, 16, 16)").wait_for(timeout=10000)
            if report.live:
                page.wait_for_function("window.tiers.includes('error')", timeout=30000)
                reason = page.evaluate("window.reasons[window.tiers.indexOf('error')]")
                assert "sandboxed frame without allow-same-origin" in reason, reason
                status = frame.locator("#cnn-status")
                assert status.is_visible() and "allow-same-origin" in status.text_content()
            page.wait_for_function("window.heights.length > 0", timeout=10000)
            assert min(page.evaluate("window.heights")) > 200
    assert not errors, errors


def test_the_real_pages_forbid_inline_handlers(real_site):
    """The app's HTML names its actions in data attributes (on_ready.js dispatches), so the
    policy of both pages can forbid handler attributes outright (docs/design.md §8)."""
    import re
    out, _, _ = real_site
    for name in ("index.html", "embed.html"):
        html = (out / name).read_text(encoding="utf-8")
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
        assert policy, f"{name} has no Content-Security-Policy"
        directives = dict(d.strip().split(" ", 1) for d in policy.group(1).split(";") if d.strip())
        assert directives.get("script-src-attr") == "'none'", (name, directives)
        assert not re.search(r"\bon(click|keydown|submit|toggle)=", html.replace('\\"', '"')), name


# ---------------------------------------------------------------- trimmed imports (trim.py)

TRIM_PROBE = """
import json, sys
import panel as pn
before = sorted(m for m in ("panel.chat", "panel.template", "panel.pane.holoviews",
                            "panel.widgets.speech_to_text", "panel.pipeline", "yaml",
                            "panel.widgets.tables", "panel.theme.material")
                if m in sys.modules)
names = [pn.chat.ChatFeed.__name__, pn.widgets.Tabulator.__name__, pn.pane.Vega.__name__,
         pn.Template.__name__, type(pn.panel(pn.bind(lambda x: x, 1))).__name__]
from bokeh.settings import settings
json.dumps({"before": before, "names": names,
            "lazy": "_CNNX_LAZY" in vars(pn) and "_CNNX_LAZY" in vars(pn.widgets),
            "diagnostics": settings.perform_error_diagnostics()})
"""


def test_live_page_runs_the_trimmed_panel(real_site, new_context):
    """The live page imports Panel without the deferred subpackages and still has them on
    first use (pyodide_build/trim.py), and Bokeh runs without its callback-signature checks
    (build.WORKER_ENV)."""
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(out) as srv:
        page.goto(srv.url + "index.html")
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        page.get_by_role("button", name="Pool1", exact=True).click()
        got = json.loads(page.evaluate(f"cnnExplorer.python({json.dumps(TRIM_PROBE)})"))
    assert got["lazy"]
    assert got["before"] == [], "loaded by the app although deferred"
    assert got["names"] == ["ChatFeed", "Tabulator", "Vega", "Template", "ParamFunction"]
    assert got["diagnostics"] is False
