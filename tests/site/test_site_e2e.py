"""The built site in Chromium: static tier, live tier, offline, sub-path, iframe.

Every context routes all requests; any request that leaves 127.0.0.1 fails the test.
"""
from __future__ import annotations

import os
import shutil

import pytest
from site_helpers import LIVE_TIMEOUT_MS, serve, wait_tier

pytestmark = pytest.mark.e2e


def click_layer_and_check_card(page, name="Conv2", expect="(64, 16, 16)"):
    page.get_by_role("button", name=name, exact=True).click()
    card = page.locator("#layer-details")
    card.filter(has_text=expect).wait_for(timeout=5000)
    assert "18,496" in card.text_content()


def test_static_tier_works_with_pyodide_absent(live_site, new_context):
    """Pyodide cannot be fetched: the page says why in one line, and stays a working
    static explorer."""
    ctx, guard = new_context(block=("/pyodide/",))
    page = ctx.new_page()
    with serve(live_site.path) as srv:
        page.goto(srv.url + "index.html")
        assert page.evaluate("document.documentElement.dataset.tier") in ("static", "error")
        click_layer_and_check_card(page)          # before and independent of Python
        if live_site.live:
            assert wait_tier(page, timeout=30000) == "error"
            status = page.locator("#cnn-status")
            assert status.is_visible()
            reason = status.text_content()
            assert reason.startswith("Live Python features") and "\n" not in reason.strip()
            assert guard.blocked, "the test did not block anything"
        page.get_by_role("button", name="Pool1", exact=True).click()
        page.locator("#layer-details").filter(has_text="(32, 16, 16)").wait_for(timeout=5000)


def test_static_only_build_is_a_working_static_page(static_site, new_context):
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(static_site.path) as srv:
        page.goto(srv.url)
        click_layer_and_check_card(page)
        status = page.locator("#cnn-status")
        assert status.is_visible() and "no numpy for Pyodide" in status.text_content()
        page.wait_for_timeout(500)
        assert page.evaluate("document.documentElement.dataset.tier") == "static"


@pytest.mark.live
def test_live_tier_python_callback_updates_the_page(require_live, new_context):
    ctx, _ = new_context()
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with serve(require_live.path) as srv:
        page.goto(srv.url + "index.html#layer=Conv2")
        click_layer_and_check_card(page)          # static tier first
        assert page.locator("#cnn-status").is_visible()
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        assert page.locator("#cnn-status").is_hidden()   # progress indicator gone
        # the URL fragment reached the Python app (pn.state.location.hash)
        page.locator("#fragment").filter(has_text="#layer=Conv2").wait_for(timeout=5000)
        # a Python-side callback (numpy) updates the page
        box = page.locator("input.bk-input").first
        box.fill("10")
        box.press("Enter")
        page.locator("#py-out").filter(has_text="python: sum=45 n=10").wait_for(timeout=10000)
        # client-side callbacks survive the swap to the live document
        click_layer_and_check_card(page)
        # the developer hook reaches the same interpreter
        n = page.evaluate("cnnExplorer.python('import numpy; int(numpy.arange(5).sum())')")
        assert n == "10"
        marks = page.evaluate("window.cnnExplorer.marks")
        print("\nlive marks (ms):", marks)
    assert not errors, errors


@pytest.mark.live
def test_pure_wheels_are_installed_by_the_worker_not_by_pyodide(require_live, new_context):
    """The pure-Python wheels are unzipped by worker.js (browser inflate) into
    site-packages: importable, with their metadata, and not installed a second time by
    Pyodide's loadPackage; the compiled ones (numpy) still are (docs/design.md §5)."""
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(require_live.path) as srv:
        page.goto(srv.url + "index.html")
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        got = page.evaluate("""cnnExplorer.python(`
import json, importlib.metadata as md, os, numpy, panel, param, pyodide_js
site = os.path.dirname(os.path.dirname(numpy.__file__))     # where Pyodide installs
json.dumps({
    "panel": md.version("panel"), "param": md.version("param"),
    "under_site": os.path.dirname(os.path.dirname(panel.__file__)) == site,
    "site": site, "panel_file": panel.__file__,
    "templates": os.path.isfile(os.path.join(os.path.dirname(panel.__file__), "_templates", "base.html")),
    "loaded": sorted(pyodide_js.loadedPackages.object_keys()),
})`)""")
        info = __import__("json").loads(got)
        assert info["panel"] == "1.9.4" and info["param"], info
        assert info["under_site"] and info["templates"], info
        assert "numpy" in info["loaded"], info
        assert not {"panel", "bokeh", "param"} & set(info["loaded"]), info
        marks = page.evaluate("window.cnnExplorer.marks")
        assert marks["core_ready"] <= marks["pyodide_ready"] <= marks["import_numpy"], marks


@pytest.mark.live
def test_second_visit_goes_live_offline(require_live, chromium, tmp_path):
    """After one visit the service worker has everything: with the server gone the page
    still opens and goes live."""
    pw, _ = chromium
    from site_helpers import CHROMIUM, CHROMIUM_ARGS, Guard
    ctx = pw.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    guard = Guard(ctx)
    try:
        srv_dir = tmp_path / "www"
        shutil.copytree(require_live.path, srv_dir)
        with serve(srv_dir) as srv:
            page = ctx.new_page()
            page.goto(srv.url + "index.html")
            assert wait_tier(page) == "live"
            page.wait_for_function("document.documentElement.dataset.offline === 'ready'",
                                   timeout=60000)
            url = srv.url
        # the server is stopped: nothing answers on that port any more
        page.goto(url + "index.html")
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        # the service worker's cached response kept what a streaming compile needs (its
        # Content-Type), so the core compiled from the stream, as on the first visit
        assert page.evaluate("window.cnnExplorer.wasm") == "streaming"
        click_layer_and_check_card(page)
        page.goto(url)                                  # the directory URL too
        assert wait_tier(page) == "live"
    finally:
        ctx.close()
    guard.check()


@pytest.mark.live
def test_live_under_a_sub_path(require_live, new_context, tmp_path):
    root = tmp_path / "www"
    (root / "courses" / "cnn").mkdir(parents=True)
    os.symlink(require_live.path, root / "courses" / "cnn" / "explorer")
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(root) as srv:
        page.goto(srv.url + "courses/cnn/explorer/")
        click_layer_and_check_card(page)
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")


HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>host</title></head>
<body><h1>Course notes</h1>
<iframe id="cnn" src="{src}" style="width:100%;border:0;height:150px"
        sandbox="allow-scripts allow-same-origin" title="CNN explorer"></iframe>
<script>
window.heights = []; window.tiers = [];
addEventListener("message", function (e) {{
  var f = document.getElementById("cnn");
  if (e.source !== f.contentWindow || !e.data) return;
  if (e.data.type === "cnn-explorer:height") {{ f.style.height = e.data.height + "px"; heights.push(e.data.height); }}
  if (e.data.type === "cnn-explorer:tier") tiers.push(e.data.tier);
}});
</script></body></html>"""


@pytest.mark.live
def test_embed_in_a_sandboxed_iframe_from_another_origin(require_live, new_context, tmp_path):
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(require_live.path) as site, serve(host_dir) as host:
        assert site.port != host.port
        (host_dir / "index.html").write_text(
            HOST_PAGE.format(src=site.url + "embed.html#layer=Conv2&hide=editor"))
        page.goto(host.url + "index.html")
        frame = page.frame_locator("#cnn")
        frame.get_by_role("button", name="Conv2", exact=True).click()
        frame.locator("#layer-details").filter(has_text="(64, 16, 16)").wait_for(timeout=10000)
        page.wait_for_function("window.tiers.includes('live') || window.tiers.includes('error')",
                               timeout=LIVE_TIMEOUT_MS)
        assert page.evaluate("window.tiers").count("live") == 1, page.evaluate("window.tiers")
        frame.locator("#fragment").filter(has_text="#layer=Conv2&hide=editor").wait_for(
            timeout=5000)
        heights = page.evaluate("window.heights")
        assert heights and heights[-1] > 200
        box = page.locator("#cnn").bounding_box()
        assert abs(box["height"] - heights[-1]) <= 2          # auto-height applied
        assert frame.locator("html.cnn-embed").count() == 1


CSP_LISTENER = """window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(e.violatedDirective + " " + e.blockedURI));"""

INJECT = """() => {
  const s = document.createElement("script");
  s.textContent = "window.__injected = 'script'";
  document.body.appendChild(s);
  const d = document.createElement("div");
  d.innerHTML = '<img src="data:," onerror="window.__injected = \\'handler\\'">';
  document.body.appendChild(d);
}"""


@pytest.mark.live
def test_live_tier_under_the_content_security_policy(require_live, new_context):
    """The pages carry a CSP <meta>: the page goes live with no violation, and a script
    injected into the page (element or inline handler) does not run."""
    for name in ("index.html", "embed.html"):
        text = (require_live.path / name).read_text()
        assert '<meta http-equiv="Content-Security-Policy"' in text
        policy = text.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
        assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy.split(
            "style-src", 1)[0], policy
    ctx, _ = new_context()
    page = ctx.new_page()
    page.add_init_script(CSP_LISTENER)
    with serve(require_live.path) as srv:
        page.goto(srv.url + "index.html")
        click_layer_and_check_card(page)
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        box = page.locator("input.bk-input").first
        box.fill("7")
        box.press("Enter")
        page.locator("#py-out").filter(has_text="python: sum=21 n=7").wait_for(timeout=10000)
        assert page.evaluate("window.__csp") == []
        page.evaluate(INJECT)
        page.wait_for_timeout(500)
        assert page.evaluate("window.__injected") is None
        blocked = page.evaluate("window.__csp")
        assert any(v.startswith("script-src-elem") for v in blocked), blocked
        assert any(v.startswith("script-src-attr") for v in blocked), blocked


@pytest.mark.live
def test_a_tampered_wheel_is_named_with_both_hashes(require_live, new_context, tmp_path):
    """A wheel changed after the build is refused by its sha256, and the page says which
    file and both hashes (it used to end in "No module named 'pyviz_comms'")."""
    www = tmp_path / "www"
    shutil.copytree(require_live.path, www)
    wheel = next((www / "pyodide").glob("pyviz_comms-*.whl"))
    lock = (www / "pyodide" / "pyodide-lock.json").read_text()
    expected = __import__("json").loads(lock)["packages"]["pyviz-comms"]["sha256"]
    with open(wheel, "ab") as f:
        f.write(b"tampered")
    got = __import__("hashlib").sha256(wheel.read_bytes()).hexdigest()
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(www) as srv:
        page.goto(srv.url + "index.html")
        assert wait_tier(page) == "error"
        reason = page.locator("#cnn-status").text_content()
        assert f"pyodide/{wheel.name}" in reason, reason
        assert got in reason and expected in reason, reason
        assert "No module named" not in reason
        click_layer_and_check_card(page)          # the static page keeps working


@pytest.mark.live
def test_a_missing_wheel_is_named(require_live, new_context, tmp_path):
    www = tmp_path / "www"
    shutil.copytree(require_live.path, www)
    wheel = next((www / "pyodide").glob("param-*.whl"))
    wheel.unlink()
    ctx, _ = new_context()
    page = ctx.new_page()
    with serve(www) as srv:
        page.goto(srv.url + "index.html")
        assert wait_tier(page) == "error"
        reason = page.locator("#cnn-status").text_content()
        assert f"pyodide/{wheel.name} is missing from the site (HTTP 404" in reason, reason
        assert "No module named" not in reason


def test_opened_from_disk_the_static_tier_works_under_the_policy(live_site, new_context):
    """file:// (a double-click on index.html): the prerendered page works under its CSP, and
    the reason names the fix (a web server), not the sandbox (both have an opaque origin)."""
    ctx, _ = new_context()
    page = ctx.new_page()
    page.add_init_script(CSP_LISTENER)
    page.goto((live_site.path / "index.html").as_uri())
    click_layer_and_check_card(page)
    if live_site.live:
        assert wait_tier(page, timeout=30000) == "error"
        assert "through a web server" in page.evaluate("window.cnnExplorer.reason")
    assert page.evaluate("window.__csp") == []
