"""Benchmark: the state owner's actions in CPython (what the desktop server runs per click).

    python bench/state.py [--runs N]

Not a test: prints figures and exits 0. For each graph preset: the time of `load_preset`
(analysis, diagram/table/code views, editor, comparisons, feature maps), of `select` (the
views, editor form and feature grid follow), of an edit inside a block (`replace` through the
form's widget) and of inserting/removing a palette piece; and the length of the `arch=` link.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

from explorer.app.page import Explorer
from explorer.urlstate import encode_arch

PRESETS = ["ResNet-18 for CIFAR-10 (3×32×32)", "MobileNetV2-style (3×32×32)",
           "Small Inception-style net (3×32×32)", "DenseNet-style (3×32×32)"]


def timed(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    app = Explorer(live=True)
    print(f"{'preset':40} {'rows':>5} {'load ms':>8} {'select ms':>9} {'edit ms':>8} {'piece ms':>9} {'link chars':>10}")
    for name in PRESETS:
        load = timed(lambda: app.state.load_preset(name), runs)
        leaf = next(r for r in app.analysis.records if r.path and r.type == "conv2d")
        other = next(r for r in reversed(app.analysis.records) if r.path and r.type == "conv2d")
        names = [leaf.name, other.name]
        select = timed(lambda: app.select(names.reverse() or names[0]), runs * 3)
        app.select(leaf.name)
        width = app.editor.widget("out_channels")
        values = [width.value, width.value + 8]
        edit = timed(lambda: setattr(app.editor.widget("out_channels"), "value", values.reverse() or values[0]),
                     runs)

        def piece() -> None:
            app.select(leaf.name)
            app.state.insert("Squeeze-and-excitation gate")
            app.state.remove()
        piece_ms = timed(piece, runs) / 2
        print(f"{name:40} {len(app.analysis.records):5} {load:8.0f} {select:9.1f} {edit:8.0f} {piece_ms:9.0f} "
              f"{len(encode_arch(app.network)):10,}")


if __name__ == "__main__":
    main()
