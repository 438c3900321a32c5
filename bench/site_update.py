"""What a returning visitor downloads when the offline site is redeployed.

    python bench/site_update.py --site DIR

Serves a private copy of a built site (python -m pyodide_build) from 127.0.0.1, visits it
with a persistent Chromium profile (service worker and caches survive, as for a returning
user) and prints the requests and bytes the server sent for each visit:
1. first visit (the service worker caches the whole site);
2. a redeploy that changes the pages and the loader: the visit that installs the update,
   and the next one, served the new version;
3. a broken redeploy (one changed file truncated on the server): two visits, the old
   version keeps working, and the retry asks only for what is still missing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyodide_build.build import write_service_worker  # noqa: E402

from pagetiming import CHROMIUM, OFFLINE_ARGS as ARGS, QuietHandler, serve  # noqa: E402

SETTLE = """async () => {
  const r = await navigator.serviceWorker.getRegistration();
  try { await r.update(); } catch (e) {}
  for (let i = 0; i < 600 && r.installing; i++) await new Promise((ok) => setTimeout(ok, 100));
  return {waiting: !!r.waiting};
}"""


class _Counting(QuietHandler):
    sent: list = []

    def send_head(self):
        f = super().send_head()
        path = self.translate_path(self.path)
        size = os.path.getsize(path) if f is not None and os.path.isfile(path) else 0
        self.sent.append((self.path.split("?")[0], size))
        return f


def visit(ctx, url: str, wait_live: bool, settle: bool) -> dict:
    page = ctx.new_page()
    page.goto(url)
    if wait_live:
        page.wait_for_function("['live', 'error'].includes(document.documentElement.dataset.tier)",
                               timeout=180000)
        page.wait_for_function("document.documentElement.dataset.offline === 'ready'",
                               timeout=180000)
    state = page.evaluate(SETTLE) if settle else {}
    tier = page.evaluate("document.documentElement.dataset.tier")
    deploy = page.evaluate("document.head.innerHTML.match(/<!-- (deploy \\d) -->/)?.[1] || 'deploy 1'")
    page.close()
    return {"tier": tier, "page": deploy, **state}


def wait_active(ctx, version: str, timeout_s: float = 30) -> None:
    """The new version takes over once the old version's pages are closed: wait for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for sw in ctx.service_workers:
            try:
                if sw.evaluate("[VERSION, self.serviceWorker.state]") == [version, "activated"]:
                    return
            except Exception:
                pass
        time.sleep(0.2)
    raise SystemExit(f"version {version} never became active")


def change(www: Path, marker: str) -> None:
    for name in ("index.html", "embed.html"):
        p = www / name
        p.write_text(p.read_text().replace("</head>", f"<!-- {marker} -->\n</head>", 1))
    loader = www / "assets" / "loader.js"
    loader.write_text(loader.read_text() + f"\n// {marker}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, required=True, help="a site built by pyodide_build")
    args = ap.parse_args()
    if not (args.site / "sw.js").is_file():
        print(f"error: {args.site} is not a built site (no sw.js)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    sent: list = []
    handler = type("H", (_Counting,), {"sent": sent})
    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp) / "www"
        shutil.copytree(args.site, www)
        total = sum(p.stat().st_size for p in www.rglob("*") if p.is_file())
        httpd, base = serve(www, handler)
        url = base + "index.html"
        rows = []

        def record(label: str, result: dict) -> None:
            rows.append((label, len(sent), sum(s for _, s in sent), result))
            sent.clear()

        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(str(Path(tmp) / "profile"),
                                                        executable_path=CHROMIUM, args=ARGS)
            record("1 first visit", visit(ctx, url, wait_live=True, settle=False))
            change(www, "deploy 2")
            version = write_service_worker(www)
            record("2 redeploy: visit that installs it", visit(ctx, url, False, True))
            wait_active(ctx, version)
            record("2 redeploy: next visit (new version)", visit(ctx, url, True, True))
            change(www, "deploy 3")
            write_service_worker(www)
            loader = www / "assets" / "loader.js"
            loader.write_bytes(loader.read_bytes()[:1000])          # a truncated upload
            record("3 broken redeploy: first visit", visit(ctx, url, True, True))
            record("3 broken redeploy: second visit", visit(ctx, url, True, True))
            ctx.close()
        httpd.shutdown()
    print(f"site: {total / 1e6:.2f} MB on disk")
    print(f"{'visit':40} {'requests':>8} {'bytes sent':>12}  result")
    for label, n, size, result in rows:
        print(f"{label:40} {n:8d} {size:12,d}  {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
