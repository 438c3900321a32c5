"""Forward pass + feature-map preparation for the default network on one sample image.

Prints (side by side, one run): the numpy forward pass alone, the app's full update for a
layer selection (forward + tiles + colour scale), and on the desktop server the time from a
click on the Conv2 button to the feature-map caption showing Conv2 in Chromium.
With a built site (`site/`, or a folder given as the argument) the same figures are also
measured inside the live Pyodide page.
"""
from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.analysis import analyse  # noqa: E402
from explorer.features import compute  # noqa: E402
from explorer.spec import default_network  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def timed(fn, repeat: int = 15) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs) * 1000


def python_side() -> None:
    from explorer.app.featureview import FeatureView
    analysis = analyse(default_network())
    view = FeatureView()
    view.show_network(analysis)
    print(f"numpy forward pass, default net, 1 image:        {timed(lambda: compute(analysis, 'Red disc')):7.1f} ms")
    print(f"app update (forward + 64 tiles for Conv2):       "
          f"{timed(lambda: (view.refresh(), view.show_layer(5))):7.1f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_side() -> None:
    from playwright.sync_api import sync_playwright
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "explorer", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/explorer")
            page.get_by_role("button", name="Conv1", exact=True).click()
            page.get_by_text("Conv1: 32 channels").wait_for()
            runs = []
            for name, text in [("Conv2", "Conv2: 64 channels"), ("Conv1", "Conv1: 32 channels")] * 3:
                t = time.perf_counter()
                page.get_by_role("button", name=name, exact=True).click()
                page.get_by_text(text).wait_for()
                runs.append((time.perf_counter() - t) * 1000)
            browser.close()
        print(f"desktop server, click → feature maps shown:      {statistics.median(runs):7.1f} ms (median of {len(runs)})")
    finally:
        server.terminate()


IN_PYODIDE = """
import time
from explorer.analysis import analyse
from explorer.app.featureview import FeatureView
from explorer.features import compute
from explorer.spec import default_network
a = analyse(default_network())
v = FeatureView()
v.show_network(a)
def med(fn, n=7):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return sorted(ts)[n // 2] * 1000
f"{med(lambda: compute(a, 'Red disc')):.1f} {med(lambda: (v.refresh(), v.show_layer(5))):.1f}"
"""


def pyodide_side(site: Path) -> None:
    """The same two figures inside the live Pyodide page (the site's developer hook)."""
    from playwright.sync_api import sync_playwright
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("document.documentElement.dataset.tier !== 'static'", timeout=120_000)
            if page.evaluate("document.documentElement.dataset.tier") != "live":
                print("Pyodide: the site did not go live here:", page.evaluate("window.cnnExplorer.reason"))
                return
            forward, update = page.evaluate(f"cnnExplorer.python({IN_PYODIDE!r})").split()
            browser.close()
        print(f"Pyodide: numpy forward pass, 1 image:            {float(forward):7.1f} ms")
        print(f"Pyodide: app update (forward + 64 tiles):        {float(update):7.1f} ms   (goal < 300 ms)")
    finally:
        server.terminate()


if __name__ == "__main__":
    python_side()
    browser_side()
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "site"
    if (site / "index.html").is_file():
        pyodide_side(site)
    else:
        print(f"Pyodide: no built site at {site} (python -m pyodide_build --out site, or pass its folder)")
