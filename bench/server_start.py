"""Benchmark: desktop server, navigation → first working layer click, this checkout vs a baseline.

    python bench/server_start.py [--baseline REF] [--runs N] [--pause S]

Not a test: it prints figures and exits 0. Starts `python -m explorer serve` from this checkout
and from REF (default: main, checked out in a temporary git worktree), then alternates fresh
pages (new browser context each, nothing cached) between the two servers in one run, so both
see the same machine load. Per page: the first click that shows Conv2 on the card (as
bench/ui.py counts it), time to first byte, DOMContentLoaded, and when the page was attached
to its server session (`data-tier="live"`). `--pause` seconds separate the pages (a visitor
does not reload several times a second; 0 measures back-to-back reloads). The static export of
this checkout, served over http, runs in the same rotation as the floor: a page with the same
document inline and no server behind it.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ui import (CHROMIUM, CHROMIUM_ARGS, Offsite, click_first_layer, fmt, free_port, serve_dir,  # noqa: E402
                start_server, stop_server)
from playwright.sync_api import sync_playwright  # noqa: E402



def serve_argv(checkout: Path, port: int) -> list[str]:
    code = (f"import sys, runpy; sys.path.insert(0, {str(checkout)!r}); "
            "runpy.run_module('explorer', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", code, "serve", "--port", str(port)]


def one_page(browser, url: str, offsite: Offsite) -> dict[str, float | None]:
    ctx, page, _start = click_first_layer(browser, url, offsite)
    click = page.evaluate("performance.now()")
    live = None
    if not url.endswith(".html"):   # the export has no server: nothing to wait for
        page.wait_for_function("() => document.documentElement.dataset.tier === 'live'", timeout=60_000)
        live = page.evaluate("performance.now()")
    nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    ctx.close()
    return {"click": click, "ttfb": nav["responseStart"], "dcl": nav["domContentLoadedEventEnd"], "live": live}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref to compare with (default: main)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between pages")
    args = parser.parse_args()
    offsite = Offsite()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=ROOT, check=True,
                       capture_output=True)
        procs = {}
        html = Path(tmp) / "explorer.html"
        subprocess.run([sys.executable, "-m", "explorer", "export", str(html)], cwd=ROOT, check=True,
                       capture_output=True)
        httpd = serve_dir(Path(tmp))
        try:
            servers = {"static export": f"http://127.0.0.1:{httpd.server_address[1]}/{html.name}"}
            for label, checkout in (("this", ROOT), (f"baseline {args.baseline}", base)):
                port = free_port()
                url = f"http://127.0.0.1:{port}/explorer"
                procs[label] = start_server(serve_argv(checkout, port), url, Path(tmp) / f"{port}.log", timeout=120)
                servers[label] = url
            time.sleep(3)  # both servers idle before the first page
            results: dict[str, list[dict]] = {label: [] for label in servers}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
                for _ in range(args.runs):
                    for label, url in servers.items():
                        results[label].append(one_page(browser, url, offsite))
                        time.sleep(args.pause)
                browser.close()
        finally:
            for proc in procs.values():
                stop_server(proc)
            httpd.shutdown()
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    print(f"Desktop server: navigation → first working layer click (Conv2), {args.runs} fresh pages each, "
          f"alternating, {args.pause:g} s apart")
    for label, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) if runs[0][k] is not None else None for k in runs[0]}
        clicks = [r["click"] for r in runs]
        print(f"  {label:18s} click {fmt(med['click'])} (min {fmt(min(clicks))}, max {fmt(max(clicks))}); "
              f"first byte {fmt(med['ttfb'])}, DOMContentLoaded {fmt(med['dcl'])}, "
              f"live (data-tier) {fmt(med['live'])}")
    print(f"Requests that tried to leave 127.0.0.1: {len(offsite.urls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
