"""Accessibility: 0 axe-core violations (WCAG 2.0/2.1 A and AA) on the static export and the
desktop server, in the states a user reaches (issue 9, item 6; docs/design.md).

Each check selects a layer, opens every `<details>`, and runs with quiz mode off and on; on
the server the editor (every kind of form field, both collapsible cards, an error message)
and the feature maps are on screen. A canary shows that the scan reaches into the shadow
roots where Bokeh renders everything, so a pass means something. Also: the same checks at
360 px (no sideways page scrolling), the contrast of the step-through drawing's SVG numbers
(beyond axe), and the editor by keyboard without the spinner arrows that were hidden for axe.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from a11y_support import axe_violations, check_quiz_off_and_on, contrast, describe, expand_editor_cards, select
from e2e_support import card, expected_total, show_feature_maps, total_cell, wait_ready
from explorer.spec import default_network, from_json

pytestmark = pytest.mark.e2e

# Each number of the step-through drawing with the fill of the cell under it (the <rect>
# drawn just before it); SVG text is beyond axe's colour-contrast rule.
STEP_TEXT_JS = """(el) => Array.from(el.querySelectorAll('.cnnx-step-view svg text')).map(t => [
    t.getAttribute('fill') || '#000000', t.previousElementSibling.getAttribute('fill'), t.textContent])"""


def test_axe_reaches_into_bokeh_shadow_roots(page: Page, static_url: str) -> None:
    """Canary: a nameless button put inside the details card (a Bokeh Div's shadow root) is
    reported, with a target that goes through the shadow root."""
    page.goto(static_url + "#layer=Conv2")
    wait_ready(page)
    expect(card(page).locator("h2")).to_have_text("Conv2")
    card(page).evaluate("el => el.appendChild(Object.assign(document.createElement('button'), "
                        "{id: 'cnnx-canary', type: 'button'}))")
    found = [v for v in axe_violations(page) if v["id"] == "button-name"]
    assert found, "axe did not see the nameless button inside the card's shadow root"
    assert "#cnnx-canary" in describe(found)
    targets = [n["target"] for v in found for n in v["nodes"] if "cnnx-canary" in n["html"]]
    assert targets and isinstance(targets[0][0], list) and len(targets[0][0]) > 1, \
        f"the canary's target does not go through a shadow root: {targets}"


def test_static_export_has_no_axe_violations(page: Page, static_url: str) -> None:
    page.goto(static_url + "#layer=Conv2")
    wait_ready(page)
    expect(card(page).locator("h2")).to_have_text("Conv2")
    check_quiz_off_and_on(page, "static export, Conv2 selected")


def test_step_through_numbers_have_aa_contrast(page: Page, static_url: str) -> None:
    """Padding cells, highlighted window and output cells, over the first steps of Conv1."""
    page.goto(static_url + "#layer=Conv1")
    wait_ready(page)
    card(page).locator("summary", has_text="Step through").click()
    seen = []
    for _ in range(3):
        expect(card(page).locator(".cnnx-step-view svg")).to_be_visible()
        seen += card(page).evaluate(STEP_TEXT_JS)
        page.get_by_role("button", name="Next step").click()
    assert {bg for _, bg, _ in seen} >= {"#ffd33d", "#f6f8fa", "#fff"}, "highlight, padding and input cells drawn"
    low = sorted({(round(contrast(fg, bg), 2), fg, bg) for fg, bg, _ in seen})[:3]
    assert low[0][0] >= 4.5, f"lowest text contrasts in the step-through drawing: {low}"


def test_desktop_server_has_no_axe_violations(page: Page, server_url: str) -> None:
    page.goto(server_url)
    wait_ready(page)
    select(page, "Conv2", live=True)
    show_feature_maps(page)
    expect(page.get_by_text("Conv2: 64 channels of 16×16")).to_be_visible()   # the feature maps
    expand_editor_cards(page)
    check_quiz_off_and_on(page, "desktop server, Conv2 selected, editor and feature maps shown")


PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize("delivery", ["static_url", "server_url"])
def test_a_phone_with_every_section_open(new_page, request: pytest.FixtureRequest, delivery: str) -> None:
    """360 px: no violation (a table that scrolls sideways must be reachable by keyboard) and
    no sideways scrolling of the page, with every section open."""
    url = request.getfixturevalue(delivery)
    live = delivery == "server_url"
    page = new_page(**PHONE)
    page.goto(url if live else url + "#layer=Conv2")
    wait_ready(page)
    select(page, "Conv2", live=live)
    if live:
        expand_editor_cards(page)
    check_quiz_off_and_on(page, f"{delivery} at 360 px, Conv2 selected", fits_width=True)


def test_every_kind_of_editor_field_and_the_error_message_pass_axe(page: Page, server_url: str) -> None:
    """Int fields (Input), float and bool fields (BN1), a bool on a linear layer (FC1), size
    text fields (Pool1), the notice for a broken link and the error for an invalid value."""
    page.goto(server_url + "#arch=!!!")
    wait_ready(page)
    expect(page.get_by_role("alert").filter(has_text="could not be loaded")).to_be_visible()
    found = []
    for name in ("Input", "BN1", "FC1", "Pool1"):
        select(page, name, live=name != "Input")
        if name == "Input":
            expect(page.get_by_label("channels", exact=True)).to_be_visible()
        found += [(name, v) for v in axe_violations(page)]
    select(page, "Conv1", live=True)
    field = page.get_by_label("out_channels", exact=True)
    field.fill("0")
    field.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="out_channels")).to_be_visible()
    found += [("Conv1 with an error", v) for v in axe_violations(page)]
    assert not found, "\n".join(f"[{where}] {describe([v])}" for where, v in found)


def test_editor_fields_work_by_keyboard(page: Page, server_url: str) -> None:
    """Number fields step with the arrow keys and have no extra (hidden) tab stops; the bias
    field toggles with Space; each change recomputes the network."""
    page.goto(server_url)
    wait_ready(page)
    select(page, "Conv1", live=True)
    expect(page.locator(".bk-spin-btn:visible")).to_have_count(0)
    field = page.get_by_label("out_channels", exact=True)
    field.focus()
    page.keyboard.press("ArrowDown")
    expect(field).to_have_value("31")
    data = default_network().to_json()
    conv1 = next(layer for layer in data["layers"] if layer.get("name") == "Conv1")
    conv1["out_channels"] = 31
    expect(total_cell(page)).to_contain_text(expected_total(from_json(data)))
    page.keyboard.press("Tab")                       # straight on to the next field
    expect(page.get_by_label("kernel_size", exact=True)).to_be_focused()

    bias = page.get_by_role("checkbox", name="bias")
    expect(bias).to_be_checked()
    with_bias = expected_total(from_json(data))
    bias.focus()
    page.keyboard.press("Space")
    expect(bias).not_to_be_checked()
    conv1["bias"] = False
    without_bias = expected_total(from_json(data))
    assert without_bias != with_bias
    expect(total_cell(page)).to_contain_text(without_bias)
