"""Dash callbacks, one module per page; :func:`register_all` attaches them to an app."""

from __future__ import annotations

from .common import AppContext


def register_all(app, registry, settings) -> AppContext:
    """Attach every callback to ``app`` (never to a global, see plotly/dash#1933)."""
    from dashboard.arrays import ArrayStore

    from . import chainrule, compare, convolution, fouriernet, home, kernels, relevance, shell, summary, uploads

    ctx = AppContext(registry=registry, settings=settings,
                     arrays=ArrayStore(settings.cache_dir / "arrays"))
    for module in (shell, home, kernels, convolution, relevance, summary, compare, fouriernet, chainrule,
                   uploads):
        module.register(app, ctx)
    return ctx
