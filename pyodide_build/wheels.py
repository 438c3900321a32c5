"""Collect every wheel the site vendors, verified, and rewrite them for the browser.

Sources:
- pure dependencies from PyPI, pinned by version and sha256 (`pins.PYPI_WHEELS`);
- the explorer wheel, built from the checkout;
- official Pyodide wheels (numpy, pyyaml, markupsafe, jinja2, packaging) from
  `--wheels DIR`, then the local cache, then `pins.OFFICIAL_WHEEL_BASE_URL`, each checked
  against the sha256 in the npm package's pyodide-lock.json.

Rewriting (`rewrite`): unpack, strip what the browser never imports (`pins.SLIM`), and
regenerate RECORD when repacking.
"""
from __future__ import annotations

import base64
import dataclasses
import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from .errors import BuildError
from .pins import (
    CACHE_DIR,
    FALLBACK_PINS,
    OFFICIAL_WHEEL_BASE_URL,
    PYODIDE_VERSION,
    PYPI_WHEELS,
    PYTHON_TAG,
    SLIM,
    SLIM_ANY,
)

ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # reproducible archives


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclasses.dataclass
class Wheel:
    """One wheel the site vendors."""

    name: str            # canonical project name (lock-file key)
    version: str
    path: Path           # the file as shipped (after rewrite)
    source: str          # pypi | pyodide | checkout | pypi-build
    imports: list[str] = dataclasses.field(default_factory=list)
    requires: list[str] = dataclasses.field(default_factory=list)  # canonical names

    @property
    def file_name(self) -> str:
        return self.path.name


def is_pure(wheel: Wheel) -> bool:
    """A wheel with no compiled code (tag `none-any`, no shared library inside): the page's
    worker unzips it itself instead of Pyodide's loadPackage (docs/design.md §5)."""
    if not wheel.file_name.endswith("-none-any.whl"):
        return False
    with zipfile.ZipFile(wheel.path) as z:
        return not any(n.endswith(".so") or ".so." in n for n in z.namelist())


def pure_entry(wheel: Wheel) -> dict[str, str]:
    """The worker's record of a pure wheel: lock name, file and its fetch integrity."""
    digest = base64.b64encode(bytes.fromhex(sha256(wheel.path))).decode()
    return {"name": wheel.name, "file": wheel.file_name, "integrity": f"sha256-{digest}"}


# --------------------------------------------------------------------------- metadata

def wheel_metadata(path: Path) -> tuple[str, str, list[str], list[str]]:
    """(name, version, top-level imports, unconditional requirements) of a wheel."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(z.read(meta_name).decode("utf-8"))
        tops: set[str] = set()
        for n in names:
            first = n.split("/", 1)[0]
            if first.endswith((".dist-info", ".data")):
                continue
            if "/" in n:
                tops.add(first)
            elif n.endswith((".py", ".pyc")):
                tops.add(n.rsplit(".", 1)[0])
            elif n.endswith(".so"):
                tops.add(n.split(".", 1)[0])
    requires = []
    for req in meta.get_all("Requires-Dist") or []:
        if ";" in req and "extra" in req.split(";", 1)[1]:
            continue
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)", req)
        if m:
            requires.append(canonical(m.group(1)))
    return canonical(meta["Name"]), meta["Version"], sorted(tops), requires


# --------------------------------------------------------------------------- PyPI

def _pypi_file(dest: Path, name: str, version: str) -> Path | None:
    stem = re.sub(r"[-.]+", "_", name).lower()
    for p in dest.glob("*.whl"):
        if p.name.lower().startswith(f"{stem}-{version}-") and p.name.endswith("-none-any.whl"):
            return p
    return None


def fetch_pypi(cache: Path = CACHE_DIR, log=print) -> list[Path]:
    """The pinned pure wheels from PyPI (pip download), cached, each verified by sha256."""
    dest = cache / "pypi"
    dest.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, (version, digest) in PYPI_WHEELS.items():
        p = _pypi_file(dest, name, version)
        if p is None or sha256(p) != digest:
            if p is not None:
                p.unlink()
            missing.append(f"{name}=={version} --hash=sha256:{digest}")
    if missing:
        log(f"pip download {len(missing)} pinned wheels from PyPI")
        with tempfile.TemporaryDirectory() as tmp:
            req = Path(tmp) / "requirements.txt"
            req.write_text("\n".join(missing) + "\n")
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
                   "--only-binary", ":all:", "--python-version", "3.13",
                   "--implementation", "py", "--abi", "none", "--platform", "any",
                   "--disable-pip-version-check", "-q", "-d", str(dest), "-r", str(req)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise BuildError("pip download of the pinned wheels failed:\n"
                                 + proc.stderr.strip()[-1500:])
    out = []
    for name, (version, digest) in PYPI_WHEELS.items():
        p = _pypi_file(dest, name, version)
        if p is None:
            raise BuildError(f"pip download did not produce {name}=={version}")
        got = sha256(p)
        if got != digest:
            raise BuildError(f"{p.name}: sha256 {got} does not match the pinned {digest}")
        out.append(p)
    return out


# --------------------------------------------------------------------------- checkout

def build_checkout_wheel(checkout: Path, out_dir: Path, log=print) -> Path:
    """`pip wheel --no-deps` of the project, from a copy so the checkout is not touched."""
    with tempfile.TemporaryDirectory(prefix="explorer-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for item in ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE",
                     "MANIFEST.in"):
            if (checkout / item).is_file():
                shutil.copy2(checkout / item, src / item)
        if not (src / "README.md").exists():
            (src / "README.md").write_text("CNN Architecture Explorer\n")
        if not (checkout / "explorer").is_dir():
            raise BuildError(f"{checkout} has no explorer/ package to build")
        shutil.copytree(checkout / "explorer", src / "explorer", ignore=ignore)
        out_dir.mkdir(parents=True, exist_ok=True)
        log("pip wheel --no-deps (the explorer, from the checkout)")
        base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                "--disable-pip-version-check", "-w", str(out_dir), str(src)]
        proc = subprocess.run(base[:5] + ["--no-build-isolation"] + base[5:],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            proc = subprocess.run(base, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError("building the explorer wheel failed:\n"
                             + proc.stderr.strip()[-1500:])
    wheels = sorted(out_dir.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise BuildError("pip wheel produced no wheel for the checkout")
    return wheels[-1]


# --------------------------------------------------------------------------- Pyodide wheels

@dataclasses.dataclass
class Missing:
    name: str
    file_name: str
    sha256: str
    tried: list[str]
    cache: Path = CACHE_DIR

    def advice(self) -> str:
        return (f"{self.file_name} (sha256 {self.sha256}) was not found; looked in: "
                + "; ".join(self.tried)
                + f". Supply it with --wheels DIR or put it in {self.cache}.")


def _download(url: str, dest: Path, timeout: float = 20.0) -> bool:
    part = dest.with_suffix(dest.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as f:
            shutil.copyfileobj(resp, f)
    except (urllib.error.URLError, OSError, ValueError):
        part.unlink(missing_ok=True)
        return False
    part.replace(dest)
    return True


def resolve_pyodide(names, npm_lock: dict, wheels_dir: Path | None, cache: Path = CACHE_DIR,
                    download: bool = True, log=print) -> tuple[dict[str, Path], list[Missing]]:
    """Find the official wheel of each lock-file package name; verify its sha256.

    A file whose sha256 differs from the npm lock is an error (BuildError naming the file
    and both hashes), wherever it came from; a file found nowhere is reported as Missing.
    """
    found: dict[str, Path] = {}
    missing: list[Missing] = []
    packages = npm_lock["packages"]
    for name in names:
        entry = packages[name]
        file_name, expected = entry["file_name"], entry["sha256"]
        candidates = []
        if wheels_dir is not None:
            candidates.append(Path(wheels_dir) / file_name)
        candidates.append(cache / file_name)
        tried = [str(c.parent) for c in candidates]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None and download:
            url = OFFICIAL_WHEEL_BASE_URL + file_name
            tried.append(url)
            cache.mkdir(parents=True, exist_ok=True)
            if _download(url, cache / file_name):
                log(f"downloaded {file_name}")
                path = cache / file_name
        if path is None:
            missing.append(Missing(name, file_name, expected, tried, cache))
            continue
        got = sha256(path)
        if got != expected:
            raise BuildError(
                f"{path}: sha256 {got} does not match {expected}, the sha256 of {file_name} "
                f"in pyodide@{PYODIDE_VERSION}'s pyodide-lock.json")
        found[name] = path
    return found, missing


def build_pure_fallback(name: str, version: str, out_dir: Path, log=print) -> Path:
    """A pure wheel for a Pyodide package that is not to be had (not numpy): pip fetches
    exactly the file pinned in `pins.FALLBACK_PINS` (--require-hashes), a py3-none-any wheel,
    or an sdist built here without its C accelerator (pyyaml, markupsafe)."""
    pin = FALLBACK_PINS.get(name)
    if pin is None or pin[0] != version:
        have = f"{pin[0]}" if pin else "none"
        raise BuildError(f"{name}=={version}: no pinned hash for a stand-in from PyPI (pinned: "
                         f"{have}); add its version and sha256 to FALLBACK_PINS in "
                         "pyodide_build/pins.py, or supply the official Pyodide wheel with "
                         "--wheels DIR")
    _, kind, digest = pin
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    spec = f"{name}=={version}"
    work = Path(tempfile.mkdtemp(prefix=f"fallback-{name}-", dir=out_dir))
    req = work / "requirements.txt"
    req.write_text(f"{spec} --hash=sha256:{digest}\n")
    if kind == "sdist":
        env.update(PYYAML_FORCE_LIBYAML="0", CC="false")
        # only the package itself from source (its build tools, e.g. Cython, as wheels);
        # CC=false makes the C accelerator fail to build, so setup.py falls back to pure
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-binary", name, "--no-deps",
               "--require-hashes", "--no-cache-dir", "-q", "-w", str(work), "-r", str(req)]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
               "--only-binary", ":all:", "--python-version", "3.13", "--implementation", "py",
               "--abi", "none", "--platform", "any", "-q", "-d", str(work), "-r", str(req)]
    log(f"{name}: official Pyodide wheel not available, using a pure build of {spec} "
        f"(pinned {kind} sha256 {digest})")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise BuildError(f"could not get a pure wheel for {spec}: {proc.stderr.strip()[-800:]}")
    stem = re.sub(r"[-.]+", "_", name).lower()
    for p in sorted(work.glob("*.whl")):
        if p.name.lower().startswith(stem + "-") and "-none-any" in p.name:
            if kind == "wheel" and sha256(p) != digest:
                raise BuildError(f"{p}: sha256 {sha256(p)} does not match the pinned {digest} "
                                 "(pyodide_build/pins.py FALLBACK_PINS)")
            return p
    raise BuildError(f"no pure wheel produced for {spec}")


# --------------------------------------------------------------------------- rewriting

def unpack(wheel: Path, dest: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve())):
                raise BuildError(f"{wheel.name}: unsafe path {info.filename}")
        z.extractall(dest)
    return dest


def module_name(rel: str) -> str | None:
    """The dotted module a tree-relative file provides (`a/b/__init__.py` -> `a.b`,
    `a/_c.cpython-313-wasm32-emscripten.so` -> `a._c`), or None for data files."""
    if not rel.endswith((".py", ".pyc", ".so")):
        return None
    parts = [p for p in rel.split("/") if p != "__pycache__"]
    parts[-1] = parts[-1].split(".", 1)[0]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None


def _delete_where(tree: Path, drop: Callable[[str], bool], removed_paths: list[str] | None) -> int:
    """Delete the files of `tree` whose '/'-separated relative path `drop` accepts, then the
    folders left empty. Returns bytes removed; appends the removed paths to `removed_paths`."""
    removed = 0
    for p in sorted(tree.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(tree).as_posix()
        if drop(rel):
            removed += p.stat().st_size
            p.unlink()
            if removed_paths is not None:
                removed_paths.append(rel)
    _remove_empty_dirs(tree)
    return removed


def strip(tree: Path, prefixes: tuple[str, ...], suffixes: tuple[str, ...] = (),
          removed_paths: list[str] | None = None) -> int:
    """Delete files under `prefixes` (tree-relative) or matching SLIM_ANY / `suffixes`,
    never the .dist-info. Returns bytes removed."""
    def drop(rel: str) -> bool:
        if rel.split("/", 1)[0].endswith(".dist-info"):
            return False
        return (rel.startswith(prefixes) or rel.endswith(suffixes)
                or any(("/" + rel).find(s) >= 0 if s.startswith("/") else rel.endswith(s)
                       for s in SLIM_ANY))
    return _delete_where(tree, drop, removed_paths)


def strip_stdlib(tree: Path, prefixes: tuple[str, ...], keep_encodings: tuple[str, ...],
                 removed_paths: list[str] | None = None) -> int:
    """Delete stdlib files under `prefixes` and the codecs not in `keep_encodings`."""
    def drop(rel: str) -> bool:
        if rel.startswith("encodings/") and rel.endswith(".py"):
            return rel[len("encodings/"):-3] not in keep_encodings
        return rel.startswith(prefixes)
    return _delete_where(tree, drop, removed_paths)


def _remove_empty_dirs(tree: Path) -> None:
    """Delete folders left empty by stripping, deepest first."""
    for d in sorted((d for d in tree.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
        if not any(d.iterdir()):
            d.rmdir()


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def pack(tree: Path, dest: Path) -> Path:
    """Zip `tree` as a wheel at `dest` with a regenerated RECORD (sorted, fixed dates)."""
    dist_info = [d for d in tree.iterdir() if d.name.endswith(".dist-info")]
    if len(dist_info) != 1:
        raise BuildError(f"{dest.name}: expected one .dist-info folder, found {len(dist_info)}")
    record_name = f"{dist_info[0].name}/RECORD"
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    files = [f for f in files if f != record_name]
    # dist-info last, as wheel tools write it
    files.sort(key=lambda f: (f.split("/", 1)[0].endswith(".dist-info"), f))
    lines = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for rel in files:
            data = (tree / rel).read_bytes()
            lines.append(f"{rel},{_record_hash(data)},{len(data)}")
            info = zipfile.ZipInfo(rel, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data, compresslevel=9)
        lines.append(f"{record_name},,")
        info = zipfile.ZipInfo(record_name, ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, "\n".join(lines) + "\n")
    return dest


def slim_prefixes(name: str) -> tuple[str, ...]:
    return SLIM.get(canonical(name).replace("-", "_"), ()) + SLIM.get(canonical(name), ())


NUMPY_STRIP_SUFFIXES = (".h", ".a", ".pxd", ".c", ".pyx")
NUMPY_STRIP_PREFIXES = ("numpy/f2py/", "numpy/_core/include/", "numpy/_core/lib/",
                        "numpy/random/lib/", "numpy/_pyinstaller/",
                        # legacy module nothing imports (numpy.linalg uses _umath_linalg);
                        # every .so costs a WebAssembly compile at install time
                        "numpy/linalg/lapack_lite.")


def is_platform_wheel(path: Path) -> bool:
    return f"-{PYTHON_TAG}-" in path.name or "pyodide_" in path.name
