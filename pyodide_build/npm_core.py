"""Fetch the Pyodide core from the npm package and verify it against pins in the repository.

`npm pack pyodide@0.29.3` into the cache (skipped when a cached tarball already matches);
the tarball's sha512 must equal `pins.NPM_INTEGRITY`, and the registry's `dist.integrity`,
when the registry answers, must agree with it. After extraction every file the build uses
(`pins.CORE_SHA256`: pyodide.js, pyodide.asm.js/.wasm, python_stdlib.zip, pyodide-lock.json)
is checked by sha256; a mismatch is an error naming the file and both hashes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from .errors import BuildError
from .pins import CACHE_DIR, CORE_SHA256, NPM_INTEGRITY, NPM_SPEC, PYODIDE_VERSION

TARBALL = f"pyodide-{PYODIDE_VERSION}.tgz"


def _npm(*args: str, cwd: Path) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is not installed; it is needed to fetch the Pyodide core "
                         f"({NPM_SPEC}). Install Node.js 20 with npm.")
    proc = subprocess.run([npm, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"npm {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def sri_sha512(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def registry_integrity(cache: Path) -> str | None:
    """`npm view pyodide@X dist.integrity`, or None if the registry cannot be reached."""
    try:
        out = _npm("view", NPM_SPEC, "dist.integrity", "--json", cwd=cache)
    except BuildError:
        return None
    try:
        value = json.loads(out)
    except json.JSONDecodeError:
        value = out.strip()
    return value if isinstance(value, str) and value.startswith("sha512-") else None


def fetch_core(cache: Path = CACHE_DIR, log=print) -> Path:
    """Return the directory of the verified, extracted npm package (`…/npm/package`)."""
    npm_dir = cache / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarball = npm_dir / TARBALL
    expected = NPM_INTEGRITY
    if not tarball.exists() or sri_sha512(tarball) != expected:
        tarball.unlink(missing_ok=True)
        registry = registry_integrity(npm_dir)
        if registry is not None and registry != expected:
            raise BuildError(f"the npm registry's integrity for {NPM_SPEC} is {registry}, but "
                             f"pyodide_build/pins.py pins {expected}; refusing to build")
        log(f"npm pack {NPM_SPEC}")
        _npm("pack", NPM_SPEC, "--silent", cwd=npm_dir)
        if not tarball.exists():
            raise BuildError(f"npm pack {NPM_SPEC} did not produce {TARBALL}")
    got = sri_sha512(tarball)
    if got != expected:
        tarball.unlink(missing_ok=True)
        raise BuildError(f"{TARBALL}: integrity {got} does not match the pinned {expected} "
                         "(pyodide_build/pins.py NPM_INTEGRITY)")
    package = npm_dir / "package"
    stamp = package / ".verified"
    if not (stamp.exists() and stamp.read_text().strip() == expected):
        shutil.rmtree(package, ignore_errors=True)
        with tarfile.open(tarball) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(npm_dir, filter="data")
            else:
                tar.extractall(npm_dir)
        stamp.write_text(expected + "\n")
    verify_core(package)
    return package


def verify_core(package: Path) -> None:
    """Every core file the build uses has its pinned sha256 (checked on every build: the
    extracted folder lives in a cache anyone can write to)."""
    for name, want in CORE_SHA256.items():
        path = package / name
        if not path.is_file():
            raise BuildError(f"{path} is missing from the extracted {NPM_SPEC} package; "
                             f"delete {package} to extract it again")
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != want:
            raise BuildError(f"{path}: sha256 {got} does not match the pinned {want} "
                             f"(pyodide_build/pins.py CORE_SHA256); delete {package} to "
                             "extract it again")


def npm_lock(package: Path) -> dict:
    """The npm package's pyodide-lock.json: the reference sha256 of every official wheel."""
    return json.loads((package / "pyodide-lock.json").read_text())
