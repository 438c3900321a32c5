"""Rules for user-controlled text (explorer/text.py): escaping, refused characters, bounded JSON."""
from __future__ import annotations

import base64
import json

import pytest

from explorer.spec import ArchitectureError, DEFAULT_JSON, loads
from explorer.text import (MAX_JSON_CHARS, MAX_JSON_DEPTH, html, json_problem, name_problem, printable,
                           strip_bom, unsafe_char)
from explorer.urlstate import decode_arch


def test_html_escapes_text_and_attribute_quotes() -> None:
    assert html('<img src=x onerror="a">\'&') == "&lt;img src=x onerror=&quot;a&quot;&gt;&#x27;&amp;"


@pytest.mark.parametrize("ch", ["\x00", "\x1b", "\n", "\t", "\x7f", "\x85", "\x9b", "\u202a", "\u202b", "\u202c",
                                "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
                                "\u061c"])
def test_control_and_bidi_characters_are_refused_in_names(ch: str) -> None:
    assert unsafe_char(f"ab{ch}c") == ch
    problem = name_problem(f"ab{ch}c", limit=40)
    assert problem is not None and f"U+{ord(ch):04X}" in problem and "position 3" in problem


@pytest.mark.parametrize("ok", ["Conv 1", "é ☃ 𝔁", "Свёртка", "卷积层", "a\u200db", "x-y_z.1"])
def test_ordinary_unicode_names_are_fine(ok: str) -> None:
    assert name_problem(ok, limit=40) is None


def test_printable_writes_unsafe_characters_as_escapes() -> None:
    assert printable("a\x1b[31mb\u202ec") == "a\\u001b[31mb\\u202ec"
    assert printable("plain ünïcode") == "plain ünïcode"


def test_strip_bom() -> None:
    assert strip_bom("\ufeff{}") == "{}" and strip_bom("{}") == "{}"


def test_json_bounds() -> None:
    assert json_problem(json.dumps(DEFAULT_JSON, indent=2)) is None
    assert "200,001 characters" in json_problem(" " * (MAX_JSON_CHARS + 1))
    assert f"more than {MAX_JSON_DEPTH} levels" in json_problem("[" * (MAX_JSON_DEPTH + 1))
    assert json_problem("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is None
    # brackets and digits inside strings do not count
    assert json_problem(json.dumps({"name": "[" * 500 + "9" * 500})) is None
    assert "line 3" in json_problem('{\n"a": 1,\n"b": ' + "7" * 4400 + "}")


def test_deep_nesting_never_reaches_the_parser() -> None:
    """8,000 levels (the issue's 11 KB link) and 60,000 levels: a message, not a RecursionError."""
    for depth in (8_000, 60_000):
        with pytest.raises(ArchitectureError, match="nested more than"):
            loads('{"layers": ' + "[" * depth + "]" * depth + "}")
        link = base64.urlsafe_b64encode(("[" * depth).encode()).decode().rstrip("=")
        with pytest.raises(ArchitectureError, match=r"network in the URL \(arch=…\) is nested more than"):
            decode_arch(link)


def test_a_4400_digit_integer_gets_a_clear_message() -> None:
    text = json.dumps(DEFAULT_JSON).replace('"channels": 3', '"channels": ' + "1" * 4400)
    with pytest.raises(ArchitectureError, match="number of 4,400 digits at line 1"):
        loads(text)


def test_a_byte_order_mark_is_accepted_everywhere() -> None:
    text = "\ufeff" + json.dumps(DEFAULT_JSON)
    assert loads(text).name == "CIFAR-10 CNN"
    link = base64.urlsafe_b64encode(text.encode("utf-8")).decode().rstrip("=")
    assert decode_arch(link).name == "CIFAR-10 CNN"
