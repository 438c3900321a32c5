"""Playwright + Chromium fixtures for the end-to-end tests (docs/design.md §6).

- One Chromium for the whole session (pytest-playwright's session-scoped `browser`), launched
  from the system binary with the flags in docs/design.md §6; the test is skipped, with the reason,
  when that binary is missing (`make browser` installs it).
- Every page is guarded: `page` is overridden so that each test's page routes all requests,
  aborts anything that would leave the machine (any host other than 127.0.0.1/localhost;
  file:, data:, blob: are local) and fails the test at teardown if there was any. WebSockets
  and uncaught page errors are checked the same way.
- The static export is built once per session (`python -m explorer export`) and served from
  127.0.0.1 by a small HTTP server; tests that need the double-click case open it as file://.
- The desktop server (`python -m explorer serve --port N`) runs once per session as a
  subprocess and is stopped at the end.
"""
from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e_support import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, is_local, start_server, stop_server

DESKTOP = {"width": 1280, "height": 900}
# Generous: the desktop server answers in ~0.1 s, but CI machines (and this one) can be loaded.
expect.set_options(timeout=15_000)


# -- browser -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`, or set CNNX_CHROMIUM)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": DESKTOP}


class RequestGuard:
    """Aborts and records every request (and WebSocket) that would leave the machine."""

    def __init__(self) -> None:
        self.blocked: list[str] = []
        self.page_errors: list[str] = []

    def route(self, route) -> None:  # playwright Route
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            self.blocked.append(f"{route.request.method} {url[:200]}")
            route.abort("blockedbyclient")

    def websocket(self, ws) -> None:
        if not is_local(ws.url):
            self.blocked.append(f"WebSocket {ws.url[:200]}")

    def attach(self, page) -> None:
        page.route("**/*", self.route)
        page.on("websocket", self.websocket)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)[:500]))

    def check(self) -> None:
        assert not self.blocked, f"the page tried to reach other hosts: {self.blocked}"
        assert not self.page_errors, f"uncaught errors in the page: {self.page_errors}"


@pytest.fixture
def request_guard() -> RequestGuard:
    return RequestGuard()


@pytest.fixture
def page(page, request_guard: RequestGuard):
    """pytest-playwright's page, with every request routed through the guard."""
    request_guard.attach(page)
    yield page
    request_guard.check()


# -- the static export -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def static_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m explorer export` of the default network, built once."""
    out = tmp_path_factory.mktemp("export") / "explorer.html"
    proc = subprocess.run([sys.executable, "-m", "explorer", "export", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"export failed ({proc.returncode}): {proc.stderr}"
    assert out.is_file() and out.stat().st_size > 100_000
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def static_url(static_html: Path) -> str:
    """The export served by a plain static HTTP server on 127.0.0.1 (no Python behind the page)."""
    handler = functools.partial(_QuietHandler, directory=str(static_html.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{static_html.name}"
    httpd.shutdown()
    httpd.server_close()


# -- the desktop server ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`python -m explorer serve --port N` for the session; the app's URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/explorer"
    log = tmp_path_factory.mktemp("server") / "serve.log"
    # 120 s: with 2 cores shared by several test runs, the first session can take over a minute
    proc = start_server([sys.executable, "-m", "explorer", "serve", "--port", str(port)], url, log, timeout=120)
    yield url
    stop_server(proc)


@pytest.fixture
def new_page(browser, request_guard: RequestGuard):
    """Factory for extra guarded pages in their own contexts (e.g. a phone viewport)."""
    contexts = []

    def make(**context_args):
        ctx = browser.new_context(**context_args)
        contexts.append(ctx)
        pg = ctx.new_page()
        request_guard.attach(pg)
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
    request_guard.check()


def pytest_configure(config: pytest.Config) -> None:
    # pytest-playwright's own session-scoped `base_url` fixture triggers this deprecation on pytest 9.
    config.addinivalue_line("filterwarnings",
                            "ignore:Session-scoped fixtures defined as instance methods are deprecated")
