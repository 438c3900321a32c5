"""Fixtures for the built-site tests: one build per session, Chromium.

The builds are slow (Pyodide under Node byte-compiles and smoke-runs the app), so each kind
of site is built once per session into a temporary folder:
- `live_site`: the test stub app (tests/site/stub_app.py) with every wheel available;
  when the numpy wheel for Pyodide is not in the cache it is a static-only site and the
  live tests skip, saying why.
- `static_site`: built against an empty wheel cache without downloads (numpy missing).
- `real_site`: the real explorer (explorer/app/entry.py), as `python -m pyodide_build` builds
  it; live when the cache holds every wheel. Shared by the real-app and accessibility tests.
Every page is loaded with all requests routed: anything not for 127.0.0.1 fails the test.
"""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from site_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NO_NUMPY_REASON,
    PROJECT,
    STUB_APP,
    Guard,
)

from pyodide_build.build import DEFAULT_ENTRY, Options, build
from pyodide_build.pins import CACHE_DIR


class Built:
    def __init__(self, path: Path, report):
        self.path, self.report = path, report

    @property
    def live(self) -> bool:
        return self.report.live


@pytest.fixture(scope="session")
def live_site(tmp_path_factory) -> Built:
    out = tmp_path_factory.mktemp("live") / "site"
    # tests never download: the live tier is built only from what the cache holds
    report = build(Options(out=out, entry=STUB_APP, project=PROJECT, download=False),
                   log=lambda m: None)
    return Built(out, report)


@pytest.fixture(scope="session")
def static_site(tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("static")
    # the npm core and PyPI wheels (copied), but no official Pyodide wheels, no downloads
    cache = root / "cache"
    cache.mkdir()
    for sub in ("npm", "pypi"):
        if (CACHE_DIR / sub).is_dir():
            shutil.copytree(CACHE_DIR / sub, cache / sub)
    report = build(Options(out=root / "site", entry=STUB_APP, project=PROJECT, cache=cache,
                           download=False), log=lambda m: None)
    return Built(root / "site", report)


@pytest.fixture(scope="session")
def real_site(tmp_path_factory):
    """(site folder, build report, WARNING lines) of the real app; built once per session."""
    if not (PROJECT / DEFAULT_ENTRY).exists():
        pytest.skip(f"{PROJECT / DEFAULT_ENTRY} does not exist yet")
    out = tmp_path_factory.mktemp("real") / "site"
    messages = []
    report = build(Options(out=out, project=PROJECT, download=False), log=messages.append)
    warnings = [m for m in messages + report.notes if m.startswith("WARNING")]
    return out, report, warnings


@pytest.fixture
def require_live(live_site):
    if not live_site.live:
        pytest.skip(NO_NUMPY_REASON)
    return live_site


@pytest.fixture(scope="session")
def chromium(playwright):
    """One browser on pytest-playwright's Playwright driver (a second sync driver in the same
    pytest run would clash with the one tests/e2e uses)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield playwright, browser
    browser.close()


@pytest.fixture
def new_context(chromium):
    """new_context(block=(), **context_options) -> (context, guard); every context is
    closed after the test and its guard checked (no request left 127.0.0.1)."""
    _, browser = chromium
    made = []

    def make(block: tuple[str, ...] = (), **kwargs):
        ctx = browser.new_context(**kwargs)
        guard = Guard(ctx, block)
        made.append((ctx, guard))
        return ctx, guard

    yield make
    for ctx, guard in made:
        with contextlib.suppress(Exception):
            ctx.close()
        guard.check()
