"""axe-core checks shared by tests/e2e/test_e2e_axe.py and tests/site/test_site_axe.py.

The goal (issue 9, item 6; docs/design.md): no violation of the WCAG 2.0/2.1 A and AA rules
on any delivery, in the states a user reaches: a layer selected, every `<details>` open,
quiz mode on and off, the editor and the feature maps shown. axe-core comes from the
`axe-playwright-python` package (bundled `axe.min.js`, injected into the page; no CDN) and
walks open shadow roots, where Bokeh and Panel render every model.
"""
from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from e2e_support import card, layer_button

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# Every <details> in the document and in every (nested) open shadow root.
OPEN_ALL_DETAILS_JS = """() => {
  let n = 0;
  const walk = (root) => {
    for (const d of root.querySelectorAll('details')) { d.open = true; n++; }
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  };
  walk(document);
  return n;
}"""

_AXE = Axe()


def open_all_details(page: Page) -> int:
    """Open every <details> element, shadow roots included; returns how many there are."""
    return page.evaluate(OPEN_ALL_DETAILS_JS)


def axe_violations(page: Page, tags: tuple[str, ...] = WCAG_TAGS) -> list[dict[str, Any]]:
    """axe-core's violations of the rules tagged `tags` on the page as it is now."""
    results = _AXE.run(page, options={"runOnly": {"type": "tag", "values": list(tags)},
                                      "resultTypes": ["violations"]})
    return results.response["violations"]


def _target(node: dict[str, Any]) -> str:
    """axe's target: a selector, or a list of selectors, one per shadow root on the way."""
    parts = node.get("target") or []
    return " >> ".join(" >> ".join(p) if isinstance(p, list) else str(p) for p in parts)


def describe(violations: list[dict[str, Any]]) -> str:
    """One block per violation: id, impact, rule summary, then each node's target and fix."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} [{len(v['nodes'])} node(s)]")
        for node in v["nodes"]:
            summary = " / ".join(s.strip() for s in (node.get("failureSummary") or "").splitlines() if s.strip())
            lines.append(f"    at {_target(node)}")
            lines.append(f"       {node.get('html', '')[:200]}")
            lines.append(f"       {summary[:400]}")
    return "\n".join(lines)


def assert_no_violations(page: Page, where: str) -> None:
    """Fail with every violation listed (and printed) when axe finds any."""
    violations = axe_violations(page)
    if violations:
        report = describe(violations)
        print(f"\naxe-core violations ({where}):\n{report}")
        raise AssertionError(f"{len(violations)} axe-core rule(s) violated ({where}):\n{report}")


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb (or #rgb) colours, from 1 to 21."""
    def luminance(colour: str) -> float:
        hex_ = colour.lstrip("#")
        hex_ = "".join(c * 2 for c in hex_) if len(hex_) == 3 else hex_
        channels = [int(hex_[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def quiz_button(page: Page):
    return page.get_by_role("button", name="Quiz mode", exact=True)


def set_quiz(page: Page, on: bool) -> None:
    """Switch quiz mode on or off with its toggle button and wait until the page says so."""
    button = quiz_button(page)
    want = "true" if on else "false"
    if button.get_attribute("aria-pressed") != want:
        button.click()
    expect(button).to_have_attribute("aria-pressed", want)


EDITOR_CARDS = {"Bring your own PyTorch model": "What print(model) shows, or an nn.Sequential(...) expression",
                "Architecture as JSON": "Architecture JSON"}


def select(page: Page, name: str, *, live: bool) -> None:
    """Select a layer with its button; on a live page wait for the server-built form too."""
    layer_button(page, name).click()
    expect(card(page).locator("h2")).to_have_text(name)
    if live:
        expect(page.get_by_role("heading", name=f"{name} (", exact=False)).to_be_visible()


def expand_editor_cards(page: Page) -> None:
    """Open the editor's collapsible cards (model import, JSON) so their fields are scanned."""
    for title, field in EDITOR_CARDS.items():
        if not page.get_by_label(field, exact=True).is_visible():
            page.get_by_role("button", name=title).click()
        expect(page.get_by_label(field, exact=True)).to_be_visible()


PAGE_WIDTH_JS = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def check_quiz_off_and_on(page: Page, where: str, *, fits_width: bool = False) -> None:
    """axe with quiz mode off, then on; every <details> opened before each scan. With
    `fits_width`, the page must not scroll sideways either (WCAG 1.4.10 reflow)."""
    for on in (False, True):
        state = f"{where}, quiz {'on' if on else 'off'}"
        set_quiz(page, on)
        if on:
            expect(card(page)).to_contain_text("predict, then check")
        else:
            expect(card(page)).not_to_contain_text("predict, then check")
        assert open_all_details(page) >= 2          # the budget and conventions sections at least
        if fits_width:
            width, client = page.evaluate(PAGE_WIDTH_JS)
            assert width <= client, f"{state}: the page is {width} px wide on a {client} px screen"
        assert_no_violations(page, state)
