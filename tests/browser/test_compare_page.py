"""The Compare page in headless Chromium: a grid with scores, a progress bar that completes, a cancel that works."""

import pytest

from dashboard import ids
from models.specs import BUILTIN_SPECS
from tests.browser.test_foundation_pages import choose_model, graph_titles, wait_for

pytestmark = pytest.mark.browser


def _toggle(duo, method):
    duo.find_element(f"#{ids.COMPARE_METHODS_CHECKLIST} input[value='{method}']").click()


def _progress(duo):
    bar = duo.find_element(f"#{ids.COMPARE_PROGRESS}")
    return bar.get_attribute("value"), duo.find_element(f"#{ids.COMPARE_PROGRESS_TEXT}").text


def test_three_methods_grid_with_scores_and_progress(serve):
    duo = serve("/compare")
    # the default methods run on load
    wait_for(duo, lambda: "Grad-CAM" in (graph_titles(duo, ids.COMPARE_GRID_GRAPH) or ""), timeout=60)
    for method in ("saliency", "integrated_gradients", "gradcam"):
        _toggle(duo, method)  # off
    for method in ("gradient_input", "smoothgrad", "occlusion"):
        _toggle(duo, method)  # on
    duo.find_element(f"#{ids.COMPARE_RUN_BUTTON}").click()
    titles = wait_for(duo, lambda: (t := graph_titles(duo, ids.COMPARE_GRID_GRAPH)) and "Occlusion" in t and t,
                      timeout=90)
    names = titles.split("|")
    assert len(names) == 1 + 3 * 2
    for label in ("Gradient × Input", "SmoothGrad", "Occlusion"):
        assert sum(n.startswith(label) for n in names) == 2
    assert all("del " in n and "ins " in n and "μF " in n for n in names[1:])
    value, text = _progress(duo)
    assert float(value) == 1.0 and text.startswith("done")
    duo.wait_for_contains_text(f"#{ids.COMPARE_METRICS_TABLE}", "Occlusion")
    assert len(duo.find_elements(f"#{ids.COMPARE_CURVES_GRAPH} .scatterlayer .trace")) == 12
    assert not duo.find_element(f"#{ids.COMPARE_RUN_BUTTON}").get_attribute("disabled")
    assert duo.get_logs() == []


def test_cancel_stops_a_long_run(serve):
    duo = serve("/compare")
    wait_for(duo, lambda: "Grad-CAM" in (graph_titles(duo, ids.COMPARE_GRID_GRAPH) or ""), timeout=60)
    choose_model(duo, "cifar5")
    title = BUILTIN_SPECS["cifar5"].title  # the caption names the model by its title
    wait_for(duo, lambda: title in duo.find_element(f"#{ids.COMPARE_CAPTION_TEXT}").text, timeout=90)
    before = graph_titles(duo, ids.COMPARE_GRID_GRAPH)
    for method in ("saliency", "integrated_gradients", "gradcam"):
        _toggle(duo, method)
    _toggle(duo, "lighting")
    duo.find_element(f"#{ids.COMPARE_SANITY_SWITCH} input").click()
    duo.find_element(f"#{ids.COMPARE_RUN_BUTTON}").click()
    # running: Run is disabled, Cancel enabled, progress moves
    wait_for(duo, lambda: duo.find_element(f"#{ids.COMPARE_RUN_BUTTON}").get_attribute("disabled"), timeout=30)
    wait_for(duo, lambda: "Lighting" in _progress(duo)[1], timeout=60)
    duo.find_element(f"#{ids.COMPARE_CANCEL_BUTTON}").click()
    wait_for(duo, lambda: not duo.find_element(f"#{ids.COMPARE_RUN_BUTTON}").get_attribute("disabled"), timeout=30)
    assert duo.find_element(f"#{ids.COMPARE_CANCEL_BUTTON}").get_attribute("disabled")
    value, text = _progress(duo)
    assert not text.startswith("done") and float(value) < 1.0
    assert graph_titles(duo, ids.COMPARE_GRID_GRAPH) == before  # the old grid stays
    assert duo.get_logs() == []
