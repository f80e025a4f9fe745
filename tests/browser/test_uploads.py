"""Upload a model through the "Your models" page, then look at it on the kernels and convolution pages."""

import pytest

from dashboard import ids
from tests.browser.test_foundation_pages import graph_titles, wait_for
from tests.uploads import sample_zip

pytestmark = pytest.mark.browser


def test_upload_a_model_and_use_it_on_every_page(serve, user_models, tmp_path):
    samples = tmp_path / "pets.zip"
    samples.write_bytes(sample_zip(["cat", "dog"], 2, 30, 1))
    duo = serve("/models", store_dir=tmp_path / "store")  # a private store: starts empty
    duo.wait_for_contains_text(f"#{ids.MODELS_LIST_TABLE}", "No uploaded models yet")
    duo.find_element(f"#{ids.MODELS_MODEL_UPLOAD} input[type=file]").send_keys(str(user_models["gray_sigmoid"]))
    duo.find_element(f"#{ids.MODELS_SAMPLES_UPLOAD} input[type=file]").send_keys(str(samples))
    duo.wait_for_contains_text(f"#{ids.MODELS_FILES_TEXT}", "samples: pets.zip")
    duo.find_element(f"#{ids.MODELS_TITLE_INPUT}").send_keys("Browser pets")
    duo.find_element(f"#{ids.MODELS_ADD_BUTTON}").click()
    duo.wait_for_contains_text(f"#{ids.MODELS_MESSAGE}", "Added Browser pets", timeout=60)
    duo.wait_for_contains_text(f"#{ids.MODELS_PROGRESS_TEXT}", "done: added Browser pets")  # the add's bar
    assert duo.find_element(f"#{ids.MODELS_PROGRESS}").get_attribute("value") == "1"
    wait_for(duo, lambda: duo.find_element(f"#{ids.MODELS_ADD_BUTTON}").is_enabled())  # re-enabled after the run
    duo.wait_for_contains_text(f"#{ids.MODELS_INTAKE_TEXT}", "one sigmoid unit")
    duo.wait_for_contains_text(f"#{ids.APP_MODEL_DROPDOWN}", "Browser pets")  # the menu follows the upload
    duo.wait_for_contains_text(f"#{ids.APP_MODEL_INFO}", "classes: cat, dog")
    duo.find_element(f"#{ids.APP_NAV} a[href='/kernels']").click()
    wait_for(duo, lambda: "conv2" in (graph_titles(duo, ids.KERNELS_GRID_GRAPH) or ""), timeout=60)
    duo.find_element(f"#{ids.APP_NAV} a[href='/convolution']").click()
    duo.wait_for_contains_text(f"#{ids.CONV_CAPTION_TEXT}", "layer 1 of 2: conv1", timeout=60)
    duo.wait_for_contains_text(f"#{ids.CONV_ERROR_TEXT}", "agree to float precision")
    duo.find_element(f"#{ids.APP_NAV} a[href='/']").click()
    duo.wait_for_contains_text(f"#{ids.HOME_MODELS_TABLE}", "uploaded (Your models)")
    assert duo.get_logs() == []
