"""Byte-compile the unpacked wheels and stdlib for Pyodide's CPython 3.13, guided by a
profile run of the app.

The builder's own Python may be another version, so the work is done by Pyodide itself, run
under Node from the verified npm package, with the build folder mounted through NODEFS.
One Node process:
1. puts the unpacked wheel trees on sys.path and runs the app script the way the page's
   worker does (init_doc, exec, write_doc), then the explorer's drill (every kind of user
   action once, explorer/app/drill.py): a build-time smoke test of the app in Pyodide, the
   list of modules it imports, and the imports no finder satisfied (the builder checks
   these against what it stripped from the wheels and the stdlib);
2. compiles those modules to sourceless `.pyc` (where `.py` was, like Pyodide's own "pyc"
   distribution; no column tables): import time in the browser is mostly compiling;
   modules never imported stay as source (bytecode is ~1.5x the size of source).
   Bytecode is -OO (no docstrings): the page runs Python with -OO (INTERPRETER_ARGS), since
   -OO bytecode under an interpreter without -OO breaks numpy's add_docstring.
   Trees that keep their sources (the explorer) get unchecked-hash __pycache__ entries.
If the profile run fails, every module is compiled and the failure is reported (the site
builder then stops: pyodide_build.build).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .errors import BuildError

SITE_PACKAGES = "/lib/python3.13/site-packages/"
# The page's interpreter runs as `python -OO` (no docstrings, no asserts: smaller bytecode,
# and every library sees the same flags it was compiled for). Sources kept in the site (the
# explorer) are precompiled under the -OO cache name but *with* their docstrings and asserts,
# so the app behaves exactly as on the desktop.
OPTIMIZE_RUNTIME = 2
NODE_TIMEOUT = 900
INTERPRETER_ARGS = ["-OO"]
STDLIB_SHOWN = "/lib/python313.zip/"       # where Pyodide 0.29 imports the stdlib from

NODE_SCRIPT = r"""
import { loadPyodide } from %(mjs)s;
globalThis.XMLHttpRequest ??= class XMLHttpRequest {};   // panel.io.pyodide imports it
const py = await loadPyodide({ indexURL: %(index)s, env: %(env)s, args: %(args)s,
                               stdout: () => {}, stderr: (s) => console.error(s) });
py.FS.mkdirTree("/work");
py.FS.mount(py.FS.filesystems.NODEFS, { root: %(root)s }, "/work");
py.globals.set("JOBS", %(jobs)s);
py.globals.set("PROFILE", %(profile)s);
let profile = { imported: null, not_found: [], drilled: [], error: null, seconds: 0 };
if (%(profile)s) {
  const t0 = Date.now();
  try {
    const out = await py.runPythonAsync(`
import json, sys
_jobs = json.loads(JOBS)
for _job in _jobs:
    if _job["path_entry"]:
        sys.path.insert(0, "/work/" + _job["dir"])
_p = json.loads(PROFILE)

# last on sys.meta_path: records every import no finder could satisfy (including the
# ones a library tries inside try/except ImportError)
class _NotFound:
    names = set()

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        cls.names.add(name)
        return None

sys.meta_path.append(_NotFound)
from panel.io.pyodide import init_doc, write_doc
init_doc()
_ns = {"__name__": "__main__", "__file__": _p["name"]}
exec(compile(_p["source"], _p["name"], "exec"), _ns)
await write_doc()
# then every kind of user action once, so that modules imported by interactions count too
_drilled = []
if "explorer.app.page" in sys.modules and isinstance(
        _ns.get("explorer"), sys.modules["explorer.app.page"].Explorer):
    from explorer.app.drill import drill
    _drilled = drill(_ns["explorer"])
json.dumps({"imported": sorted({m.__file__ for m in list(sys.modules.values())
                                if isinstance(getattr(m, "__file__", None), str)}),
            "not_found": sorted(_NotFound.names), "drilled": _drilled})
`);
    Object.assign(profile, JSON.parse(out));
  } catch (e) {
    const lines = String(e.message || e).trim().split("\n");
    const exc = lines.filter((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b/.test(l));
    profile.error = exc.length ? exc[exc.length - 1] : lines.slice(-3).join(" | ");
  }
  profile.seconds = (Date.now() - t0) / 1000;
}
py.globals.set("IMPORTED", JSON.stringify(profile.imported));
const report = py.runPython(`
import json, os, py_compile, importlib.util
mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
imported = json.loads(IMPORTED)
report = {"compiled": 0, "source": 0, "failed": [], "stripped_but_imported": []}
for job in json.loads(JOBS):
    top = "/work/" + job["dir"]
    # a module counts as imported if its file was loaded from this tree or, for the
    # stdlib, from the zip it mirrors
    wanted = None
    if imported is not None and job["select"]:
        prefixes = [top + "/", job["shown"]]
        wanted = set()
        for f in imported:
            for pre in prefixes:
                if f.startswith(pre):
                    wanted.add(f[len(pre):])
        if not job["path_entry"]:
            report["stripped_but_imported"] += sorted(
                job["shown"] + w for w in wanted if not os.path.exists(os.path.join(top, w)))
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            if not f.endswith(".py"):
                continue
            src = os.path.join(root, f)
            rel = os.path.relpath(src, top)
            if wanted is not None and rel not in wanted:
                report["source"] += 1
                continue
            cfile = (src + "c" if job["sourceless"] else
                     importlib.util.cache_from_source(src, optimization=job["cache_opt"]))
            level = 0 if rel.startswith(tuple(job["keep_docs"])) else job["optimize"]
            try:
                py_compile.compile(src, cfile=cfile, dfile=job["shown"] + rel, doraise=True,
                                   invalidation_mode=mode, optimize=level)
            except py_compile.PyCompileError:
                report["failed"].append(job["shown"] + rel)
                continue
            report["compiled"] += 1
            if job["sourceless"]:
                os.remove(src)
json.dumps(report)
`);
const result = JSON.parse(report);
result.profile = profile;
console.log(JSON.stringify(result));
"""


def node_available() -> bool:
    return shutil.which("node") is not None


class Job:
    """One tree to compile.

    sourceless: replace x.py by x.pyc (else keep x.py, add __pycache__/x.cpython-313.pyc)
    shown: the path prefix the files have in Pyodide (tracebacks, profile matching)
    path_entry: put the tree on sys.path for the profile run (wheels; not the stdlib)
    select: compile only the modules the profile run imported (others stay source)
    optimize: 0, 1 or 2 as python -O/-OO, except for paths starting with keep_docs
    """

    def __init__(self, tree: Path, *, sourceless: bool, shown: str, path_entry: bool,
                 select: bool, optimize: int = 0, keep_docs: tuple[str, ...] = ()):
        self.tree, self.sourceless, self.shown = Path(tree), sourceless, shown
        self.path_entry, self.select, self.optimize = path_entry, select, optimize
        self.keep_docs = keep_docs


def compile_trees(core: Path, jobs: list[Job], *, profile_entry: Path | None = None,
                  env: dict | None = None, log=print) -> dict:
    """Compile the trees (which must share one parent folder); returns the report with
    report["profile"] = {"imported": [files] | None, "not_found": [module names],
    "drilled": [drill steps], "error": str | None, "seconds": float}."""
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not installed (needed to byte-compile for Pyodide); "
                         "install Node.js 20 or build with --no-pyc")
    root = jobs[0].tree.parent
    if any(j.tree.parent != root for j in jobs):
        raise BuildError("internal: compile trees must share one parent folder")
    payload = json.dumps([{"dir": j.tree.name, "sourceless": j.sourceless, "shown": j.shown,
                           "path_entry": j.path_entry, "select": j.select,
                           "optimize": j.optimize, "keep_docs": list(j.keep_docs),
                           "cache_opt": {0: "", 1: 1, 2: 2}[OPTIMIZE_RUNTIME]}
                          for j in jobs])
    profile = None
    if profile_entry is not None:
        profile = json.dumps({"name": profile_entry.name,
                              "source": profile_entry.read_text(encoding="utf-8")})
    node_env = {"PYTHONNODEBUGRANGES": "1"}
    node_env.update(env or {})
    script = NODE_SCRIPT % {
        "mjs": json.dumps((core / "pyodide.mjs").as_uri()),
        "index": json.dumps(str(core) + "/"),
        "root": json.dumps(str(root)),
        "jobs": json.dumps(payload),
        "profile": json.dumps(profile),
        "env": json.dumps(node_env),
        "args": json.dumps(INTERPRETER_ARGS),
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pyc-") as tmp:
        path = Path(tmp) / "compile.mjs"
        path.write_text(script)
        try:
            proc = subprocess.run([node, str(path)], capture_output=True, text=True, check=False, cwd=tmp,
                                  timeout=NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BuildError(f"byte-compiling with Pyodide under Node took over {NODE_TIMEOUT} s "
                             "(does the app script wait for something?)") from None
    if proc.returncode != 0:
        raise BuildError("byte-compiling with Pyodide under Node failed:\n"
                         + proc.stderr.strip()[-1500:])
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    prof = report["profile"]
    if profile is not None:
        if prof["error"]:
            log(f"the app failed when run in Pyodide at build time ({prof['error']})")
        else:
            drilled = f" and {len(prof['drilled'])} drill steps" if prof["drilled"] else ""
            log(f"app{drilled} ran in Pyodide under Node in {prof['seconds']:.1f} s, importing "
                f"{len(prof['imported'])} modules")
    log(f"byte-compiled {report['compiled']} modules for CPython 3.13 "
        f"({report['source']} left as source) in {time.perf_counter() - t0:.1f} s"
        + (f"; {len(report['failed'])} could not be compiled" if report["failed"] else ""))
    return report
