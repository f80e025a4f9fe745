"""End to end in headless Chromium: the Relevance and Model-summary pages answer every slider and button."""

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.keys import Keys

from dashboard import ids

from .test_foundation_pages import choose_model, graph_titles, wait_for

pytestmark = pytest.mark.browser

SIGNATURE_JS = """
const g = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!g || !g._fullData || g._fullData.length <= arguments[1]) return null;
const t = g._fullData[arguments[1]];  // decoded arrays (g.data keeps the base64 specs)
let s = 0, n = 0;
const walk = (a) => { if (a == null) return; if (typeof a === 'number') { s += Math.abs(a) * (1 + (n++ % 7)); return; }
  for (let i = 0; i < a.length; i++) walk(a[i]); };
walk(t.z);
return JSON.stringify([s.toPrecision(8), t.opacity === undefined ? null : t.opacity,
                       (g.layout.annotations || []).map(a => a.text).join('|')]);
"""


def signature(duo, graph_id, trace):
    """A fingerprint of one drawn trace: a weighted sum of |z|, its opacity, and the panel titles."""
    return duo.driver.execute_script(SIGNATURE_JS, f"#{graph_id}", trace)


def nudge(duo, slider_id, key=Keys.ARROW_RIGHT, times=1):
    thumb = duo.find_element(f"#{slider_id} [role='slider']")
    for _ in range(times):
        thumb.send_keys(key)


def text(duo, component_id):
    return duo.find_element(f"#{component_id}").text


def changed(duo, fn, before):
    return wait_for(duo, lambda: (v := fn()) is not None and v != before and v)


def test_relevance_controls_update_figures_and_numbers(serve, tmp_path):
    duo = serve("/relevance")
    wait_for(duo, lambda: graph_titles(duo, ids.RELEVANCE_GRAPH))
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "σ = 1", timeout=20)
    r = signature(duo, ids.RELEVANCE_GRAPH, 3)

    nudge(duo, ids.RELEVANCE_SIGMA_SLIDER)  # sigma 1 -> 1.25
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "σ = 1.25")
    r = changed(duo, lambda: signature(duo, ids.RELEVANCE_GRAPH, 3), r)

    caption = text(duo, ids.RELEVANCE_CAPTION_TEXT)
    nudge(duo, ids.RELEVANCE_GAMMA_SLIDER, times=3)  # gamma 1 -> 1.3: the R panel and its title change
    r = changed(duo, lambda: signature(duo, ids.RELEVANCE_GRAPH, 3), r)
    wait_for(duo, lambda: "γ = 1.3" in (signature(duo, ids.RELEVANCE_GRAPH, 3) or ""))
    assert text(duo, ids.RELEVANCE_CAPTION_TEXT) == caption

    o = signature(duo, ids.RELEVANCE_OVERLAY_GRAPH, 1)
    nudge(duo, ids.RELEVANCE_OPACITY_SLIDER, Keys.ARROW_LEFT, times=2)
    changed(duo, lambda: signature(duo, ids.RELEVANCE_OVERLAY_GRAPH, 1), o)

    nudge(duo, ids.RELEVANCE_IMAGE_SLIDER)
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "image 1,")
    r = changed(duo, lambda: signature(duo, ids.RELEVANCE_GRAPH, 3), r)

    assert text(duo, ids.RELEVANCE_NUMBERS_TEXT) == ""
    duo.find_element(f"#{ids.RELEVANCE_NUMERIC_SWITCH} input").click()
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_NUMBERS_TEXT}", "first-order residual")
    numbers = text(duo, ids.RELEVANCE_NUMBERS_TEXT)

    duo.find_element(f"#{ids.RELEVANCE_SOFTMAX_SWITCH} input").click()
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "logit")
    changed(duo, lambda: text(duo, ids.RELEVANCE_NUMBERS_TEXT), numbers)
    r = changed(duo, lambda: signature(duo, ids.RELEVANCE_GRAPH, 3), r)

    duo.select_dcc_dropdown(f"#{ids.RELEVANCE_TARGET_DROPDOWN}", index=1)  # class 0
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "class 0")
    duo.select_dcc_dropdown(f"#{ids.RELEVANCE_FILTER_DROPDOWN}", index=2)
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "Nearest")
    changed(duo, lambda: signature(duo, ids.RELEVANCE_GRAPH, 3), r)

    png = tmp_path / "mine.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30), np.uint8)).save(png)
    duo.find_element(f"#{ids.RELEVANCE_UPLOAD} input[type='file']").send_keys(str(png))
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "uploaded image mine.png", timeout=20)

    choose_model(duo, "cifar5")
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "image 0,", timeout=30)
    duo.find_element(f"#{ids.RELEVANCE_CHANNEL_RADIO} input[value='1']").click()
    wait_for(duo, lambda: "[channel 1]" in (graph_titles(duo, ids.RELEVANCE_GRAPH) or ""))
    assert text(duo, ids.RELEVANCE_MESSAGE) == ""
    assert duo.get_logs() == []


def test_summary_buttons_and_sliders(serve):
    duo = serve("/summary")
    wait_for(duo, lambda: graph_titles(duo, ids.SUMMARY_GRAPH))
    duo.wait_for_contains_text(f"#{ids.SUMMARY_CAPTION_TEXT}", "Layer 1 of 3: conv1", timeout=20)
    for button, needle in ((ids.SUMMARY_ALL_BUTTON, "All layers"), (ids.SUMMARY_CONV_BUTTON, "Convolution layers"),
                           (ids.SUMMARY_DENSE_BUTTON, "Dense layers"), (ids.SUMMARY_OTHERS_BUTTON, "Other layers")):
        duo.find_element(f"#{button}").click()
        duo.wait_for_contains_text(f"#{ids.SUMMARY_TABLE}", needle)
    assert "flatten" in text(duo, ids.SUMMARY_TABLE) and "conv1" not in text(duo, ids.SUMMARY_TABLE)
    duo.find_element(f"#{ids.SUMMARY_CLEAR_BUTTON}").click()
    wait_for(duo, lambda: text(duo, ids.SUMMARY_TABLE) == "")

    sig = signature(duo, ids.SUMMARY_GRAPH, 5)
    nudge(duo, ids.SUMMARY_KERNEL_SLIDER)
    duo.wait_for_contains_text(f"#{ids.SUMMARY_CAPTION_TEXT}", "kernel 1 ·")
    sig = changed(duo, lambda: signature(duo, ids.SUMMARY_GRAPH, 5), sig)
    nudge(duo, ids.SUMMARY_IMAGE_SLIDER)
    duo.wait_for_contains_text(f"#{ids.SUMMARY_CAPTION_TEXT}", "image 1")
    sig = changed(duo, lambda: signature(duo, ids.SUMMARY_GRAPH, 5), sig)
    nudge(duo, ids.SUMMARY_LAYER_SLIDER)
    duo.wait_for_contains_text(f"#{ids.SUMMARY_CAPTION_TEXT}", "Layer 2 of 3: conv2")
    changed(duo, lambda: signature(duo, ids.SUMMARY_GRAPH, 5), sig)

    choose_model(duo, "cifar5")
    duo.wait_for_contains_text(f"#{ids.SUMMARY_CAPTION_TEXT}", "Layer 1 of 6", timeout=30)
    duo.find_element(f"#{ids.SUMMARY_CONV_BUTTON}").click()
    duo.wait_for_contains_text(f"#{ids.SUMMARY_TABLE}", "SeparableConv2D")
    assert text(duo, ids.SUMMARY_MESSAGE) == ""
    assert duo.get_logs() == []
