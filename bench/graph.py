"""Benchmark: graph networks (issue 11's desktop goals).

    python bench/graph.py [--runs N]

Not a test: it prints figures measured side by side in one run and exits 0.
- Analysis: parse + analyse() of ResNet-50 as graph JSON (docs/design.md, "Graph
  networks"; tests/unit/graph_examples.py), and the summary JSON. Goal: < 20 ms.
- Forward: numpy engine vs PyTorch CPU on ResNet-18 at 3×224×224, batch 1, eval mode,
  the same weights in both (torchvision's layout, loaded into the generated module).
  Goal: numpy ≤ 3× torch. Median wall time of N interleaved runs after warm-up.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit")]

from explorer.analysis import analyse  # noqa: E402
from explorer.codegen import class_name, module_source  # noqa: E402
from explorer.forward import forward, init_weights  # noqa: E402
from explorer.spec import from_json  # noqa: E402
from graph_examples import resnet  # noqa: E402
from timing import interleaved  # noqa: E402  (bench/timing.py; scripts run from bench/)


def interleaved_ms(fns, runs: int, warmup: int = 2) -> list[tuple[float, float]]:
    """(median, best) wall time of each function in ms (runs interleaved: bench/timing.py); the
    best run shows the cost without the machine's background load."""
    return [(statistics.median(b) * 1e3, min(b) * 1e3) for b in interleaved(fns, runs, warmup)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average (1 min) {os.getloadavg()[0]:.2f}")

    data = resnet(50)
    text = json.dumps(data)
    network = from_json(data)
    analysis = analyse(network)
    leaves, rows = len(analysis.leaves), len(analysis.records) - 1
    parse_ms, analyse_ms, both_ms, summary_ms = interleaved_ms(
        [lambda: from_json(json.loads(text)), lambda: analyse(network), lambda: analyse(from_json(json.loads(text))),
         lambda: json.dumps(analyse(network).to_json())], max(args.runs, 20))
    print(f"\nResNet-50 graph: {leaves} layers, {rows} nodes with blocks and merges, "
          f"{analysis.total_params:,} params, {analysis.total_macs:,} MACs")
    print("  median / best of the runs:")
    for label, (med, best) in (("parse", parse_ms), ("analyse", analyse_ms), ("parse + analyse (goal < 20 ms)", both_ms),
                               ("analyse + summary JSON", summary_ms)):
        print(f"    {label}: {med:.1f} / {best:.1f} ms")

    try:
        import torch
    except ImportError:
        print("\ntorch is not installed: forward comparison skipped")
        return 0
    r18 = analyse(from_json(resnet(18)))
    namespace: dict = {"__name__": "bench_resnet18"}
    exec(compile(module_source(r18), "<generated>", "exec"), namespace)
    model = namespace[class_name(r18.network)]().eval()
    weights = init_weights(r18, seed=0)
    state = {f"{r.name}.{k}": torch.from_numpy(v) for r, w in zip(r18.leaves, weights) for k, v in w.items()}
    model.load_state_dict(state, strict=False)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    xt = torch.from_numpy(x)

    def run_torch():
        with torch.no_grad():
            return model(xt)

    diff = float(np.abs(forward(r18, weights, x)[-1] - run_torch().numpy()).max())
    print(f"\nResNet-18 forward, 3×224×224, batch 1, eval (max |numpy − torch| = {diff:.2e})")
    for threads in sorted({torch.get_num_threads(), 1}, reverse=True):
        torch.set_num_threads(threads)
        (t_np, b_np), (t_torch, b_torch) = interleaved_ms([lambda: forward(r18, weights, x), run_torch], args.runs)
        print(f"  torch {threads} thread(s): numpy {t_np:.1f} ms (best {b_np:.1f}), torch {t_torch:.1f} ms "
              f"(best {b_torch:.1f}), ratio of medians {t_np / t_torch:.2f}×, of bests {b_np / b_torch:.2f}× "
              "(goal ≤ 3×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
