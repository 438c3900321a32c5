"""Byte-compile unpacked wheels (and the stdlib zip) for Pyodide's CPython 3.13.

The builder's own Python may be another version, so the compiling is done by Pyodide itself,
run under Node from the verified npm package, with the work folder mounted through NODEFS.
Sourceless trees get `x.pyc` next to where `x.py` was (as Pyodide's own "pyc" distribution
ships them); trees that keep their sources get unchecked-hash `__pycache__` entries.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .errors import BuildError

NODE_SCRIPT = r"""
import { loadPyodide } from %(mjs)s;
const py = await loadPyodide({ indexURL: %(index)s, stdout: () => {}, stderr: (s) => console.error(s) });
py.FS.mkdirTree("/work");
py.FS.mount(py.FS.filesystems.NODEFS, { root: %(root)s }, "/work");
py.globals.set("JOBS", %(jobs)s);
const out = py.runPython(`
import json, os, py_compile, importlib.util
mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
report = {"compiled": 0, "failed": []}
for job in json.loads(JOBS):
    top = "/work/" + job["dir"]
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            if not f.endswith(".py"):
                continue
            src = os.path.join(root, f)
            rel = os.path.relpath(src, top)
            shown = job["shown"] + rel
            if job["sourceless"]:
                cfile = src + "c"
            else:
                cfile = importlib.util.cache_from_source(src)
            try:
                py_compile.compile(src, cfile=cfile, dfile=shown, doraise=True,
                                   invalidation_mode=mode)
            except py_compile.PyCompileError as e:
                report["failed"].append(shown)
                continue
            report["compiled"] += 1
            if job["sourceless"]:
                os.remove(src)
json.dumps(report)
`);
console.log(out);
"""

SITE_PACKAGES = "/lib/python3.13/site-packages/"
STDLIB_SHOWN = "/lib/python3.13/"  # where Pyodide 0.29 unpacks python_stdlib.zip


def node_available() -> bool:
    return shutil.which("node") is not None


def compile_trees(core: Path, jobs: list[tuple[Path, bool, str]], log=print) -> dict:
    """jobs: (tree, sourceless, path shown in tracebacks). All trees share one parent."""
    if not jobs:
        return {"compiled": 0, "failed": []}
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not installed (needed to byte-compile for Pyodide); "
                         "install Node.js 20 or build with --no-pyc")
    root = Path(jobs[0][0]).parent
    for tree, _, _ in jobs:
        if Path(tree).parent != root:
            raise BuildError("internal: compile trees must share one parent folder")
    payload = json.dumps([{"dir": Path(t).name, "sourceless": s, "shown": shown}
                          for t, s, shown in jobs])
    script = NODE_SCRIPT % {
        "mjs": json.dumps((core / "pyodide.mjs").as_uri()),
        "index": json.dumps(str(core) + "/"),
        "root": json.dumps(str(root)),
        "jobs": json.dumps(payload),
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pyc-") as tmp:
        path = Path(tmp) / "compile.mjs"
        path.write_text(script)
        proc = subprocess.run([node, str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError("byte-compiling with Pyodide under Node failed:\n"
                         + proc.stderr.strip()[-1500:])
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"byte-compiled {report['compiled']} modules for CPython 3.13 in "
        f"{time.perf_counter() - t0:.1f} s"
        + (f" ({len(report['failed'])} left as source)" if report["failed"] else ""))
    return report
