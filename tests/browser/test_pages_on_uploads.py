"""Upload a model in the browser, then open Relevance, Model summary, Fourier-Net, Chain rule and Compare on it."""

import pytest

from dashboard import ids
from tests.browser.test_foundation_pages import graph_titles, wait_for
from tests.uploads import sample_zip

pytestmark = pytest.mark.browser


def test_uploaded_model_on_relevance_summary_fouriernet_chainrule(serve, user_models, tmp_path):
    samples = tmp_path / "pets.zip"
    samples.write_bytes(sample_zip(["cat", "dog"], 2, 30, 1))
    duo = serve("/models", store_dir=tmp_path / "store")  # a private store: starts empty
    duo.find_element(f"#{ids.MODELS_MODEL_UPLOAD} input[type=file]").send_keys(str(user_models["gray_sigmoid"]))
    duo.find_element(f"#{ids.MODELS_SAMPLES_UPLOAD} input[type=file]").send_keys(str(samples))
    duo.wait_for_contains_text(f"#{ids.MODELS_FILES_TEXT}", "samples: pets.zip")
    duo.find_element(f"#{ids.MODELS_TITLE_INPUT}").send_keys("Browser pets")
    duo.find_element(f"#{ids.MODELS_ADD_BUTTON}").click()
    duo.wait_for_contains_text(f"#{ids.MODELS_MESSAGE}", "Added Browser pets", timeout=60)
    duo.wait_for_contains_text(f"#{ids.APP_MODEL_DROPDOWN}", "Browser pets")
    duo.find_element(f"#{ids.APP_NAV} a[href='/relevance']").click()
    duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "Explaining image 0", timeout=60)
    wait_for(duo, lambda: "root point" in (graph_titles(duo, ids.RELEVANCE_GRAPH) or ""), timeout=30)
    duo.find_element(f"#{ids.APP_NAV} a[href='/summary']").click()
    duo.wait_for_contains_text(f"#{ids.SUMMARY_CAPTION_TEXT}", "Layer 1 of 2: conv1", timeout=60)
    duo.find_element(f"#{ids.APP_NAV} a[href='/fouriernet']").click()
    duo.wait_for_contains_text(f"#{ids.FN_MESSAGE}", "Browser pets is not a linear conv stack", timeout=60)
    duo.find_element(f"#{ids.APP_NAV} a[href='/chainrule']").click()
    duo.wait_for_contains_text(f"#{ids.CR_MESSAGE}", "Browser pets is not a linear conv stack", timeout=60)
    duo.find_element(f"#{ids.APP_NAV} a[href='/compare']").click()  # the default methods run on load
    duo.wait_for_contains_text(f"#{ids.COMPARE_CAPTION_TEXT}", "Browser pets · sample 0", timeout=90)
    wait_for(duo, lambda: "Grad-CAM" in (graph_titles(duo, ids.COMPARE_GRID_GRAPH) or ""), timeout=30)
    duo.wait_for_contains_text(f"#{ids.COMPARE_METRICS_TABLE}", "Integrated Gradients")
    assert duo.get_logs() == []
