"""Accessibility of the built site (the real app): 0 axe-core violations (WCAG 2.0/2.1 A and
AA) in the static tier (index and embed pages) and once Python is live, with a layer
selected, every `<details>` open, quiz mode off and on, the editor and feature maps shown
(issue 9, item 6; docs/design.md). The checks are shared with tests/e2e/test_e2e_axe.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect
from site_helpers import NO_NUMPY_REASON, serve, wait_tier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))   # the shared axe helpers
from a11y_support import (  # noqa: E402
    assert_no_violations,
    check_quiz_off_and_on,
    expand_editor_cards,
    select,
)
from e2e_support import show_feature_maps  # noqa: E402

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("page_name", ["index.html", "embed.html"])
def test_static_tier_has_no_axe_violations(real_site, new_context, page_name):
    """Python kept out (its runtime is blocked): the static explorer and its one-line reason."""
    out, report, _ = real_site
    ctx, guard = new_context(block=("/pyodide/",), viewport=DESKTOP)
    page = ctx.new_page()
    with serve(out) as srv:
        page.goto(srv.url + page_name + "#layer=Conv2")
        select(page, "Conv2", live=False)
        if report.live:
            assert wait_tier(page, timeout=60_000) == "error"
            expect(page.locator("#cnn-status")).to_be_visible()
            assert guard.blocked, "the test did not block anything"
        check_quiz_off_and_on(page, f"site {page_name}, static tier, Conv2 selected")


@pytest.mark.live
def test_live_tier_has_no_axe_violations(real_site, new_context):
    out, report, _ = real_site
    if not report.live:
        pytest.skip(NO_NUMPY_REASON)
    ctx, _ = new_context(viewport=DESKTOP)
    page = ctx.new_page()
    with serve(out) as srv:
        page.goto(srv.url + "index.html#layer=Conv2")
        assert wait_tier(page) == "live", page.evaluate("window.cnnExplorer.reason")
        # Select from Python's side (the form is built by Python): another layer first, so the
        # selection changes even when the hand-off kept Conv2 selected.
        select(page, "Pool1", live=True)
        select(page, "BN1", live=True)                      # float and bool fields
        assert_no_violations(page, "live site, BN1's form")
        select(page, "Conv2", live=True)
        show_feature_maps(page)
        expect(page.get_by_text("Conv2: 64 channels of 16×16")).to_be_visible()   # the feature maps
        expand_editor_cards(page)
        check_quiz_off_and_on(page, "live site, Conv2 selected, editor and feature maps shown")
