"""What the site ships is pinned in the repository: the npm core by sha512 and per-file
sha256, the PyPI stand-ins by sha256 (pip --require-hashes); a mismatch is an error naming
the file and both hashes. The build's command line answers user errors in one line, exit 2.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from site_helpers import PROJECT, STUB_APP

from pyodide_build import npm_core, wheels
from pyodide_build.errors import BuildError
from pyodide_build.pins import CACHE_DIR, CORE_SHA256, FALLBACK_PINS, PYODIDE_WHEELS

CORE = CACHE_DIR / "npm"


def needs_core():
    if not (CORE / npm_core.TARBALL).is_file():
        pytest.skip(f"the npm core is not cached in {CORE} (a site build fetches it)")


@pytest.fixture
def core_copy(tmp_path) -> Path:
    """A private cache holding a copy of the verified npm core."""
    needs_core()
    cache = tmp_path / "cache"
    shutil.copytree(CORE, cache / "npm")
    return cache


def test_the_cached_core_matches_the_pins(core_copy):
    package = npm_core.fetch_core(core_copy, log=lambda m: None)
    for name, digest in CORE_SHA256.items():
        assert hashlib.sha256((package / name).read_bytes()).hexdigest() == digest


def test_a_changed_core_file_is_named_with_both_hashes(core_copy, monkeypatch):
    monkeypatch.setattr(npm_core, "registry_integrity", lambda cache: None)
    target = core_copy / "npm" / "package" / "pyodide.asm.js"
    target.write_bytes(target.read_bytes() + b"\n;globalThis.evil = 1;\n")
    got = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(BuildError) as err:
        npm_core.fetch_core(core_copy, log=lambda m: None)
    msg = str(err.value)
    assert str(target) in msg and got in msg and CORE_SHA256["pyodide.asm.js"] in msg


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tmp_path, monkeypatch):
    """The registry answers with a different package: never trusted over the pin."""
    cache = tmp_path / "cache"

    def fake_npm(*args, cwd):
        if args[0] == "pack":
            (Path(cwd) / npm_core.TARBALL).write_bytes(b"not pyodide")
        return ""

    monkeypatch.setattr(npm_core, "_npm", fake_npm)
    monkeypatch.setattr(npm_core, "registry_integrity", lambda cache: None)
    with pytest.raises(BuildError, match="does not match the pinned sha512-"):
        npm_core.fetch_core(cache, log=lambda m: None)
    assert not (cache / "npm" / npm_core.TARBALL).exists()
    # a registry that disagrees with the pin stops the build before anything is fetched
    monkeypatch.setattr(npm_core, "registry_integrity", lambda cache: "sha512-AAAA")
    with pytest.raises(BuildError, match="registry's integrity .* sha512-AAAA"):
        npm_core.fetch_core(cache, log=lambda m: None)


def test_fallback_pins_cover_the_lock_versions():
    needs_core()
    lock = json.loads((CORE / "package" / "pyodide-lock.json").read_text())["packages"]
    for name in PYODIDE_WHEELS:
        if name == "numpy":
            continue
        assert FALLBACK_PINS[name][0] == lock[name]["version"], name


@pytest.mark.parametrize("name", ["jinja2", "pyyaml"])
def test_fallbacks_are_fetched_with_required_hashes(name, tmp_path, monkeypatch):
    version, kind, digest = FALLBACK_PINS[name]
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        req = Path(cmd[cmd.index("-r") + 1])
        seen["req"] = req.read_text()
        dest = Path(cmd[cmd.index("-d" if "-d" in cmd else "-w") + 1])
        (dest / f"{name}-{version}-py3-none-any.whl").write_bytes(b"a wheel")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(wheels.subprocess, "run", fake_run)
    if kind == "wheel":
        # pip checked the hash; the builder checks again what it ships
        with pytest.raises(BuildError, match=f"does not match the pinned {digest}"):
            wheels.build_pure_fallback(name, version, tmp_path / "out", log=lambda m: None)
    else:
        path = wheels.build_pure_fallback(name, version, tmp_path / "out", log=lambda m: None)
        assert path.name.startswith(f"{name}-{version}")
    assert "--require-hashes" in seen["cmd"]
    assert seen["req"].strip() == f"{name}=={version} --hash=sha256:{digest}"


def test_an_unpinned_fallback_version_is_an_error(tmp_path):
    with pytest.raises(BuildError, match=r"jinja2==9\.9: no pinned hash.*FALLBACK_PINS"):
        wheels.build_pure_fallback("jinja2", "9.9", tmp_path, log=lambda m: None)


@pytest.mark.parametrize("args, says", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--wheels", "/no/such/folder"], "--wheels /no/such/folder: no such folder"),
    (["--out", str(STUB_APP)], "is a file, not a folder"),
    (["--entry", "/no/such/app.py"], "app script /no/such/app.py does not exist"),
])
def test_cli_user_errors_are_one_line_exit_2(args, says, tmp_path):
    if "--out" not in args:
        args = args + ["--out", str(tmp_path / "site")]
    proc = subprocess.run([sys.executable, "-m", "pyodide_build", "-q", *args], cwd=PROJECT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], proc.stderr
    assert not (tmp_path / "site").exists()
