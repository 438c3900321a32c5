"""Side-by-side timing shared by the benchmark scripts."""
from __future__ import annotations

import time
from typing import Callable


def interleaved(fns: list[Callable[[], object]], runs: int, warmup: int = 2) -> list[list[float]]:
    """Wall times (s) of each function, alternating them run by run so that background load
    on a shared machine hits them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return times
