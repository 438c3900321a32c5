"""Command line: summary, code, serve, export (docs/design.md §3).

User errors exit 2 with one line on stderr; never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .analysis import Analysis, analyse, format_shape
from .codegen import module_source
from .spec import ArchitectureError, Network, default_network, loads
from .text import MAX_JSON_CHARS, printable, strip_bom


class UsageError(Exception):
    """A user error that is not about the architecture itself (e.g. an unreadable file)."""


def read_text(path: str, what: str = "architecture JSON") -> str:
    """The UTF-8 text of `path` (a byte-order mark is dropped); every failure is a UsageError
    naming the path and the fix."""
    file = Path(path)
    try:
        if file.is_dir():
            raise UsageError(f"{path}: is a folder; give the path of a {what} file")
        if file.stat().st_size > 4 * MAX_JSON_CHARS:
            raise UsageError(f"{path}: is {file.stat().st_size:,} bytes; a {what} file may have at most "
                             f"{MAX_JSON_CHARS:,} characters")
        return strip_bom(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; check the path") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied; make the file readable (chmod +r) or copy it") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc.__class__.__name__})") from None


def load_network(path: str | None) -> Network:
    """The network in `path`, or the default CIFAR-10 CNN when no path is given."""
    if path is None:
        return default_network()
    return loads(read_text(path))


def check_output(path: str) -> Path:
    """`path` as a file that can be written: its folder exists, it is not a folder itself,
    and we may write there. Checked before the (slow) export so errors come at once."""
    out = Path(path)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name, e.g. {out / 'explorer.html'}")
    if not folder.exists():
        raise UsageError(f"{path}: the folder {folder} does not exist; create it (mkdir -p {folder}) "
                         "or choose another path")
    if not folder.is_dir():
        raise UsageError(f"{path}: {folder} is a file, not a folder; choose another path")
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"{path}: permission denied; choose a path you can write to")
    return out


def table(analysis: Analysis) -> str:
    """The statistics table as plain text. Nested rows are indented by depth (torchinfo's depth
    view); a block's or merge's row shows the subtotal of what it contains, in parentheses."""
    head = ("#", "Layer", "Type", "Output shape", "Params", "MACs", "Activations")
    rows = []
    for r in analysis.records:
        kind = f"{r.type} ({r.layer.merge})" if r.type == "parallel" else r.type  # type: ignore[union-attr]
        if r.subtotal is not None:
            params, macs = f"({r.subtotal.params:,})", f"({r.subtotal.macs:,})"
        else:
            params, macs = f"{r.params:,}", f"{r.macs:,}"
        rows.append((str(r.index), "  " * r.depth + printable(r.name), kind, r.shape_text, params, macs,
                     f"{r.activation_bytes / 1024:,.1f} KiB"))
    rows.append(("", "Total", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}",
                 f"{analysis.total_activation_bytes / 1024:,.1f} KiB"))
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    right = {0, 4, 5, 6}

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))

    rule = "  ".join("-" * w for w in widths)
    lines = [printable(analysis.network.name), fmt(head), rule, *map(fmt, rows[:-1]), rule, fmt(rows[-1])]
    buffers = analysis.total_buffers
    lines.append(f"Trainable parameters: {analysis.trainable_params:,}"
                 + (f"; buffers (BatchNorm running statistics): {buffers:,}" if buffers else ""))
    if not analysis.network.is_flat:
        lines.append(f"Output shape: {format_shape(analysis.output_shape)}; (…) = subtotal of a block or "
                     "of a merge's branches, already counted in its layers")
    return "\n".join(line.rstrip() for line in lines)


def _summary(args: argparse.Namespace) -> int:
    analysis = analyse(load_network(args.arch))
    if args.format == "json":
        print(json.dumps(analysis.to_json(), indent=2, ensure_ascii=False))
    else:
        print(table(analysis))
    return 0


def _code(args: argparse.Namespace) -> int:
    sys.stdout.write(module_source(analyse(load_network(args.arch))))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .app.server import serve
    serve(port=args.port, show=args.show)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .app.export import export_html
    out = check_output(args.out)
    network = load_network(args.arch)
    analyse(network)  # reject invalid networks before any UI work
    try:
        size = export_html(out, network)
    except PermissionError:
        raise UsageError(f"{args.out}: permission denied; choose a path you can write to") from None
    except OSError as exc:
        raise UsageError(f"{args.out}: cannot write it ({exc.strerror or exc.__class__.__name__}); "
                         "choose another path") from None
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from .importer import import_model, parse_input_size
    text = read_text(args.model, "model text")
    network, notes = import_model(text, parse_input_size(args.input), name=Path(args.model).stem)
    analyse(network)
    for note in notes:  # what the print-out could not show and was assumed
        print(f"note: {printable(note)}", file=sys.stderr)
    print(network.dumps())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer",
                                     description="Explore a CNN: shapes, parameters, MACs and PyTorch code.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="per-layer statistics")
    p.add_argument("arch", nargs="?", help="architecture JSON (default: the CIFAR-10 CNN)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(run=_summary)
    p = sub.add_parser("code", help="a runnable PyTorch file for the network")
    p.add_argument("arch", nargs="?")
    p.set_defaults(run=_code)
    p = sub.add_parser("serve", help="the app on a local Panel server")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--show", action="store_true", help="open a browser tab")
    p.set_defaults(run=_serve)
    p = sub.add_parser("export", help="one static, offline HTML file")
    p.add_argument("out")
    p.add_argument("arch", nargs="?")
    p.set_defaults(run=_export)
    p = sub.add_parser("import", help="turn print(model) text into architecture JSON")
    p.add_argument("model")
    p.add_argument("--input", required=True, help="input size as CxHxW, e.g. 3x32x32")
    p.set_defaults(run=_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ArchitectureError, UsageError) as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
