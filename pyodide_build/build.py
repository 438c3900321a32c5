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
from . import adopt, page, pyc, trim, wheels
from .errors import BuildError
from .npm_core import fetch_core, npm_lock
from .pins import (
    CACHE_DIR,
    CORE_FILES,
    PYODIDE_VERSION,
    PYODIDE_WHEELS,
    PYPI_WHEELS,
    REQUIRED_COMPILED,
    SLIM_SUFFIXES,
    STDLIB_ENCODINGS_KEEP,
    STDLIB_STRIP,
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
    pyc_stdlib: bool = True        # stdlib start-up modules as bytecode too
    adopt: bool = True             # embed the worker's own document (pyodide_build/adopt.py)


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
                          cwd=str(project), env=env, capture_output=True, text=True, check=False)
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


def _stage(sources, core: Path, work: Path, log) -> tuple[list, Path, dict[str, str]]:
    """Unpack and slim every wheel and the stdlib into work/trees (one parent folder).
    Also returns the stripped modules: dotted name -> what stripped it (for _check_strip)."""
    trees = work / "trees"
    trees.mkdir()
    staged = []
    stripped: dict[str, str] = {}

    def note(paths: list[str], origin: str) -> None:
        for rel in paths:
            module = wheels.module_name(rel)
            if module:
                stripped[module] = origin

    for path, source in sources:
        name, version, imports, requires = wheels.wheel_metadata(path)
        tree = trees / path.name
        wheels.unpack(path, tree)
        paths: list[str] = []
        removed = wheels.strip(tree, wheels.slim_prefixes(name), SLIM_SUFFIXES.get(name, ()), paths)
        if name == "numpy":
            removed += wheels.strip(tree, wheels.NUMPY_STRIP_PREFIXES, wheels.NUMPY_STRIP_SUFFIXES,
                                    paths)
        note(paths, f"stripped from {path.name} by pins.SLIM")
        trim.apply(tree, name, version, log=log)     # lazy package __init__s (Panel)
        if removed > 100_000:
            log(f"slimmed {path.name}: -{removed / 1e6:.1f} MB")
        staged.append((tree, path, source, name, version, imports, requires))
    stdlib = trees / "python_stdlib"
    with zipfile.ZipFile(core / "python_stdlib.zip") as z:
        z.extractall(stdlib)
    paths = []
    removed = wheels.strip_stdlib(stdlib, STDLIB_STRIP, STDLIB_ENCODINGS_KEEP, paths)
    note(paths, "stripped from the stdlib by pins.STDLIB_STRIP")
    log(f"slimmed python_stdlib.zip: -{removed / 1e6:.1f} MB (uncompressed)")
    return staged, stdlib, stripped


def _check_strip(stripped: dict[str, str], report: dict) -> None:
    """Fail if the app (or its drill) imported, or tried to import, a stripped module."""
    profile = report["profile"]
    wanted = set(profile.get("not_found") or ())
    clashes = sorted(f"{m} ({stripped[m]})" for m in wanted if m in stripped)
    clashes += [f"{f} (stripped from the stdlib by pins.STDLIB_STRIP)"
                for f in report["stripped_but_imported"]]
    if clashes:
        raise BuildError("the app imports modules the builder strips for the browser: "
                         + "; ".join(clashes) + ". Take them out of pyodide_build/pins.py.")


def _compile(staged, stdlib: Path, core: Path, entry: Path, opts: Options, log) -> dict:
    jobs = []
    for tree, path, source, *_ in staged:
        if source == "checkout":
            # every explorer module as sourceless bytecode *with* docstrings and asserts
            # (a sourceless .pyc loads whatever -O level the page runs at): the app behaves
            # as on the desktop, and the site does not ship the sources twice (126 KB gzip)
            jobs.append(pyc.Job(tree, sourceless=True, shown=pyc.SITE_PACKAGES,
                                path_entry=True, select=False, optimize=0))
        else:
            jobs.append(pyc.Job(tree, sourceless=True, shown=pyc.SITE_PACKAGES,
                                path_entry=True, select=True, optimize=pyc.OPTIMIZE_RUNTIME))
    if opts.pyc_stdlib:
        jobs.append(pyc.Job(stdlib, sourceless=True, shown=pyc.STDLIB_SHOWN,
                            path_entry=False, select=True, optimize=pyc.OPTIMIZE_RUNTIME))
    return pyc.compile_trees(core, jobs, profile_entry=entry,
                            env=WORKER_ENV, log=log)


def _pack(staged, stdlib: Path, dest: Path) -> list:
    out = []
    for tree, path, source, name, version, imports, requires in staged:
        shipped = wheels.pack(tree, dest / path.name)
        out.append(wheels.Wheel(name=name, version=version, path=shipped, source=source,
                                imports=imports, requires=requires))
    files = sorted(p.relative_to(stdlib).as_posix() for p in stdlib.rglob("*") if p.is_file())
    with zipfile.ZipFile(dest / "python_stdlib.zip", "w", zipfile.ZIP_DEFLATED,
                         compresslevel=9) as z:
        for rel in files:
            info = zipfile.ZipInfo(rel, wheels.ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, (stdlib / rel).read_bytes(), compresslevel=9)
    return out


# ------------------------------------------------------------------ main

def build(opts: Options, log=print) -> Report:
    t0 = time.perf_counter()
    out = Path(opts.out).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise BuildError(f"{out} exists and is not a site built by pyodide_build; "
                         "choose another --out or remove it")
    entry = _resolve_entry(opts)
    _check_installed_versions()
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
            req = [m for m in missing if m.name in REQUIRED_COMPILED]
            names = ", ".join(m.file_name for m in req)
            what = ("no numpy for Pyodide" if any(m.name == "numpy" for m in req)
                    else "not every compiled Pyodide wheel it needs")
            reason = f"this build has {what} ({names}); the explorer works as a static page."
            for m in req:
                notes.append("MISSING " + m.advice())
            others = [m.file_name for m in missing if m not in req]
            if others:
                notes.append("also not found (pure builds from PyPI stand in for these): "
                             + ", ".join(others))
            notes.append("The site's live tier is not available offline: rebuild with "
                         "--wheels DIR holding the wheel(s) above (official Pyodide "
                         f"{PYODIDE_VERSION} builds), or put them in {opts.cache}.")
        pyo = site / "pyodide"
        vendored: list[wheels.Wheel] = []
        if live:
            pyo.mkdir()
            for name in CORE_FILES:
                if name != "python_stdlib.zip":
                    shutil.copyfile(core / name, pyo / name)
            staged, stdlib, stripped = _stage(sources, core, work, log)
            if opts.pyc:
                report = _compile(staged, stdlib, core, entry, opts, log)
                _check_strip(stripped, report)
                if report["profile"]["error"]:
                    # the live tier would fail the same way, and nothing has checked what
                    # was stripped: no site is better than a broken one
                    raise BuildError("the app failed when run in Pyodide at build time: "
                                     + report["profile"]["error"])
            vendored = _pack(staged, stdlib, pyo)
            lockmod.write_lock(lockmod.site_lock(vendored, nlock), pyo / "pyodide-lock.json")

        raw = _prerender(entry, opts.project, work, log)
        worker_config = None
        if live:
            worker_config = _worker_config(site, vendored, entry, opts.pyc)
            worker_config["adopt"] = None
            if opts.adopt:
                raw, worker_config["adopt"] = _adopt(raw, core, site, worker_config, log)
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
            _write_worker(site, worker_config)
        write_service_worker(site)
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


# The worker's environment (and the build's own Pyodide run, so that run sees what the page
# sees). Bokeh's "error diagnostics" check every on_change/on_event callback's signature with
# inspect.signature as it is registered (Panel registers one per synced property: about 220
# at start-up, ~7 % of building the page's models); the desktop tests keep the check on.
WORKER_ENV = {"PANEL_CDN_ROOT": PANEL_CDN_ROOT, "BOKEH_PERFORM_ERROR_DIAGNOSTICS": "false"}


# Bokeh 3.9 builds an inspect.Signature for every bokeh.models class as it is defined, only
# for introspection (IDEs, the docs): measured 25-30 % of `import panel` in Pyodide. The
# page's worker skips that (and the docs-only example links) before importing Panel;
# everything else Model.__init_subclass__ does (HasProps' property setup) still runs.
BOKEH_SPEEDUP = """
import bokeh
if bokeh.__version__ == "3.9.2":
    import bokeh.model.model as _cnn_bm
    def _cnn_init_subclass(cls):
        super(_cnn_bm.Model, cls).__init_subclass__()
    _cnn_bm.Model.__init_subclass__ = classmethod(_cnn_init_subclass)
    del _cnn_init_subclass
"""


def _check_installed_versions() -> None:
    """The page's BokehJS/Panel JS come from the installed packages and the prerender runs
    with them: they must be the versions of the wheels the live tier vendors."""
    from importlib.metadata import PackageNotFoundError, version
    for name in ("bokeh", "panel"):
        want = PYPI_WHEELS[name][0]
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != want:
            raise BuildError(f"the builder needs {name}=={want} installed (it prerenders the "
                             f"page and copies its JS from there), found {have}")


def _adopt(raw: str, core: Path, site: Path, worker_config: dict, log) -> tuple[str, dict | None]:
    """Put the worker's own default document into the prerendered page (pyodide_build/adopt.py).
    Returns the page and the worker's CONFIG.adopt; if the document cannot be built or
    embedded, the CPython prerender stays and the worker renders its document (None)."""
    t0 = time.perf_counter()
    try:
        doc = adopt.build_document(core, site, {**worker_config, "adopt": adopt.config(None)})
        raw = adopt.embed(raw, doc)
    except BuildError as e:
        log(f"WARNING: the page keeps the CPython prerender and the live tier renders its own "
            f"document: {e}")
        return raw, None
    log(f"built the live document in Pyodide under Node in {time.perf_counter() - t0:.1f} s "
        f"(fingerprint {doc.fingerprint[:12]}): the page adopts it")
    return raw, adopt.config(doc.fingerprint, adopt.links_adoptable(worker_config["entry"]["source"]))


def _worker_config(site: Path, vendored: list, entry: Path, pyc_enabled: bool) -> dict:
    pyo = site / "pyodide"
    sizes = {name: (pyo / name).stat().st_size
             for name in ("pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")}
    for w in vendored:
        sizes[w.file_name] = w.path.stat().st_size
    pure = [w for w in vendored if wheels.is_pure(w)]      # unzipped by the worker itself
    names = {w.name for w in vendored} - {w.name for w in pure}
    imports = [{"name": "numpy", "label": "numpy\u2026", "from": 55, "to": 62,
                "code": "import numpy"}]
    imports.append({"name": "panel", "label": "Panel\u2026", "from": 62, "to": 85,
                    "code": BOKEH_SPEEDUP + "\nimport panel"})
    config = {
        "pyodide": "../pyodide/",
        "packages": sorted(names),
        "pure": [wheels.pure_entry(w) for w in sorted(pure, key=lambda w: w.name)],
        "sizes": sizes,
        "env": WORKER_ENV,
        "args": pyc.INTERPRETER_ARGS if pyc_enabled else [],
        "imports": imports,
        "appLabel": "explorer\u2026",
        "appFrom": 85,
        "appTo": 95,
        "entry": {"name": entry.name, "source": entry.read_text(encoding="utf-8")},
    }
    return config


def _write_worker(site: Path, config: dict) -> None:
    text = (ASSETS / "worker.js").read_text(encoding="utf-8")
    placeholder = "/*@CONFIG@*/ null"
    if placeholder not in text:
        raise BuildError("internal: worker.js has no CONFIG placeholder")
    blob = json.dumps(config, indent=None, separators=(",", ":"))
    (site / "assets" / "worker.js").write_text(text.replace(placeholder, blob), encoding="utf-8")


def write_service_worker(site: Path) -> str:
    """Write sw.js with the manifest of `site` (every file but sw.js: path -> sha256) and the
    site version (a hash of the manifest). Returns the version. Rerun after changing a file
    of a built site (tests/site redeploys that way)."""
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                   if p.is_file() and p.name != MARKER and p.relative_to(site).as_posix() != "sw.js")
    manifest = {rel: wheels.sha256(site / rel) for rel in files}
    version = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]
    text = (ASSETS / "sw.js").read_text(encoding="utf-8")
    for placeholder in ("@VERSION@", "/*@FILES@*/ {}"):
        if placeholder not in text:
            raise BuildError(f"internal: sw.js has no {placeholder} placeholder")
    text = text.replace("@VERSION@", version)
    text = text.replace("/*@FILES@*/ {}", json.dumps(manifest, indent=1))
    (site / "sw.js").write_text(text, encoding="utf-8")
    return version


def _check_references(site: Path, pages: dict) -> None:
    missing = []
    for name, text in pages.items():
        for ref in page.referenced(text):
            if not (site / ref).is_file():
                missing.append(f"{name} -> {ref}")
    if missing:
        raise BuildError("the built pages reference files that are not in the site:\n  "
                         + "\n  ".join(sorted(missing)))
