"""The site's own pyodide-lock.json: exactly the vendored wheels, with their real sha256.

Same schema as the npm package's lock (Pyodide's `loadPackage` checks each download against
`sha256` through the fetch integrity option). `info` is copied from the npm lock so the
platform/ABI fields match the core. Written directly: the schema is five keys per package,
and the `pyodide-lock` package would add pydantic to the build for no gain.
"""
from __future__ import annotations

import json
from pathlib import Path

from .wheels import Wheel, canonical, sha256


def site_lock(wheels: list[Wheel], npm_lock: dict) -> dict:
    vendored = {w.name for w in wheels}
    packages = {}
    for w in sorted(wheels, key=lambda w: w.name):
        packages[w.name] = {
            "name": w.name,
            "version": w.version,
            "file_name": w.file_name,
            "install_dir": "site",
            "sha256": sha256(w.path),
            "package_type": "package",
            "imports": list(w.imports),
            # only what is vendored: declared dependencies that are not needed in the
            # browser (pandas, tornado, …) are left out on purpose (DESIGN §5)
            "depends": sorted({canonical(r) for r in w.requires} & (vendored - {w.name})),
            "unvendored_tests": False,
        }
    return {"info": dict(npm_lock["info"]), "packages": packages}


def write_lock(lock: dict, path: Path) -> Path:
    path.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    return path
