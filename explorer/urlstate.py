"""The URL fragment: `#layer=Conv2&arch=<base64url JSON>&hide=editor,code` (docs/design.md §3)."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from .spec import ArchitectureError, Network, from_json
from .text import json_problem, strip_bom

MAX_FRAGMENT = 64_000
HIDEABLE = ("header", "summary", "diagram", "legend", "nav", "quiz", "card", "table", "insights", "code", "editor", "features")


@dataclass(frozen=True)
class Fragment:
    """What a page link's #fragment asks for: a layer, a network, hidden parts."""
    layer: str | None = None
    arch: str | None = None
    hide: tuple[str, ...] = field(default=())


def parse_fragment(text: str) -> Fragment:
    """Split a location hash (with or without '#') into its options; unknown keys are ignored."""
    params = parse_qs(text.lstrip("#")[:MAX_FRAGMENT], keep_blank_values=True)
    first = {k: v[0] for k, v in params.items() if v}
    hide = tuple(p.strip() for p in first.get("hide", "").split(",") if p.strip() in HIDEABLE)
    return Fragment(first.get("layer") or None, first.get("arch") or None, hide)


def make_fragment(layer: str | None = None, arch: str | None = None, hide: tuple[str, ...] = ()) -> str:
    items = [(k, v) for k, v in (("layer", layer), ("arch", arch), ("hide", ",".join(hide))) if v]
    return urlencode(items, safe=",")


def encode_arch(network: Network) -> str:
    """base64url (unpadded) of the compact §2 JSON."""
    raw = json.dumps(network.to_json(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_arch(text: str) -> Network:
    """Inverse of encode_arch; any corruption becomes an ArchitectureError saying so.

    Size, depth and number length are bounded before json.loads (explorer.text), so a
    hostile link (8,000 nested brackets) gets a message instead of reaching the parser.
    """
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        decoded = strip_bom(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ArchitectureError("the network in the URL (arch=…) is corrupted: it is not base64url-encoded "
                                "JSON; the default network is shown instead") from None
    problem = json_problem(decoded, "the network in the URL (arch=…)")
    if problem:
        raise ArchitectureError(problem)
    try:
        data = json.loads(decoded)
    except (ValueError, RecursionError):
        raise ArchitectureError("the network in the URL (arch=…) is corrupted: it is not base64url-encoded "
                                "JSON; the default network is shown instead") from None
    return from_json(data)
