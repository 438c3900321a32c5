"""How long the live page takes to validate and show networks of growing size (desktop CPython).

Prints seconds per step, so the busy-indicator threshold (explorer.features.BUSY_SECONDS)
can be judged against real numbers. Run: python bench/apply_time.py
"""
from __future__ import annotations

import time

from explorer.analysis import analyse
from explorer.app.page import Explorer
from explorer.features import DESKTOP, forward_cost
from explorer.spec import from_json


def network(n_layers: int, size: int = 32) -> dict:
    layers = []
    for i in range(n_layers):
        layers.append({"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1} if i % 2 == 0
                      else {"type": "relu"})
    return {"name": f"{n_layers} layers", "input": {"channels": 3, "height": size, "width": size}, "layers": layers}


def main() -> None:
    app = Explorer(live=True)
    for n in (10, 100, 400, 1000):
        data = network(n)
        t0 = time.perf_counter()
        analysis = analyse(from_json(data))
        t1 = time.perf_counter()
        error = app.apply_json(data)
        t2 = time.perf_counter()
        macs, nbytes = forward_cost(analysis)
        print(f"{n:5d} layers: analyse {t1 - t0:6.3f} s, apply (views, editor, features) {t2 - t1:6.3f} s, "
              f"{macs / 1e9:.2f} GMACs (~{macs / DESKTOP.rate:.2f} s of numpy), {nbytes / 2**20:.0f} MiB"
              + (f"  error: {error}" if error else ""))


if __name__ == "__main__":
    main()
