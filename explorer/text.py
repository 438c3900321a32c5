"""Rules for user-controlled text: escaping for HTML, refusing unsafe characters, bounding JSON.

One module so that every place where a network name, a layer name, imported text or an
error message that echoes input reaches HTML (or a terminal) goes through the same rules
(docs/design.md, "Untrusted text"). Pure functions, no Panel imports.
"""
from __future__ import annotations

import html as _html
import re
import unicodedata

MAX_JSON_CHARS = 200_000     # characters of architecture JSON
MAX_MODEL_TEXT = 200_000     # characters of pasted model text (explorer.importer), the same bound
MAX_JSON_DEPTH = 32          # the §2 JSON needs 4 levels ({ → layers [ → { → [h, w]); Python's parser recurses
MAX_NUMBER_DIGITS = 100      # sizes are at most 100,000; Python refuses integers over 4,300 digits anyway
MAX_NETWORK_NAME = 80        # characters of the network's name
MAX_LAYER_NAME = 100         # characters of a layer's name (torchvision module paths reach ~55)

# Characters that must never be part of a name: C0/C1 controls (NUL, ESC, newline…) and the
# invisible bidirectional marks, embeddings, overrides and isolates, which can reorder what
# the page (or a terminal) shows around the name.
_BIDI = {0x061C: "arabic letter mark", 0x200E: "left-to-right mark", 0x200F: "right-to-left mark",
         0x202A: "left-to-right embedding", 0x202B: "right-to-left embedding",
         0x202C: "pop directional formatting", 0x202D: "left-to-right override",
         0x202E: "right-to-left override", 0x2066: "left-to-right isolate", 0x2067: "right-to-left isolate",
         0x2068: "first strong isolate", 0x2069: "pop directional isolate",
         0x2028: "line separator", 0x2029: "paragraph separator"}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(chr(c) for c in _BIDI) + "]")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_DIGITS = re.compile(r"\d{%d,}" % (MAX_NUMBER_DIGITS + 1))
_BRACKETS = re.compile(r"[^\[\]{}]+")


def html(value: object) -> str:
    """`value` as HTML element text or a quoted attribute value: & < > " ' escaped."""
    return _html.escape(str(value), quote=True)


def char_name(ch: str) -> str:
    """"U+202E (right-to-left override)", "U+001B (escape)": how messages name a character."""
    code = ord(ch)
    if code in _BIDI:
        label = _BIDI[code]
    elif code == 0x1B:
        label = "escape"
    elif code == 0:
        label = "NUL"
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        label = "a control character"
    else:
        label = unicodedata.name(ch, "unnamed").lower()
    return f"U+{code:04X} ({label})"


def unsafe_char(text: str) -> str | None:
    """The first control or bidirectional-formatting character in `text`, or None."""
    match = _UNSAFE.search(text)
    return match.group(0) if match else None


def name_problem(value: object, *, limit: int) -> str | None:
    """Why `value` cannot be a name (network or layer), or None when it can.

    The reason reads after the field's name: "must be …", "is …", "contains …".
    """
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty string of at most {limit} characters"
    if not _encodable(value):
        return "must be valid Unicode text, but it contains a lone surrogate; retype the name"
    ch = unsafe_char(value)
    if ch is not None:
        return (f"contains {char_name(ch)} at position {value.index(ch) + 1}, which cannot be shown safely; "
                "remove it")
    if len(value.strip()) > limit:
        return f"is {len(value.strip())} characters long; use at most {limit} characters"
    return None


def printable(text: str) -> str:
    """`text` with control and bidirectional characters written as \\uXXXX (for messages and terminals)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def strip_bom(text: str) -> str:
    """Drop a leading UTF-8 byte-order mark (editors on Windows write one)."""
    return text[1:] if text.startswith("\ufeff") else text


def json_problem(text: str, what: str = "the architecture JSON") -> str | None:
    """A cheap scan BEFORE json.loads: too long, nested too deep, or a number too long to be a size.

    Python's parser recurses once per nesting level and refuses integers over 4,300 digits
    with an exception of its own; both are reported here first, in words, with the line.
    """
    if len(text) > MAX_JSON_CHARS:
        return (f"{what} is {len(text):,} characters long; at most {MAX_JSON_CHARS:,} are accepted "
                "(the JSON of a network of 1,000 layers fits)")
    outside = _STRING.sub('""', text)       # JSON strings cannot hold raw newlines: line numbers stay
    digits = _DIGITS.search(outside)
    if digits:
        line = outside.count("\n", 0, digits.start()) + 1
        return (f"{what} has a number of {len(digits.group(0)):,} digits at line {line}; "
                f"sizes are whole numbers of at most 100,000")
    depth = deepest = 0
    for ch in _BRACKETS.sub("", outside):
        depth += 1 if ch in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_JSON_DEPTH:
                return (f"{what} is nested more than {MAX_JSON_DEPTH} levels deep; an architecture needs 4 "
                        "({\"layers\": [{\"kernel_size\": [3, 3]}]})")
    return None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
