"""Every HTML-producing function, fed names that carry HTML/script payloads, writes them as
text: no payload's `<` ever appears unescaped (explorer/text.py; docs/design.md)."""
from __future__ import annotations

import re
from html import escape, unescape

import pytest

pn = pytest.importorskip("panel")

from explorer.analysis import analyse  # noqa: E402
from explorer.app import insights, quiz, viewmodel, views  # noqa: E402
from explorer.app.page import Explorer  # noqa: E402
from explorer.spec import from_json  # noqa: E402

from hostile import LAYER_PAYLOADS, NETWORK_NAME, hostile_json  # noqa: E402

PAYLOADS = [*LAYER_PAYLOADS, NETWORK_NAME]


@pytest.fixture(scope="module")
def analysis():
    return analyse(from_json(hostile_json()))


def assert_inert(html: str, where: str) -> None:
    """No payload appears raw; escaped, it reads back as the literal name."""
    assert not re.search(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", html, re.I), where
    for payload in PAYLOADS:
        if escape(payload) != payload:   # a payload of plain text (javascript:…) is harmless as text
            assert payload not in html, (where, payload)
    # No tag that the payloads would open, with their handlers, exists as markup.
    assert not re.search(r"<[a-zA-Z][^<>]*\b(onerror|onload|onmouseover|srcdoc)\s*=", html), where
    assert not re.search(r"<[a-zA-Z][^<>]*\bid=[\"']?pwned", html), where
    assert "<script>window" not in html and "<textarea" not in html, where


def html_of_every_view(analysis) -> dict[str, str]:
    out = {"nav": viewmodel.nav_html(analysis, 2), "table": viewmodel.table_html(analysis),
           "summary": viewmodel.summary_line(analysis), "legend": viewmodel.legend_html(viewmodel.diagram_model(analysis)),
           "budget": insights.budget_html(analysis), "conventions": insights.conventions_html(analysis),
           "code": views.code_html(analysis), "svg": views.diagram_svg(viewmodel.diagram_model(analysis))}
    for r in analysis.records:
        out[f"card {r.index}"] = viewmodel.card_html(r)
        out[f"quiz {r.index}"] = quiz.quiz_html(r)
        out[f"stepper {r.index}"] = viewmodel.stepper_html(r)
    return out


def test_every_html_function_escapes_the_names(analysis) -> None:
    pages = html_of_every_view(analysis)
    for where, html in pages.items():
        assert_inert(html, where)
    for r in analysis.records[1:]:
        assert r.name in unescape(pages[f"card {r.index}"]), r.name
        assert r.name in unescape(pages["nav"])
    assert NETWORK_NAME in unescape(pages["summary"])


def test_the_live_page_escapes_names_in_panes_editor_and_feature_captions() -> None:
    app = Explorer(live=True)
    assert app.apply_json(hostile_json()) is None
    assert app.editor is not None and app.show_features() is not None
    panes = {"summary": app.views.summary.text, "nav": app.views.nav.text, "table": app.views.table.text,
             "code": app.views.code.text, "insights": app.views.insights.text}
    for i, name in enumerate(app.views.source.data["name"]):
        app.select(name)
        panes[f"caption {i}"] = app.show_features().caption.object
        panes[f"form {i}"] = "".join(getattr(o, "object", "") or "" for o in app.editor.form.objects
                                     if isinstance(getattr(o, "object", None), str))
        assert name in unescape(re.sub(r"<[^>]+>", "", app.show_features().caption.object)) or i == 0
    # the receptive-field sentence after a tap, on the first conv layer
    record = app.analysis.records[1]
    app.show_features().show_layer(1)
    app.show_features().highlight(record, 0, 0)
    panes["caption after tap"] = app.show_features().caption.object
    for column in ("card", "quiz"):
        for i, html in enumerate(app.views.source.data[column]):
            panes[f"{column} {i}"] = html
    for where, html in panes.items():
        assert_inert(html, where)


def test_error_messages_that_echo_input_are_escaped() -> None:
    app = Explorer(live=True)
    bad = hostile_json()
    bad["layers"][0]["kernel_size"] = "<img src=x onerror=window.__pwned=1>"
    message = app.apply_json(bad)
    assert message is not None
    assert_inert(app.editor.error.object, "editor error")
    bad = hostile_json()
    bad["layers"][0]["<script>x</script>"] = 1
    assert app.apply_json(bad) is not None
    assert "<script>" not in app.editor.error.object
    app.load_fragment("arch=" + "PHNjcmlwdD54PC9zY3JpcHQ-")   # base64url of "<script>x</script>"
    assert "<script>" not in app.notice.object and app.notice.object
