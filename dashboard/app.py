"""The app factory: the only place a ``Dash`` object is built."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import dash
from dash import html, set_props

from . import ids, shell
from .settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
log = logging.getLogger("kernelscope")


def _pages():
    from .pages import chainrule, compare, convolution, fouriernet, home, kernels, relevance, summary, uploads

    return [home, kernels, convolution, relevance, summary, compare, fouriernet, chainrule, uploads]


def _error_handler(err: Exception):
    """Last line of defence: log the traceback, tell the user in the page.

    Callbacks handle the errors they expect (bad input, out-of-range values)
    themselves; anything else lands here instead of the browser console.
    """
    log.error("callback failed: %s\n%s", err, "".join(traceback.format_exception(err)))
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    set_props(ids.APP_ERROR_ALERT, {
        "children": html.Div([html.Strong("Something went wrong: "), text[:500],
                              html.Span(" (details are in the server log; click to dismiss)",
                                        className="muted")], className="alert alert-error"),
    })
    return None


def make_background_manager(settings: Settings):
    """Threads over diskcache by default, Celery on Redis when ``REDIS_URL`` is set."""
    if settings.redis_url:
        from celery import Celery
        from dash import CeleryManager

        celery_app = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
        return CeleryManager(celery_app)
    import diskcache

    from .background import ThreadedDiskcacheManager

    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    cache = diskcache.Cache(str(settings.cache_dir / "background"), size_limit=1 << 30)
    # cache_by makes results reusable across requests: returning to an earlier
    # setting is instant.  The token changes when the server restarts.
    token = settings.cache_token
    return ThreadedDiskcacheManager(cache, cache_by=[lambda: token], expire=24 * 3600)


def attach_store(registry, settings: Settings) -> None:
    """Serve the uploads in ``settings.store_dir`` from ``registry`` (at most ``max_models`` in memory)."""
    from models.store import ModelStore
    from models.uploads import UploadedModels

    current = registry.uploads
    root = Path(settings.store_dir).resolve()
    if current is not None and current.store.root.resolve() == root and current.max_models == settings.max_models:
        return
    store = ModelStore(root)
    store.cleanup()
    registry.attach_uploads(UploadedModels(store, settings.max_models))


def create_app(settings: Settings | None = None, registry=None) -> dash.Dash:
    """Build the KernelScope app.

    Args:
        settings: Configuration (default: from the environment).
        registry: The model registry (default: the process-wide one).
    """
    import models
    from callbacks import register_all

    settings = settings or Settings.from_env()
    registry = registry or models.default_registry()
    attach_store(registry, settings)
    app = dash.Dash(
        "kernelscope",
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title=settings.title,
        suppress_callback_exceptions=False,
        background_callback_manager=make_background_manager(settings),
        on_error=_error_handler,
        update_title=None,
    )
    pages = _pages()
    for order, page in enumerate(pages):
        dash.register_page(
            page.__name__,
            path=page.PATH,
            name=page.NAME,
            title=f"{page.NAME} · KernelScope",
            description=page.DESCRIPTION,
            order=order,
            layout=page.layout,
        )
    app.layout = lambda: shell.layout(registry)
    app.validation_layout = html.Div([shell.layout(registry), *[p.layout() for p in pages]])
    app.server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.kernelscope = {"settings": settings, "registry": registry}
    app.kernelscope["context"] = register_all(app, registry, settings)
    return app
