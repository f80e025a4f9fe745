"""Shared test set-up: CPU only, quiet TensorFlow, small step counts, fresh apps.

Environment for every test session (set before TensorFlow is imported):
``CUDA_VISIBLE_DEVICES=-1`` (the CPU, even on a GPU machine, so results are
comparable), ``TF_CPP_MIN_LOG_LEVEL=2`` and ``KERNELSCOPE_MAX_STEPS=16`` (a cap
that iterative methods honour, for speed).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERNELSCOPE_MAX_STEPS", "16")
# Small matrices everywhere: one BLAS thread avoids oversubscribing the cores TensorFlow uses.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def registry():
    """One CPU registry of the built-in models for the whole session."""
    from models import ModelRegistry

    return ModelRegistry(device="cpu")


@pytest.fixture()
def settings(tmp_path):
    from dashboard.settings import Settings

    return Settings(cache_dir=tmp_path / "cache", device="cpu")


@pytest.fixture()
def app_context(registry, settings):
    """The server-side context the callbacks work with, on a fresh cache directory."""
    from callbacks.common import AppContext
    from dashboard.arrays import ArrayStore

    return AppContext(registry=registry, settings=settings, arrays=ArrayStore(settings.cache_dir / "arrays"))


@pytest.fixture()
def make_app(registry, settings):
    """Build a fresh app (with its own cache directory) for a browser test."""
    from dashboard.app import create_app

    def build(**overrides):
        from dataclasses import replace

        return create_app(replace(settings, **overrides) if overrides else settings, registry)

    return build


@pytest.fixture()
def serve(dash_duo, make_app):
    """Start a fresh app on a free port and return the ``dash_duo`` driving it."""
    from dash.testing.application_runners import BaseDashRunner

    def start(path: str = "/", **overrides):
        app = make_app(**overrides)
        BaseDashRunner._next_port = free_port()
        dash_duo.start_server(app)
        if path != "/":
            dash_duo.driver.get(dash_duo.server_url + path)
        return dash_duo

    return start


def pytest_setup_options():
    """Chromium flags for a closed network (see the README's test section)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in ("--headless=new", "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-quic", "--window-size=1400,1000"):
        options.add_argument(flag)
    return options


# --- uploads: a private store for every test session, and the user models built once ---
import tempfile  # noqa: E402

os.environ.setdefault("KERNELSCOPE_STORE_DIR", tempfile.mkdtemp(prefix="kernelscope-test-store-"))


@pytest.fixture(scope="session")
def user_models(tmp_path_factory):
    """Small real user models saved to disk (see tests/uploads.py): {"mobilenet": Path, ...}."""
    from tests.uploads import build_models

    return build_models(tmp_path_factory.mktemp("user-models"),
                        kinds=("mobilenet", "resnet", "gray_sigmoid", "two_output", "lambda", "custom"))
