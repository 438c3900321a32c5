"""python -m pyodide_build [--out site] [--wheels DIR] [--base-url PATH] [--entry SCRIPT]

Builds the offline Pyodide site. Exit status 0 on success (also when the numpy wheel is
missing: the site then works in its static tier, and the missing files are listed), 2 on a
problem the user can fix (message on stderr, nothing written to --out).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import DEFAULT_ENTRY, PROJECT, Options, build
from .errors import BuildError
from .pins import CACHE_DIR


def _mb(n: int) -> str:
    return f"{n / 1e6:6.2f} MB"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like every other error of the build."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (python -m pyodide_build --help lists the options)\n")


def _check_paths(args: argparse.Namespace) -> str | None:
    """A one-line message for an option naming a path that cannot work, else None."""
    if args.wheels is not None and not args.wheels.is_dir():
        return f"--wheels {args.wheels}: no such folder (give the folder holding the Pyodide wheels)"
    if args.out.exists() and not args.out.is_dir():
        return f"--out {args.out}: is a file, not a folder (choose a folder for the site)"
    if args.cache.exists() and not args.cache.is_dir():
        return f"--cache {args.cache}: is a file, not a folder"
    if not (args.project / "explorer").is_dir():
        return f"--project {args.project}: has no explorer/ package (give the checkout's folder)"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m pyodide_build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    ap.add_argument("--wheels", type=Path, default=None, metavar="DIR",
                    help="folder with official Pyodide wheels (numpy, …); looked at before "
                         f"the cache {CACHE_DIR}")
    ap.add_argument("--base-url", default=None, metavar="PATH",
                    help="optional <base href> for the pages (all URLs are relative without it)")
    ap.add_argument("--entry", type=Path, default=DEFAULT_ENTRY, metavar="SCRIPT",
                    help=f"the app script (default: {DEFAULT_ENTRY}, relative to the project)")
    ap.add_argument("--project", type=Path, default=PROJECT, metavar="DIR",
                    help="the checkout the explorer wheel is built from")
    ap.add_argument("--cache", type=Path, default=CACHE_DIR, metavar="DIR",
                    help="download cache (npm core, PyPI wheels, official Pyodide wheels)")
    ap.add_argument("--no-pyc", dest="pyc", action="store_false",
                    help="ship sources instead of bytecode compiled for Python 3.13")
    ap.add_argument("--no-download", dest="download", action="store_false",
                    help="never fetch official Pyodide wheels from the internet")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    problem = _check_paths(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    log = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, flush=True))
    opts = Options(out=args.out, entry=args.entry, wheels_dir=args.wheels,
                   base_url=args.base_url, project=args.project.resolve(), cache=args.cache,
                   pyc=args.pyc, download=args.download)
    try:
        report = build(opts, log=log)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        # a folder that cannot be created or written (--out, --cache), a full disk, …
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e} (check the folder exists and is writable)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    for note in report.notes:
        print(note, file=sys.stderr)
    if not args.quiet:
        print(f"\nsite: {report.out}  ({'live + static tiers' if report.live else 'STATIC TIER ONLY'})")
        print(f"{'component':38} {'on disk':>10} {'gzip':>10}")
        for comp, (size, gz) in sorted(report.components.items(), key=lambda kv: -kv[1][0]):
            print(f"{comp:38} {_mb(size):>10} {_mb(gz):>10}")
        print(f"{'TOTAL':38} {_mb(report.total):>10} {_mb(report.total_gzip):>10}"
              f"   (budget 20 MB / 10 MB gzip)")
        print(f"built in {report.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
