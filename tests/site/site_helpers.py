"""Helpers shared by the site tests (servers, request guard, waiting for a tier)."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pyodide_build.pins import CACHE_DIR

HERE = Path(__file__).parent
PROJECT = HERE.parent.parent
STUB_APP = HERE / "stub_app.py"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
LIVE_TIMEOUT_MS = int(os.environ.get("SITE_LIVE_TIMEOUT_MS", "90000"))


def numpy_wheel_cached() -> Path | None:
    hits = sorted(CACHE_DIR.glob("numpy-*-pyodide_*_wasm32.whl"))
    return hits[0] if hits else None


NO_NUMPY_REASON = (f"the numpy wheel for Pyodide is not in {CACHE_DIR}: the live tier cannot "
                   "be built offline (see docs/design.md §5 for how to fill the cache)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list | None = None        # set per server: paths requested, in order

    def log_message(self, *args):
        pass

    def send_head(self):
        if self.requests is not None:
            self.requests.append(self.path.split("?")[0])
        return super().send_head()


class _HTTPServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass        # a page navigating away resets connections: not an error here


class Server:
    def __init__(self, directory: Path):
        self.requests: list[str] = []     # every path requested from this server
        handler_cls = type("_Counting", (_Quiet,), {"requests": self.requests})
        handler = functools.partial(handler_cls, directory=str(directory))
        self.httpd = _HTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def serve(directory: Path):
    srv = Server(directory)
    try:
        yield srv
    finally:
        with contextlib.suppress(Exception):
            srv.stop()


class Guard:
    """Routes every request of a context: 127.0.0.1 (and blob:/data:/file:) pass, anything else is
    aborted and recorded; URLs containing one of `block` are aborted too (simulated outage)."""

    def __init__(self, context, block: tuple[str, ...] = ()):
        self.outside: list[str] = []
        self.blocked: list[str] = []
        self.block = block
        context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if not url.startswith(("http://127.0.0.1:", "blob:", "data:", "file://")):
            self.outside.append(url)
            return route.abort()
        if any(b in url for b in self.block):
            self.blocked.append(url)
            return route.abort()
        return route.continue_()

    def check(self):
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"


def wait_tier(page, tiers=("live", "error"), timeout=LIVE_TIMEOUT_MS) -> str:
    page.wait_for_function(
        "tiers => tiers.includes(document.documentElement.dataset.tier)", arg=list(tiers),
        timeout=timeout)
    return page.evaluate("document.documentElement.dataset.tier")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def card_shows(page, text: str, timeout=10000):
    page.locator("#layer-details").filter(has_text=text).wait_for(timeout=timeout)


def hold_worker(ctx) -> list:
    """Hold back the worker script (Python cannot start) until the test releases it."""
    held: list = []
    ctx.route("**/assets/worker.js", lambda route: held.append(route))
    return held


def release(page, held: list) -> None:
    page.wait_for_function("window.cnnExplorer && window.cnnExplorer.marks.prerendered >= 0")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never asked for the worker"
    held.pop().continue_()


@dataclass
class HeldPage:
    """A page whose worker is held back (static tier) until `go_live`, served from `url`."""
    page: Any
    routes: list
    url: str

    def open(self, path: str = "index.html") -> Any:
        self.page.goto(self.url + path)
        return self.page

    def go_live(self) -> None:
        """Let Python start and wait until the page is live (fails with the page's reason)."""
        release(self.page, self.routes)
        assert wait_tier(self.page) == "live", self.page.evaluate("window.cnnExplorer.reason")


@contextlib.contextmanager
def held_page(new_context, site: Path, height: int = 900) -> Iterator[HeldPage]:
    """A 1280-wide page of `site` with Python held back: a test does what a reader does in
    the static tier, then `go_live()`. Listeners go on `.page` before `.open()`."""
    ctx, _ = new_context(viewport={"width": 1280, "height": height})
    routes = hold_worker(ctx)
    page = ctx.new_page()
    with serve(site) as srv:
        yield HeldPage(page, routes, srv.url)
