"""Fetch the Pyodide core from the npm package and verify it.

`npm pack pyodide@0.29.3` into the cache; the tarball's sha512 must equal the registry's
`dist.integrity` (`npm view`). When the registry cannot be asked (offline rebuild), the
integrity recorded next to the cached tarball on the first verified fetch is used instead.
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
from .pins import CACHE_DIR, NPM_SPEC, PYODIDE_VERSION

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
    recorded = npm_dir / (TARBALL + ".integrity")
    expected = registry_integrity(npm_dir)
    if expected is None:
        if not recorded.exists():
            raise BuildError(f"cannot reach the npm registry to fetch {NPM_SPEC} "
                             "and no verified copy is cached")
        expected = recorded.read_text().strip()
        log(f"npm registry unreachable: verifying cached {TARBALL} against the integrity "
            "recorded when it was fetched")
    if not tarball.exists() or sri_sha512(tarball) != expected:
        tarball.unlink(missing_ok=True)
        log(f"npm pack {NPM_SPEC}")
        _npm("pack", NPM_SPEC, "--silent", cwd=npm_dir)
        if not tarball.exists():
            raise BuildError(f"npm pack {NPM_SPEC} did not produce {TARBALL}")
    got = sri_sha512(tarball)
    if got != expected:
        tarball.unlink(missing_ok=True)
        raise BuildError(f"{TARBALL}: integrity {got} does not match the registry's "
                         f"{expected}")
    recorded.write_text(expected + "\n")
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
    return package


def npm_lock(package: Path) -> dict:
    """The npm package's pyodide-lock.json: the reference sha256 of every official wheel."""
    return json.loads((package / "pyodide-lock.json").read_text())
