"""End to end in headless Chromium: pages load, buttons and the model picker update figures, uploads work."""

import numpy as np
import pytest
from PIL import Image

from dashboard import ids

pytestmark = pytest.mark.browser


def graph_titles(duo, graph_id):
    """The names of the traces the browser has drawn in a graph, joined by '|' (None before the first draw)."""
    return duo.driver.execute_script(
        "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return g && g.data && g.data.length ? g.data.map(t => t.name || '').join('|') : null;",
        f"#{graph_id}")


def wait_for(duo, fn, timeout=20):
    import time

    end = time.time() + timeout
    while time.time() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def choose_model(duo, name):
    """Pick a model in the global dropdown by its title (Dash 4 matches options by their label text)."""
    from models.specs import BUILTIN_SPECS

    title = BUILTIN_SPECS[name].title if name in BUILTIN_SPECS else name
    duo.select_dcc_dropdown(f"#{ids.APP_MODEL_DROPDOWN}", value=title)


def test_every_page_loads_without_console_errors(serve):
    duo = serve("/")
    duo.wait_for_contains_text(f"#{ids.HOME_DEVICE_TEXT}", "CPU", timeout=20)
    duo.wait_for_contains_text(f"#{ids.HOME_MODELS_TABLE}", "cifar10pad")
    for path, graph in (("/kernels", ids.KERNELS_GRID_GRAPH), ("/convolution", ids.CONV_GRAPH)):
        duo.driver.get(duo.server_url + path)
        wait_for(duo, lambda g=graph: graph_titles(duo, g))
    assert duo.get_logs() == []


def test_kernels_new_button_and_model_change(serve):
    duo = serve("/kernels")
    first = wait_for(duo, lambda: graph_titles(duo, ids.KERNELS_GRID_GRAPH))
    duo.find_element(f"#{ids.KERNELS_NEW_BUTTON}").click()
    second = wait_for(duo, lambda: (t := graph_titles(duo, ids.KERNELS_GRID_GRAPH)) != first and t)
    assert "conv1" in second
    seed = duo.find_element(f"#{ids.KERNELS_SEED_INPUT}").get_attribute("value")
    assert seed != "0"
    duo.wait_for_contains_text(f"#{ids.KERNELS_CAPTION_TEXT}", f"Seed {seed}")
    choose_model(duo, "cifar5")
    wait_for(duo, lambda: "sepconv" in (graph_titles(duo, ids.KERNELS_GRID_GRAPH) or ""))
    duo.wait_for_contains_text(f"#{ids.KERNELS_CAPTION_TEXT}", "6 convolution layer")
    assert duo.get_logs() == []


def test_convolution_buttons_mode_and_model(serve):
    duo = serve("/convolution")
    wait_for(duo, lambda: graph_titles(duo, ids.CONV_GRAPH))
    caption = duo.find_element(f"#{ids.CONV_CAPTION_TEXT}")
    duo.wait_for_contains_text(f"#{ids.CONV_ERROR_TEXT}", "agree to float precision")
    duo.find_element(f"#{ids.CONV_LAYER_BUTTONS} button:nth-child(3)").click()
    duo.wait_for_contains_text(f"#{ids.CONV_CAPTION_TEXT}", "layer 3 of 3: conv3")
    before = caption.text
    duo.find_element(f"#{ids.CONV_INPUT_BUTTON}").click()
    wait_for(duo, lambda: duo.find_element(f"#{ids.CONV_CAPTION_TEXT}").text != before)
    duo.find_element(f"#{ids.CONV_MODE_RADIO} input[value='circular']").click()
    duo.wait_for_contains_text(f"#{ids.CONV_ERROR_TEXT}", "wraps around")
    choose_model(duo, "cifar5")
    duo.wait_for_contains_text(f"#{ids.CONV_CAPTION_TEXT}", "layer 1 of 6: conv1")
    assert len(duo.find_elements(f"#{ids.CONV_LAYER_BUTTONS} button")) == 6
    assert duo.get_logs() == []


def _upload(duo, path):
    duo.find_element(f"#{ids.CONV_UPLOAD} input[type='file']").send_keys(str(path))


def test_image_upload_renders_and_corrupt_file_shows_message(serve, tmp_path):
    duo = serve("/convolution")
    wait_for(duo, lambda: graph_titles(duo, ids.CONV_GRAPH))
    good = tmp_path / "digit.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 40), np.uint8)).save(good)
    _upload(duo, good)
    duo.wait_for_contains_text(f"#{ids.CONV_CAPTION_TEXT}", "uploaded image digit.png", timeout=20)
    duo.wait_for_contains_text(f"#{ids.CONV_CAPTION_TEXT}", "resized from 40×50 to 28×28")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    _upload(duo, bad)
    duo.wait_for_contains_text(f"#{ids.CONV_MESSAGE}", "broken.png", timeout=20)
    # the page keeps working after the bad file
    duo.find_element(f"#{ids.CONV_INPUT_BUTTON}").click()
    duo.wait_for_contains_text(f"#{ids.CONV_CAPTION_TEXT}", "sample", timeout=20)
    assert duo.find_element(f"#{ids.CONV_MESSAGE}").text == ""
    assert duo.get_logs() == []
