"""Orchestrate the site build: everything into a temporary folder next to --out, then one
rename, so --out is either the previous site or the complete new one (never half-written).
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from . import lock as lockmod
from . import page, pyc, wheels
from .errors import BuildError
from .npm_core import fetch_core, npm_lock
from .pins import (
    CACHE_DIR, CORE_FILES, PYODIDE_VERSION, PYODIDE_WHEELS, REQUIRED_COMPILED,
)
from .prerender import PANEL_CDN_ROOT

ASSETS = Path(__file__).parent / "assets"
PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_ENTRY = Path("explorer/app/entry.py")
MARKER = ".cnn-explorer-site"          # marks a folder this builder may replace


@dataclasses.dataclass
class Options:
    out: Path = Path("site")
    entry: Path = DEFAULT_ENTRY
    wheels_dir: Path | None = None
    base_url: str | None = None
    project: Path = PROJECT
    cache: Path = CACHE_DIR
    pyc: bool = True
    download: bool = True
    drop_unused_bokeh: bool = True


@dataclasses.dataclass
class Report:
    out: Path
    live: bool
    missing: list
    files: dict          # site-relative path -> bytes
    gzip: dict           # site-relative path -> gzip bytes
    components: dict     # component -> (bytes, gzip bytes)
    seconds: float
    notes: list

    @property
    def total(self) -> int:
        return sum(self.files.values())

    @property
    def total_gzip(self) -> int:
        return sum(self.gzip.values())


# ------------------------------------------------------------------ helpers

def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def _component(rel: str) -> str:
    if rel.startswith("pyodide/") and rel.endswith(".whl"):
        return "wheel " + rel.split("/", 1)[1].split("-", 1)[0]
    if rel.startswith("pyodide/"):
        return "pyodide core " + rel.split("/", 1)[1]
    if rel.startswith("static/js/"):
        return "BokehJS"
    if rel.startswith("panel/"):
        return "Panel JS/CSS"
    if rel.endswith(".html"):
        return "pages (prerendered)"
    return "loader, worker, service worker"


def _resolve_entry(opts: Options) -> Path:
    entry = opts.entry if opts.entry.is_absolute() else (opts.project / opts.entry)
    if not entry.is_file():
        raise BuildError(f"app script {entry} does not exist (use --entry PATH)")
    return entry


def _prerender(entry: Path, project: Path, work: Path, log) -> str:
    out = work / "prerender.json"
    env = dict(os.environ)
    env["PANEL_CDN_ROOT"] = PANEL_CDN_ROOT
    env["PYTHONPATH"] = os.pathsep.join([str(project), str(Path(__file__).resolve().parent.parent)]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    log(f"prerendering {entry}")
    proc = subprocess.run([sys.executable, "-m", "pyodide_build.prerender", str(entry), str(out)],
                          cwd=str(project), env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"running {entry} to prerender the page failed:\n"
                         + proc.stderr.strip()[-2000:])
    return json.loads(out.read_text(encoding="utf-8"))["html"]


# ------------------------------------------------------------------ wheels

def _collect_wheels(opts: Options, nlock: dict, work: Path, log):
    """Verified source wheels: [(path, source)], whether live is possible, missing list."""
    sources: list[tuple[Path, str]] = []
    found, missing = wheels.resolve_pyodide(PYODIDE_WHEELS, nlock, opts.wheels_dir, opts.cache,
                                            download=opts.download, log=log)
    required_missing = [m for m in missing if m.name in REQUIRED_COMPILED]
    live = not required_missing
    if not live:
        return [], False, missing
    for name in PYODIDE_WHEELS:
        if name in found:
            sources.append((found[name], "pyodide"))
        else:
            version = nlock["packages"][name]["version"]
            sources.append((wheels.build_pure_fallback(name, version, work / "fallback", log),
                            "pypi-build"))
    sources += [(p, "pypi") for p in wheels.fetch_pypi(opts.cache, log)]
    sources.append((wheels.build_checkout_wheel(opts.project, work / "checkout", log), "checkout"))
    return sources, True, missing


def _rewrite_wheels(sources, core: Path, dest: Path, work: Path, opts: Options, log) -> list:
    trees = work / "trees"
    trees.mkdir()
    jobs = []
    staged = []
    for path, source in sources:
        name, version, imports, requires = wheels.wheel_metadata(path)
        tree = trees / path.name
        wheels.unpack(path, tree)
        removed = wheels.strip(tree, wheels.slim_prefixes(name))
        if name == "numpy":
            removed += wheels.strip(tree, wheels.NUMPY_STRIP_PREFIXES, wheels.NUMPY_STRIP_SUFFIXES)
        if removed > 100_000:
            log(f"slimmed {path.name}: -{removed / 1e6:.1f} MB")
        # the explorer keeps its sources (readable tracebacks); the rest ships bytecode only
        keep_source = source == "checkout"
        jobs.append((tree, not keep_source, pyc.SITE_PACKAGES))
        staged.append((tree, path, source, name, version, imports, requires))
    if opts.pyc:
        pyc.compile_trees(core, jobs, log)
    out = []
    for tree, path, source, name, version, imports, requires in staged:
        shipped = wheels.pack(tree, dest / path.name)
        out.append(wheels.Wheel(name=name, version=version, path=shipped, source=source,
                                imports=imports, requires=requires))
    return out


def _stdlib(core: Path, dest: Path, work: Path, opts: Options, log) -> None:
    src = core / "python_stdlib.zip"
    if not opts.pyc:
        shutil.copyfile(src, dest)
        return
    tree = work / "stdlib"
    with zipfile.ZipFile(src) as z:
        z.extractall(tree)
    pyc.compile_trees(core, [(tree, True, pyc.STDLIB_SHOWN)], log)
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for rel in files:
            info = zipfile.ZipInfo(rel, wheels.ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, (tree / rel).read_bytes(), compresslevel=9)


# ------------------------------------------------------------------ main

def build(opts: Options, log=print) -> Report:
    t0 = time.perf_counter()
    out = Path(opts.out).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise BuildError(f"{out} exists and is not a site built by pyodide_build; "
                         "choose another --out or remove it")
    entry = _resolve_entry(opts)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    work = Path(tempfile.mkdtemp(prefix="pyodide-build-"))
    notes: list[str] = []
    try:
        site = tmp
        (site / MARKER).write_text(f"built by pyodide_build for Pyodide {PYODIDE_VERSION}\n")
        core = fetch_core(opts.cache, log)
        nlock = npm_lock(core)
        sources, live, missing = _collect_wheels(opts, nlock, work, log)
        reason = None
        if not live:
            names = ", ".join(m.file_name for m in missing if m.name in REQUIRED_COMPILED)
            reason = ("this build has no numpy for Pyodide (" + names + "); the explorer "
                      "works as a static page.")
            for m in missing:
                notes.append("MISSING " + m.advice())
            notes.append("The site's live tier is not available offline: rebuild with "
                         "--wheels DIR holding the wheel(s) above (official Pyodide "
                         f"{PYODIDE_VERSION} builds), or put them in {opts.cache}.")
        pyo = site / "pyodide"
        vendored: list[wheels.Wheel] = []
        if live:
            pyo.mkdir()
            for name in CORE_FILES:
                if name == "python_stdlib.zip":
                    _stdlib(core, pyo / name, work, opts, log)
                else:
                    shutil.copyfile(core / name, pyo / name)
            vendored = _rewrite_wheels(sources, core, pyo, work, opts, log)
            lockmod.write_lock(lockmod.site_lock(vendored, nlock), pyo / "pyodide-lock.json")

        raw = _prerender(entry, opts.project, work, log)
        bundles = page.bokeh_bundles(raw)
        drop = ()
        if opts.drop_unused_bokeh and '"output_backend":"webgl"' not in raw:
            drop = ("bokeh-gl",)
            bundles = [b for b in bundles if b[0] not in drop]
        pages = {
            "index.html": page.rewrite(raw, embed=False, live=live, reason=reason,
                                       base_url=opts.base_url, drop_bundles=drop),
            "embed.html": page.rewrite(raw, embed=True, live=live, reason=reason,
                                       base_url=opts.base_url, drop_bundles=drop),
        }
        for name, text in pages.items():
            (site / name).write_text(text, encoding="utf-8")
        import bokeh
        import panel
        page.copy_panel_assets(site, list(pages.values()), Path(panel.__file__).parent / "dist",
                               Path(bokeh.__file__).parent / "server" / "static" / "js", bundles)
        (site / "assets").mkdir()
        for name in ("loader.js", "site.css"):
            shutil.copyfile(ASSETS / name, site / "assets" / name)
        if live:
            _write_worker(site, vendored, entry)
        _write_service_worker(site)
        _check_references(site, pages)

        files = {p.relative_to(site).as_posix(): p.stat().st_size
                 for p in sorted(site.rglob("*")) if p.is_file() and p.name != MARKER}
        gz = {rel: _gzip_size(site / rel) for rel in files}
        components: dict[str, list[int]] = {}
        for rel, size in files.items():
            c = components.setdefault(_component(rel), [0, 0])
            c[0] += size
            c[1] += gz[rel]
        # publish: one rename (the old site, if any, is removed afterwards)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        tmp.rename(out)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return Report(out=out, live=live, missing=missing, files=files, gzip=gz,
                      components={k: tuple(v) for k, v in components.items()},
                      seconds=time.perf_counter() - t0, notes=notes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_worker(site: Path, vendored: list, entry: Path) -> None:
    pyo = site / "pyodide"
    sizes = {name: (pyo / name).stat().st_size
             for name in ("pyodide.asm.wasm", "python_stdlib.zip", "pyodide.asm.js",
                          "pyodide-lock.json")}
    for w in vendored:
        sizes[w.file_name] = w.path.stat().st_size
    names = {w.name for w in vendored}
    imports = [{"name": "numpy", "label": "numpy\u2026", "from": 55, "to": 62,
                "code": "import numpy"}]
    imports.append({"name": "panel", "label": "Panel\u2026", "from": 62, "to": 85,
                    "code": "import panel"})
    config = {
        "pyodide": "../pyodide/",
        "packages": sorted(names),
        "sizes": sizes,
        "env": {"PANEL_CDN_ROOT": PANEL_CDN_ROOT},
        "imports": imports,
        "appLabel": "explorer\u2026",
        "appFrom": 85,
        "appTo": 95,
        "entry": {"name": entry.name, "source": entry.read_text(encoding="utf-8")},
    }
    text = (ASSETS / "worker.js").read_text(encoding="utf-8")
    placeholder = "/*@CONFIG@*/ null"
    if placeholder not in text:
        raise BuildError("internal: worker.js has no CONFIG placeholder")
    blob = json.dumps(config, indent=None, separators=(",", ":"))
    (site / "assets" / "worker.js").write_text(text.replace(placeholder, blob), encoding="utf-8")


def _write_service_worker(site: Path) -> None:
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                   if p.is_file() and p.name != MARKER and p.name != "sw.js")
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.encode() + b"\0" + (site / rel).read_bytes())
    text = (ASSETS / "sw.js").read_text(encoding="utf-8")
    text = text.replace("@VERSION@", h.hexdigest()[:16])
    text = text.replace("/*@FILES@*/ []", json.dumps(files, indent=1))
    (site / "sw.js").write_text(text, encoding="utf-8")


def _check_references(site: Path, pages: dict) -> None:
    missing = []
    for name, text in pages.items():
        for ref in page.referenced(text):
            if not (site / ref).is_file():
                missing.append(f"{name} -> {ref}")
    if missing:
        raise BuildError("the built pages reference files that are not in the site:\n  "
                         + "\n  ".join(sorted(missing)))
