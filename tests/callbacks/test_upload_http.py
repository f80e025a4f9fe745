"""Uploads through the real HTTP endpoint: bad files get their message, the server keeps serving,
the request size limit is Flask's, and nothing is written outside the store."""

import base64
import json
import time

import pytest

from dashboard import ids
from dashboard.settings import Settings
from models import ModelRegistry

STATES = [
    (ids.MODELS_MODEL_UPLOAD, "contents"), (ids.MODELS_MODEL_UPLOAD, "filename"),
    (ids.MODELS_SAMPLES_UPLOAD, "contents"), (ids.MODELS_SAMPLES_UPLOAD, "filename"),
    (ids.MODELS_CLASSES_UPLOAD, "contents"), (ids.MODELS_CLASSES_UPLOAD, "filename"),
    (ids.MODELS_TITLE_INPUT, "value"), (ids.MODELS_HEIGHT_INPUT, "value"), (ids.MODELS_WIDTH_INPUT, "value"),
    (ids.MODELS_EDIT_DROPDOWN, "value"), (ids.MODELS_SCALING_DROPDOWN, "value"), (ids.MODELS_MEAN_INPUT, "value"),
    (ids.MODELS_STD_INPUT, "value"), (ids.MODELS_ORDER_RADIO, "value"), (ids.MODELS_OUTPUT_DROPDOWN, "value"),
    (ids.MODELS_KIND_DROPDOWN, "value"), (ids.MODELS_CAM_DROPDOWN, "value"), (ids.MODELS_VERSION_STORE, "data"),
]


@pytest.fixture()
def client(tmp_path):
    from dashboard.app import create_app

    settings = Settings(cache_dir=tmp_path / "cache", store_dir=tmp_path / "store", device="cpu", max_upload_mb=1)
    app = create_app(settings, ModelRegistry(device="cpu"))
    key = next(k for k, v in app.callback_map.items()
               if ids.MODELS_VERSION_STORE + ".data" in k and "models-message" in k
               and any(i["id"] == ids.MODELS_ADD_BUTTON for i in v["inputs"]))
    return app.server.test_client(), key


def post_add(client, _unused, filename, data: bytes):
    c, output = client
    values = {"contents": "data:application/octet-stream;base64," + base64.b64encode(data).decode(),
              "filename": filename}
    state = [{"id": i, "property": p,
              "value": values.get(p) if i == ids.MODELS_MODEL_UPLOAD else None} for i, p in STATES]
    body = {
        "output": output,
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                    for o in output.strip(".").split("...")],
        "inputs": [{"id": ids.MODELS_ADD_BUTTON, "property": "n_clicks", "value": 1}],
        "state": state,
        "changedPropIds": [f"{ids.MODELS_ADD_BUTTON}.n_clicks"],
    }
    data = json.dumps(body)
    r = c.post("/_dash-update-component", data=data, content_type="application/json")
    if r.status_code != 200:
        return r
    assert "cacheKey" in r.get_json(), r.get_data(as_text=True)
    # Add is a background callback: poll its job the way the renderer does until the result comes
    handles = r.get_json()
    for _ in range(600):
        r = c.post("/_dash-update-component", data=data, content_type="application/json",
                   query_string={"cacheKey": handles["cacheKey"], "job": handles["job"]})
        if r.status_code != 200 or "response" in r.get_json():
            return r
        time.sleep(0.1)
    raise AssertionError("the add job did not finish in 60 s")


def test_bad_uploads_over_http(client, tmp_path, user_models):
    before = {p for p in tmp_path.rglob("*")}
    html = b"<!DOCTYPE html><html><body>Not found</body></html>"
    r = post_add(client, None, "model.h5", html)
    assert r.status_code == 200 and "is an HTML page, not a model" in r.get_data(as_text=True)
    r = post_add(client, None, "../../../etc/lambda.keras", user_models["lambda"].read_bytes())
    assert r.status_code == 200 and "Lambda layer" in r.get_data(as_text=True)
    r = post_add(client, None, "big.keras", b"PK\x03\x04" + bytes(3 * 2**20))  # over Flask's request limit
    assert r.status_code == 413
    r = post_add(client, None, "gray.h5", user_models["gray_sigmoid"].read_bytes())  # the next request works
    assert r.status_code == 200 and "Added gray (uploaded)" in r.get_data(as_text=True)
    r = client[0].get("/models")
    assert r.status_code == 200
    written = {p for p in tmp_path.rglob("*")} - before
    assert written and all(p.is_relative_to(tmp_path / "store") or p.is_relative_to(tmp_path / "cache")
                           for p in written)
    assert not any(p.name in ("lambda.keras", "etc") for p in written)
