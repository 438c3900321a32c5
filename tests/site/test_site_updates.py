"""Redeploying the site: returning visitors get the new version, a broken redeploy leaves
them on the old one, complete and working, and nothing unchanged is downloaded again.

Each test copies the built site into its own folder, serves it with a server that records
every path requested, and visits it with a persistent Chromium profile (the service worker
and its caches survive between visits, as for a returning user).
"""
from __future__ import annotations

import shutil
import time

import pytest
from site_helpers import CHROMIUM, CHROMIUM_ARGS, Guard, serve, wait_tier

from pyodide_build.build import write_service_worker

pytestmark = [pytest.mark.e2e, pytest.mark.live]

MARK = '<meta name="cnn-test-deploy" content="2">'
BIG = (".whl", ".wasm", ".zip", "bokeh-3.9.2.min.js")

# Settles the registration: asks for an update check, waits until no worker is installing,
# then says which versions exist (the SW answers its own VERSION).
SETTLE = """async () => {
  const r = await navigator.serviceWorker.getRegistration();
  try { await r.update(); } catch (e) {}
  for (let i = 0; i < 600 && r.installing; i++) await new Promise((ok) => setTimeout(ok, 100));
  return {waiting: !!r.waiting, active: !!r.active};
}"""


def redeploy(www, *, break_file: str | None = None) -> tuple[str, bytes]:
    """Change both pages (a marker in <head>) and site.css, rewrite the manifest; optionally
    break one changed file afterwards (its content no longer matches the manifest's sha256).
    Returns the new version and the good content of the broken file."""
    for name in ("index.html", "embed.html"):
        p = www / name
        p.write_text(p.read_text().replace("</head>", MARK + "\n</head>", 1))
    css = www / "assets" / "site.css"
    css.write_text(css.read_text() + "\n/* deploy 2 */\n")
    version = write_service_worker(www)
    good = b""
    if break_file:
        good = (www / break_file).read_bytes()
        (www / break_file).write_bytes(good[: len(good) // 2])     # a truncated upload
    return version, good


def wait_active(ctx, version: str, timeout_s: float = 30) -> None:
    """Wait until the service worker of `version` is the active one (it takes over once the
    pages of the previous version are closed)."""
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        for sw in ctx.service_workers:
            try:
                seen = sw.evaluate("[VERSION, self.serviceWorker && self.serviceWorker.state]")
            except Exception:
                continue
            if seen == [version, "activated"]:
                return
        time.sleep(0.2)
    raise AssertionError(f"version {version} never became active (last seen {seen})")


def big_downloads(requests: list[str]) -> list[str]:
    return [r for r in requests if r.endswith(BIG)]


@pytest.fixture
def returning_user(require_live, chromium, tmp_path):
    """(context, www folder): a persistent profile and a private copy of the site."""
    pw, _ = chromium
    ctx = pw.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    guard = Guard(ctx)
    www = tmp_path / "www"
    shutil.copytree(require_live.path, www)
    yield ctx, www
    ctx.close()
    guard.check()


def first_visit(ctx, srv):
    page = ctx.new_page()
    page.goto(srv.url + "index.html")
    assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
    page.wait_for_function("document.documentElement.dataset.offline === 'ready'", timeout=60000)
    page.close()


def test_a_redeployed_site_reaches_the_next_visit(returning_user):
    ctx, www = returning_user
    with serve(www) as srv:
        first_visit(ctx, srv)
        version, _ = redeploy(www)
        srv.requests.clear()
        page = ctx.new_page()
        page.goto(srv.url + "index.html")            # this visit checks for the update
        state = page.evaluate(SETTLE)
        assert state["waiting"], "the new version did not install"
        # only the changed files came over the network; wheels, wasm, BokehJS were copied
        # from the old version's cache
        assert big_downloads(srv.requests) == [], srv.requests
        assert "/index.html" in srv.requests and "/embed.html" in srv.requests
        page.close()
        wait_active(ctx, version)
        # the next visit is served the new version, and it works
        page = ctx.new_page()
        page.goto(srv.url + "index.html")
        assert page.locator('meta[name="cnn-test-deploy"]').count() == 1
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        page.close()


def test_a_broken_redeploy_keeps_the_old_version_working(returning_user):
    ctx, www = returning_user
    broken = "assets/site.css"
    with serve(www) as srv:
        first_visit(ctx, srv)
        version, good = redeploy(www, break_file=broken)
        for visit in (2, 3):
            srv.requests.clear()
            page = ctx.new_page()
            page.goto(srv.url + "index.html")
            state = page.evaluate(SETTLE)
            assert not state["waiting"] and state["active"], state
            # the old version, complete: its page, and it goes live
            assert page.locator('meta[name="cnn-test-deploy"]').count() == 0
            page.get_by_role("button", name="Conv2", exact=True).click()
            page.locator("#layer-details").filter(has_text="(64, 16, 16)").wait_for(timeout=10000)
            assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
            # no re-download of the site: only the update check and the files it lacks
            assert big_downloads(srv.requests) == [], (visit, srv.requests)
            assert srv.requests.count("/" + broken) >= 1, (visit, srv.requests)
            if visit == 3:      # the pages were cached by the failed attempt of visit 2
                assert "/index.html" not in srv.requests, srv.requests
            page.close()
        # the upload is fixed: the next visit installs it, the one after shows it
        (www / broken).write_bytes(good)
        srv.requests.clear()
        page = ctx.new_page()
        page.goto(srv.url + "index.html")
        assert page.evaluate(SETTLE)["waiting"]
        assert big_downloads(srv.requests) == [], srv.requests
        assert "/index.html" not in srv.requests, srv.requests
        page.close()
        wait_active(ctx, version)
        page = ctx.new_page()
        page.goto(srv.url + "index.html")
        assert page.locator('meta[name="cnn-test-deploy"]').count() == 1
        page.close()
