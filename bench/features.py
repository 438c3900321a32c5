"""Forward pass + feature-map preparation for the default network on one sample image.

Prints (side by side, one run): the numpy forward pass alone, the app's full update for a
layer selection (forward + tiles + colour scale), and on the desktop server the time from a
click on the Conv2 button to the feature-map caption showing Conv2 in Chromium.
The Pyodide figure is printed by bench/site.py when the live site can run here.
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


if __name__ == "__main__":
    python_side()
    browser_side()
