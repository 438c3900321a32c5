"""The real explorer (explorer/app/entry.py) as a site: builds, keeps the page contract in
the static tier, and goes live offline. Skipped while the entry script does not exist.
The site is built once per session (`real_site` in conftest.py)."""
from __future__ import annotations

import pytest
from site_helpers import NO_NUMPY_REASON, PROJECT, serve, wait_tier

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
