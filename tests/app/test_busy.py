"""run_soon (explorer/app/busy.py): where a long update waits for its busy message to go out.

In Pyodide, Panel gives the document a mock session context; the update must still wait on
asyncio there, since Bokeh's timeout callbacks need server modules the site does not ship
(the live site failed to load a ResNet-18 from a link: tests/site/test_site_graph.py).
"""
from __future__ import annotations

import asyncio
import sys

import panel as pn
import pytest
from bokeh.document import Document
from panel.io.document import MockSessionContext
from panel.io.state import set_curdoc

from explorer.app.busy import run_soon


def _doc_with_session() -> Document:
    doc = Document()
    doc._session_context = lambda: MockSessionContext(document=doc)   # as panel.io.pyodide does
    assert doc.session_context is not None
    return doc


def test_in_pyodide_the_update_waits_on_asyncio_even_with_a_session_context(monkeypatch) -> None:
    doc = _doc_with_session()
    monkeypatch.setattr(doc, "add_timeout_callback",
                        lambda *_a: pytest.fail("Bokeh's server callbacks are not in the site"))
    ran: list = []
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        with set_curdoc(doc):
            monkeypatch.setattr(sys, "platform", "emscripten")
            try:
                assert run_soon(lambda: ran.append(pn.state.curdoc)) is True
            finally:
                monkeypatch.undo()
        assert ran == []                                   # not now: after the message went out
        loop.run_until_complete(asyncio.sleep(0.1))
        assert ran == [doc]                                # later, with the page's document current
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_on_the_panel_server_the_update_waits_on_a_timeout_callback(monkeypatch) -> None:
    doc = _doc_with_session()
    calls: list = []
    monkeypatch.setattr(doc, "add_timeout_callback", lambda cb, ms: calls.append((cb, ms)))
    callback = lambda: None   # noqa: E731
    with set_curdoc(doc):
        assert run_soon(callback) is True
    assert calls == [(callback, 200)]


def test_without_a_loop_the_caller_runs_it_now() -> None:
    with set_curdoc(Document()):
        assert run_soon(lambda: None) is False
