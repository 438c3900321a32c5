"""Where `import panel` spends its time in the site's own Pyodide (docs/design.md §5).

    python bench/import_profile.py SITE_DIR [--app] [--top N] [--runs N]
    python bench/import_profile.py SITE_DIR --baseline OTHER_SITE [--plain] [--app] [--runs N]
    python bench/import_profile.py SITE_DIR --why email --why unittest [--app]

Runs Pyodide under Node (same V8/WebAssembly engine as Chromium) with the site's shipped
stdlib and wheels exactly as the page's worker installs them, and does the worker's import
steps (CONFIG.imports in assets/worker.js: `import numpy`, then Bokeh's speed-up and
`import panel`), optionally followed by the app script (--app), under `python -X importtime`.
Prints the wall time of each step and the costliest modules and packages (self time, summed
over the modules of a package), so a trimmed build can be compared with another one
(`--runs` > 1: medians). With --baseline, two sites alternate run by run and only the
step times are printed (wall and the Node process's CPU seconds, the steadier figure on a
busy machine); --plain leaves out -X importtime and its overhead. --why MODULE prints which
chain of imports brought MODULE in (the first time, per step), to find what to defer.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyodide_build.pins import CACHE_DIR  # noqa: E402

NODE = r"""
import { loadPyodide } from %(mjs)s;
globalThis.XMLHttpRequest ??= class XMLHttpRequest {};
const lines = [];
const py = await loadPyodide({ indexURL: %(index)s, env: %(env)s,
                               args: %(args)s,
                               stdout: () => {}, stderr: (s) => lines.push(s) });
py.FS.mkdirTree("/work");
py.FS.mount(py.FS.filesystems.NODEFS, { root: %(root)s }, "/work");
py.runPython(`
import zipfile, glob
for w in sorted(glob.glob("/work/wheels/*.whl")):
    zipfile.ZipFile(w).extractall("/lib/python3.13/site-packages")
import importlib; importlib.invalidate_caches()
`);
const steps = JSON.parse(%(steps)s);
const times = {}, cpu = {};
for (const step of steps) {
  lines.push("@@step " + step.name);
  const t0 = performance.now(), c0 = process.cpuUsage();
  await py.runPythonAsync(step.code);
  times[step.name] = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  cpu[step.name] = (c.user + c.system) / 1e6;
}
console.log(JSON.stringify({ times, cpu, lines }));
"""

APP = """
import os, js
from panel.io.pyodide import init_doc, write_doc
init_doc()
_ns = {"__name__": "__main__", "__file__": NAME}
exec(compile(SOURCE, NAME, "exec"), _ns)
await write_doc()
"""

LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def worker_config(site: Path) -> dict:
    text = (site / "assets" / "worker.js").read_text(encoding="utf-8")
    m = re.search(r"const CONFIG = (\{.*?\});\n", text, re.S)
    if not m:
        raise SystemExit(f"{site}/assets/worker.js has no CONFIG (not a live site?)")
    return json.loads(m.group(1))


def run_once(site: Path, app: bool,
             importtime: bool = True) -> tuple[dict, list[tuple[str, str, int, int, int]]]:
    """One Node run: ({"wall"|"cpu": seconds per step}, [(step, module, self us, cumulative
    us, depth)]). CPU seconds (Node's own process) are the steadier figure on a busy machine."""
    cfg = worker_config(site)
    core = CACHE_DIR / "npm" / "package"
    with tempfile.TemporaryDirectory(prefix="import-profile-") as tmp:
        t = Path(tmp)
        idx = t / "core"
        shutil.copytree(core, idx)
        shutil.copyfile(site / "pyodide" / "python_stdlib.zip", idx / "python_stdlib.zip")
        (t / "wheels").mkdir()
        for whl in (site / "pyodide").glob("*.whl"):
            shutil.copyfile(whl, t / "wheels" / whl.name)
        steps = [{"name": s["name"], "code": s["code"]} for s in cfg["imports"]]
        if app:
            code = (f"NAME = {cfg['entry']['name']!r}\nSOURCE = {cfg['entry']['source']!r}\n"
                    + APP)
            steps.append({"name": "app", "code": code})
        script = NODE % {"mjs": json.dumps((idx / "pyodide.mjs").as_uri()),
                         "index": json.dumps(str(idx) + "/"), "root": json.dumps(str(t)),
                         "env": json.dumps(cfg["env"]),
                         "args": json.dumps(["-OO"] + (["-X", "importtime"] if importtime
                                                       else [])),
                         "steps": json.dumps(json.dumps(steps))}
        (t / "run.mjs").write_text(script)
        proc = subprocess.run(["node", str(t / "run.mjs")], capture_output=True, text=True,
                              cwd=tmp, timeout=600, check=False)
    if proc.returncode != 0:
        raise SystemExit("node failed:\n" + proc.stderr[-2000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    rows, step = [], "boot"
    for line in out["lines"]:
        if line.startswith("@@step "):
            step = line[7:]
            continue
        m = LINE.match(line)
        if m:
            rows.append((step, m.group(4), int(m.group(1)), int(m.group(2)),
                         len(m.group(3)) // 2))
    return {"wall": out["times"], "cpu": out["cpu"]}, rows


def importers(rows: list[tuple[str, str, int, int, int]], module: str) -> list[str]:
    """Who imported `module` first: [(step) module, its importer, that one's importer, ...].
    -X importtime prints a module after everything it imports, one level deeper, so the
    importer is the next row of the same step at a lower depth."""
    for i, (step, name, _self, _cum, depth) in enumerate(rows):
        if name != module:
            continue
        chain = [f"({step}) {name}"]
        for later_step, later, _s, _c, d in rows[i + 1:]:
            if later_step != step:
                break
            if d < depth:
                chain.append(later)
                depth = d
        return chain
    return []


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] in ("panel", "bokeh") else parts[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--app", action="store_true", help="also run the app script")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--baseline", type=Path, metavar="SITE",
                    help="another site, run alternately with SITE; prints step times for both")
    ap.add_argument("--plain", action="store_true",
                    help="without -X importtime (its overhead): step times only")
    ap.add_argument("--why", action="append", default=[], metavar="MODULE",
                    help="print the chain of imports that first brought MODULE in")
    args = ap.parse_args(argv)
    if args.why:
        _times, rows = run_once(args.site, args.app)
        for module in args.why:
            chain = importers(rows, module)
            print(" <- ".join(chain) if chain else f"{module}: not imported")
        return 0
    if args.baseline or args.plain:
        return compare([args.baseline, args.site] if args.baseline else [args.site], args)
    all_times: dict[str, list[float]] = defaultdict(list)
    all_cpu: dict[str, list[float]] = defaultdict(list)
    selfs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _ in range(args.runs):
        times, rows = run_once(args.site, args.app)
        for k, v in times["wall"].items():
            all_times[k].append(v)
            all_cpu[k].append(times["cpu"][k])
        for step, mod, self_us, _cum, _depth in rows:
            selfs[(step, mod)].append(self_us)
    print(f"{args.site}: time per worker step (median of {args.runs}, Node; -X importtime "
          "adds its own overhead)")
    for k, v in all_times.items():
        print(f"  {k:8s} {statistics.median(v):6.2f} s wall  "
              f"{statistics.median(all_cpu[k]):6.2f} s CPU")
    med = {key: statistics.median(v) for key, v in selfs.items()}
    for step in [s for s in all_times if s != "numpy"]:
        mods = {m: us for (s, m), us in med.items() if s == step}
        if not mods:
            continue
        print(f"\nstep {step}: {len(mods)} modules imported, "
              f"{sum(mods.values()) / 1e6:.2f} s self time in total")
        pk: dict[str, float] = defaultdict(float)
        cnt: dict[str, int] = defaultdict(int)
        for m, us in mods.items():
            pk[package_of(m)] += us
            cnt[package_of(m)] += 1
        print("  by package (self time, modules):")
        for p, us in sorted(pk.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"    {us / 1e3:8.1f} ms  {cnt[p]:4d}  {p}")
        print("  slowest modules (self time):")
        for m, us in sorted(mods.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"    {us / 1e3:8.1f} ms  {m}")
    return 0


def compare(sites: list[Path], args) -> int:
    """Step times only, the sites alternating run by run (the machine's noise hits all)."""
    got: dict[Path, dict[str, list[float]]] = {s: defaultdict(list) for s in sites}
    for _ in range(args.runs):
        for site in sites:
            times, _rows = run_once(site, args.app, importtime=not args.plain)
            for kind in ("wall", "cpu"):
                for step, v in times[kind].items():
                    got[site][f"{step} ({kind})"].append(v)
    print(f"median of {args.runs} runs, seconds"
          + ("" if args.plain else " (with -X importtime's overhead)"))
    keys = list(got[sites[0]])
    print(f"{'step':16s}" + "".join(f"{s.name[-28:]:>30s}" for s in sites))
    for k in keys:
        print(f"{k:16s}" + "".join(
            f"{statistics.median(got[s][k]):20.2f} ({min(got[s][k]):.2f}-{max(got[s][k]):.2f})"
            for s in sites))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
