"""Teaching features in the browser: feature maps (server), quiz and step-through (static)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e_support import card, deep_active, expected_layers, layer_button, show_feature_maps, wait_ready
from explorer.analysis import analyse
from explorer.spec import default_network
from explorer.stepper import stepper_data

pytestmark = pytest.mark.e2e

LAYERS = {layer.name: layer for layer in expected_layers()}
GRID_IMAGES = """() => {
  for (const doc of Bokeh.documents.slice().reverse()) {
    const fig = doc.get_model_by_name("cnnx-feature-grid");
    if (fig) return fig.renderers[0].data_source.data.image.length;
  }
  return null;
}"""


def test_feature_maps_of_conv2_for_a_chosen_image(page: Page, server_url: str) -> None:
    page.goto(server_url)
    wait_ready(page)
    layer_button(page, "Conv2").click()
    show_feature_maps(page)
    page.get_by_label("Sample image").select_option("Vertical stripes")
    expect(page.get_by_text("Conv2: 64 channels of 16×16")).to_be_visible()
    page.wait_for_function(f"({GRID_IMAGES})() === 64")
    layer_button(page, "Logits").click()
    expect(page.get_by_text("softmax probabilities")).to_be_visible()


def test_quiz_flow_by_keyboard_only(page: Page, static_url: str) -> None:
    page.goto(static_url + "#layer=Conv2")
    wait_ready(page)
    expect(card(page).locator("h2")).to_have_text("Conv2")
    # Tab to the layer buttons (one tab stop: the selected one), then on to the quiz switch.
    for _ in range(40):
        page.keyboard.press("Tab")
        active = deep_active(page)
        if active and active.get("text") == "Quiz mode":
            break
    else:
        pytest.fail("Quiz mode is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(card(page)).to_contain_text("predict, then check")
    conv2 = LAYERS["Conv2"]
    page.keyboard.press("Tab")                      # into the card: the shape field
    page.keyboard.type("64, 16, 16")
    page.keyboard.press("Tab")
    page.keyboard.type("18,000")                    # wrong on purpose
    page.keyboard.press("Enter")
    feedback = card(page).locator(".cnnx-feedback")
    expect(feedback).to_contain_text("Output shape: correct")
    expect(feedback).to_contain_text("Parameters: not quite")
    expect(card(page).locator(".cnnx-reveal")).to_contain_text(conv2.params)
    assert deep_active(page)["tag"] == "INPUT"      # Enter submitted; focus stays in the field
    page.keyboard.press("Control+a")
    page.keyboard.type(conv2.params)
    page.keyboard.press("Enter")
    expect(feedback).to_contain_text("Parameters: correct")


def test_step_through_shows_engine_arithmetic(page: Page, static_url: str) -> None:
    page.goto(static_url + "#layer=Conv1")
    wait_ready(page)
    card(page).locator("summary", has_text="Step through").click()
    toy = stepper_data(analyse(default_network()).record("Conv1"))
    assert toy is not None
    ow = len(toy["output"][0])
    for step in range(1, 4):
        page.get_by_role("button", name="Next step").click()
        r, c = divmod(step, ow)
        expect(card(page).locator(".cnnx-step-sum")).to_contain_text(f"out[{r}, {c}] = ")
        expect(card(page).locator(".cnnx-step-sum")).to_contain_text(f"= {int(toy['output'][r][c])}")


def test_live_page_fits_a_phone_with_feature_maps_shown(new_page, server_url: str) -> None:
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(server_url)
    wait_ready(page)
    layer_button(page, "Conv2").click()
    show_feature_maps(page)
    expect(page.get_by_text("Conv2: 64 channels of 16×16")).to_be_visible()
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"the page is {width} px wide on a {client} px screen"
