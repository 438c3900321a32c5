"""Installing the site's wheels inside the live page: Pyodide's way against the worker's.

    python bench/install_wheels.py SITE_DIR [--rounds N]

Opens SITE_DIR's index.html in headless Chromium, waits for the live tier, then, in the
page's own worker, installs every wheel of the site again into a scratch folder, both ways,
alternating round by round (the machine's noise hits both alike):
- pyodide: `pyodide._package_loader.unpack_buffer` (what `loadPackage` runs per wheel:
  unzip in Python, file by file, plus the wheel's metadata and dynamic-library scan);
- worker: worker.js's `unzip` (browser inflate, DecompressionStream) + `writePure`
  (FS.writeFile), the route the page takes for pure-Python wheels (docs/design.md §5).
The bytes are fetched beforehand; only the install is timed. Prints median ms per wheel.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.site_load import ARGS, CHROMIUM, serve  # noqa: E402

CODE = r'''
import json, time, js, pyodide_js
from pyodide._package_loader import unpack_buffer
names = json.loads(_names)
bufs = {}
for n in names:
    r = await js.fetch("../pyodide/" + n)
    bufs[n] = js.Uint8Array.new(await r.arrayBuffer())
res = {n: {"pyodide": [], "worker": []} for n in names}
for k in range(_rounds):
    for n in names:
        t = time.perf_counter()
        unpack_buffer(bufs[n], filename=n, extract_dir=f"/tmp/bench-py/{k}/{n}", calculate_dynlibs=True)
        res[n]["pyodide"].append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        files = await js.unzip(n, bufs[n].slice().buffer)
        js.writePure(pyodide_js.FS, f"/tmp/bench-js/{k}/{n}", [files])
        res[n]["worker"].append(1000 * (time.perf_counter() - t))
json.dumps(res)
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    names = sorted(p.name for p in (args.site / "pyodide").glob("*.whl"))
    from playwright.sync_api import sync_playwright
    httpd, base = serve(args.site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(base + "index.html")
            page.wait_for_function("['live', 'error'].includes(document.documentElement.dataset.tier)",
                                   timeout=180_000)
            if page.evaluate("window.cnnExplorer.tier") != "live":
                print("the page did not go live:", page.evaluate("window.cnnExplorer.reason"))
                return 1
            code = f"_names = {json.dumps(json.dumps(names))}\n_rounds = {args.rounds}\n" + CODE
            res = json.loads(page.evaluate("(c) => window.cnnExplorer.python(c)", code))
            browser.close()
    finally:
        httpd.shutdown()
    print(f"install, median of {args.rounds} rounds (ms)   {'pyodide':>9} {'worker':>9}")
    tot = {"pyodide": 0.0, "worker": 0.0}
    for n, r in res.items():
        a, b = statistics.median(r["pyodide"]), statistics.median(r["worker"])
        tot["pyodide"] += a
        tot["worker"] += b
        print(f"{n:44} {a:9.1f} {b:9.1f}")
    print(f"{'all wheels':44} {tot['pyodide']:9.1f} {tot['worker']:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
