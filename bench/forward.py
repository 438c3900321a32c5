"""Benchmark: numpy forward pass vs PyTorch CPU, and analysis time for a 100-layer network.

    python bench/forward.py [--runs N]

Not a test: it prints figures measured side by side in one run and exits 0.
- Forward: the default CIFAR-10 CNN (docs/design.md §4), eval mode, the same weights in both
  engines (explorer.forward.init_weights copied into the generated PyTorch module), batch 1
  and 64; median wall time of N runs after warm-up, and the numpy/torch ratio.
- Analysis: analyse() and the summary (table + JSON) for a valid 100-layer network
  (32 × conv3×3/pad 1 + BN + ReLU blocks, then Flatten, Linear, ReLU, Linear).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import cli  # noqa: E402
from explorer.analysis import analyse  # noqa: E402
from explorer.codegen import class_name, module_source  # noqa: E402
from explorer.forward import forward, init_weights  # noqa: E402
from explorer.spec import default_network, from_json  # noqa: E402
from timing import interleaved  # noqa: E402  (bench/timing.py; scripts run from bench/)


def median_ms(fn, runs: int, warmup: int = 2) -> float:
    return interleaved_ms([fn], runs, warmup)[0]


def interleaved_ms(fns, runs: int, warmup: int = 2) -> list[float]:
    """Median wall time of each function in ms (runs interleaved: bench/timing.py)."""
    return [statistics.median(bucket) * 1e3 for bucket in interleaved(fns, runs, warmup)]


def load_note() -> str:
    try:
        one, _, _ = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        return ""
    busy = " (machine is busy: figures are noisy)" if one > (os.cpu_count() or 1) else ""
    return f"load average (1 min) {one:.2f}{busy}"


def hundred_layer_network() -> dict:
    layers: list[dict] = []
    for _ in range(32):
        layers += [{"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
                   {"type": "batchnorm2d"}, {"type": "relu"}]
    layers += [{"type": "flatten"}, {"type": "linear", "out_features": 64}, {"type": "relu"},
               {"type": "linear", "out_features": 10}]
    assert len(layers) == 100
    return {"name": "Deep 100", "input": {"channels": 3, "height": 32, "width": 32}, "layers": layers}


def torch_model(analysis, weights):
    import torch

    namespace: dict = {"__name__": "bench_generated"}
    exec(compile(module_source(analysis), "<generated>", "exec"), namespace)  # our own generated code
    model = namespace[class_name(analysis.network)]().eval()
    with torch.no_grad():
        for module, state in zip(model.layers, weights):
            for key, value in state.items():
                getattr(module, key).copy_(torch.from_numpy(value))
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per figure (median reported)")
    args = parser.parse_args()
    runs = max(1, args.runs)

    print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"os.cpu_count() = {os.cpu_count()}")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a desktop test dependency only
        torch = None
        print("torch is not installed: PyTorch columns are skipped")
    else:
        torch.set_num_threads(os.cpu_count() or 1)
        print(f"torch {torch.__version__}, torch.set_num_threads(os.cpu_count()) -> "
              f"{torch.get_num_threads()} threads")
    print(f"median of {runs} runs after 2 warm-up runs, numpy and torch runs interleaved; "
          f"wall time (time.perf_counter); {load_note()}\n")

    analysis = analyse(default_network())
    weights = init_weights(analysis, seed=0)
    model = torch_model(analysis, weights) if torch else None

    print(f"Forward pass, default CIFAR-10 CNN ({analysis.total_params:,} params, "
          f"{analysis.total_macs:,} MACs/sample), eval mode, same weights")
    print(f"{'batch':>5}  {'numpy ms':>10}  {'torch ms':>10}  {'numpy/torch':>11}  {'max |diff|':>10}")
    for batch in (1, 64):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 32, 32)).astype(np.float32)
        n = runs if batch == 1 else max(3, runs // 2)
        if model is not None:
            xt = torch.from_numpy(x)

            def run_torch():
                with torch.no_grad():
                    return model(xt)

            t_np, t_torch = interleaved_ms([lambda: forward(analysis, weights, x), run_torch], n)
            diff = float(np.abs(forward(analysis, weights, x)[-1] - run_torch().numpy()).max())
            print(f"{batch:>5}  {t_np:>10.2f}  {t_torch:>10.2f}  {t_np / t_torch:>10.1f}×  {diff:>10.2e}")
        else:
            t_np = median_ms(lambda: forward(analysis, weights, x), n)
            print(f"{batch:>5}  {t_np:>10.2f}  {'-':>10}  {'-':>11}  {'-':>10}")

    deep = from_json(hundred_layer_network())
    deep_analysis = analyse(deep)
    t_analyse = median_ms(lambda: analyse(deep), runs)
    def summary() -> None:
        result = analyse(deep)
        cli.table(result)
        json.dumps(result.to_json(), indent=2, ensure_ascii=False)

    t_summary = median_ms(summary, runs)
    t_parse = median_ms(lambda: from_json(hundred_layer_network()), runs)
    t_code = median_ms(lambda: module_source(deep_analysis), runs)
    print(f"\nAnalysis of a valid {len(deep.layers)}-layer network ({deep_analysis.total_params:,} params, "
          f"{len(deep_analysis.records)} rows)")
    print(f"  parse (from_json)                     {t_parse:8.2f} ms")
    print(f"  analyse()                             {t_analyse:8.2f} ms")
    print(f"  summary: analyse() + table + JSON      {t_summary:8.2f} ms")
    print(f"  module_source() (PyTorch code)        {t_code:8.2f} ms")
    print(f"\n{load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
