"""Fourier-Net and Chain-rule pages end to end in headless Chromium."""

import pytest
from selenium.webdriver.common.keys import Keys

from dashboard import ids

from .test_foundation_pages import choose_model, graph_titles, wait_for

pytestmark = pytest.mark.browser


def type_number(duo, component_id, value):
    box = duo.find_element(f"#{component_id}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.ENTER)


def text_of(duo, component_id):
    return duo.find_element(f"#{component_id}").text


def test_fouriernet_controls_and_importance_job(serve, monkeypatch):
    monkeypatch.delenv("KERNELSCOPE_DATA_DIR", raising=False)
    duo = serve("/fouriernet")
    wait_for(duo, lambda: "[ch 0]" in (graph_titles(duo, ids.FN_VARIANTS_GRAPH) or ""), timeout=60)
    duo.wait_for_contains_text(f"#{ids.FN_ERRORS_TABLE}", "Fourier-Net 3", timeout=20)
    duo.wait_for_contains_text(f"#{ids.FN_LOGITS_TABLE}", "h(FN3)")
    wait_for(duo, lambda: "K0" in (graph_titles(duo, ids.FN_KERNELS_GRAPH) or ""))
    wait_for(duo, lambda: graph_titles(duo, ids.FN_TIMING_GRAPH), timeout=60)
    duo.wait_for_contains_text(f"#{ids.FN_TIMING_TEXT}", "CPU")
    type_number(duo, ids.FN_CHANNEL_INPUT, 7)
    wait_for(duo, lambda: "[ch 7]" in (graph_titles(duo, ids.FN_VARIANTS_GRAPH) or ""))
    type_number(duo, ids.FN_IMAGE_INPUT, 40)
    duo.wait_for_contains_text(f"#{ids.FN_CAPTION_TEXT}", "Sample 40")
    duo.find_element(f"#{ids.FN_KERNEL_PAGE_RADIO} input[value='4']").click()
    wait_for(duo, lambda: "K64" in (graph_titles(duo, ids.FN_KERNELS_GRAPH) or ""))
    # click the first fused kernel of the page: its contributing kernels appear
    duo.find_elements(f"#{ids.FN_KERNELS_GRAPH} .nsewdrag")[0].click()
    wait_for(duo, lambda: "K64 (sum of all terms)" in (graph_titles(duo, ids.FN_CONTRIB_GRAPH) or ""))
    # the image-set choice says what exists: the samples, and no data folder in the tests
    duo.wait_for_contains_text(f"#{ids.FN_IMP_SET_RADIO}", "bundled samples (64 images)")
    assert "not available" in text_of(duo, ids.FN_IMP_SET_RADIO)
    duo.find_element(f"#{ids.FN_IMP_RUN_BUTTON}").click()
    duo.wait_for_contains_text(f"#{ids.FN_IMP_PROGRESS_TEXT}", "/ 128", timeout=60)
    duo.wait_for_contains_text(f"#{ids.FN_IMP_SUMMARY_TEXT}", "64 bundled samples", timeout=60)
    assert "images needing the channel" in graph_titles(duo, ids.FN_IMP_COUNTS_GRAPH)
    assert graph_titles(duo, ids.FN_IMP_NEEDED_GRAPH)
    assert "sample 40" in graph_titles(duo, ids.FN_IMP_ACTIVATIONS_GRAPH)
    choose_model(duo, "cifar5")
    duo.wait_for_contains_text(f"#{ids.FN_MESSAGE}", "not a linear conv stack", timeout=30)
    assert duo.get_logs() == []


def test_chainrule_page(serve):
    duo = serve("/chainrule")
    duo.wait_for_contains_text(f"#{ids.CR_SCALAR_TABLE}", "513,135", timeout=30)
    duo.wait_for_contains_text(f"#{ids.CR_SCALAR_TABLE}", "307,881")
    type_number(duo, ids.CR_X_INPUT, 2)
    duo.wait_for_contains_text(f"#{ids.CR_SCALAR_TABLE}", "[6, 8]")
    wait_for(duo, lambda: graph_titles(duo, ids.CR_GRADIENT_GRAPH), timeout=60)
    duo.wait_for_contains_text(f"#{ids.CR_GRADIENT_TEXT}", "everywhere")
    wait_for(duo, lambda: "R through the split" in (graph_titles(duo, ids.CR_TAYLOR_GRAPH) or ""))
    type_number(duo, ids.CR_CHANNEL_INPUT, 9)
    wait_for(duo, lambda: "[ch 9]" in (graph_titles(duo, ids.CR_DYDG_GRAPH) or ""))
    type_number(duo, ids.CR_ROW_INPUT, 3)
    duo.wait_for_contains_text(f"#{ids.CR_CAPTION_TEXT}", "pixel p = (3, 14)")
    type_number(duo, ids.CR_IMAGE_INPUT, 12)
    duo.wait_for_contains_text(f"#{ids.CR_CAPTION_TEXT}", "sample 12")
    duo.wait_for_contains_text(f"#{ids.CR_CAPTION_TEXT}", "probability of class")
    duo.find_element(f"#{ids.CR_SOFTMAX_SWITCH} input").click()
    duo.wait_for_contains_text(f"#{ids.CR_CAPTION_TEXT}", "logit of class")
    type_number(duo, ids.CR_SIGMA_INPUT, 2)
    duo.wait_for_contains_text(f"#{ids.CR_TAYLOR_TEXT}", "σ = 2")
    type_number(duo, ids.CR_ROW_INPUT, 99)
    duo.wait_for_contains_text(f"#{ids.CR_MESSAGE}", "Pixel row must be")
    assert duo.get_logs() == []
