"""run.py: 127.0.0.1 by default, a warning for 0.0.0.0, debug only when asked, upload flags reach the app."""

import logging

import pytest

import run


@pytest.fixture()
def fake_app(monkeypatch, tmp_path):
    import dashboard.app

    calls = {}

    class App:
        def run(self, **kw):
            calls["run"] = kw

    def create_app(settings, registry):
        calls["settings"] = settings
        return App()

    monkeypatch.setattr(dashboard.app, "create_app", create_app)
    for var in ("KERNELSCOPE_HOST", "KERNELSCOPE_DEBUG", "KERNELSCOPE_PRELOAD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KERNELSCOPE_DEVICE", "cpu")
    return calls


def test_defaults_are_local_and_not_debug(fake_app, caplog, tmp_path):
    with caplog.at_level(logging.WARNING, logger="kernelscope"):
        assert run.main(["--store-dir", str(tmp_path / "s"), "--max-models", "2", "--max-upload-mb", "7"]) == 0
    assert fake_app["run"]["host"] == "127.0.0.1" and fake_app["run"]["debug"] is False
    s = fake_app["settings"]
    assert (s.store_dir, s.max_models, s.max_upload_mb) == (tmp_path / "s", 2, 7.0)
    assert not [r for r in caplog.records if "reachable from other machines" in r.getMessage()]


def test_public_host_warns_and_debug_needs_the_flag(fake_app, caplog):
    with caplog.at_level(logging.WARNING, logger="kernelscope"):
        run.main(["--host", "0.0.0.0", "--debug"])
    assert fake_app["run"]["host"] == "0.0.0.0" and fake_app["run"]["debug"] is True
    assert any("reachable from other machines" in r.getMessage() for r in caplog.records)
