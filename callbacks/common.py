"""What every page's callbacks share: the app context, input validation, upload decoding."""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from dash import no_update

log = logging.getLogger("kernelscope.callbacks")


class UserError(ValueError):
    """Bad input from the page; the message is shown to the user as it is."""


@dataclass
class AppContext:
    """The server-side state callbacks work with."""

    registry: object
    settings: object
    arrays: object


def get_entry(ctx: AppContext, model: str | None):
    """The registry entry of ``model``, or a :class:`UserError` that says what is valid."""
    if not model:
        raise UserError("choose a model in the menu at the top right")
    try:
        ctx.registry.spec(model)
    except KeyError as exc:
        raise UserError(str(exc)) from None
    try:
        return ctx.registry.get(model)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None


def as_int(value, name: str, lo: int, hi: int) -> int:
    """``value`` as an integer in ``[lo, hi]``, or a :class:`UserError` naming the range."""
    if value is None or value == "":
        raise UserError(f"{name} is missing; enter a whole number from {lo} to {hi}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}") from None
    if not f.is_integer() or not lo <= f <= hi:
        raise UserError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    return int(f)


def as_float(value, name: str, lo: float, hi: float) -> float:
    """``value`` as a float in ``[lo, hi]``, or a :class:`UserError` naming the range."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}") from None
    if not lo <= f <= hi:
        raise UserError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")
    return f


def as_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def decode_upload(contents: str | None, max_bytes: int) -> bytes:
    """Bytes of a ``dcc.Upload`` data URI (``data:<type>;base64,<data>``)."""
    if not contents or not isinstance(contents, str):
        raise UserError("nothing was uploaded")
    header, sep, payload = contents.partition(",")
    if not sep or ";base64" not in header:
        raise UserError("the upload is not a base64 data URI; try the file again")
    if len(payload) * 3 // 4 > max_bytes:
        raise UserError(f"the file is larger than the {max_bytes / 2**20:.0f} MiB limit")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("the upload is not valid base64 data; try the file again") from None


def user_errors(n_outputs: int, message_index: int, kind: str = "error") -> Callable:
    """Decorate a handler so a :class:`UserError` fills its message output.

    Every other output gets ``no_update``; unexpected exceptions propagate to
    the app's error handler (which logs them and shows an alert).
    """
    from dashboard.components.controls import message

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except UserError as exc:
                log.info("%s: %s", fn.__name__, exc)
                out = [no_update] * n_outputs
                text = str(exc)
                out[message_index] = message(text[:1].upper() + text[1:], kind)
                return tuple(out)
        return inner
    return wrap


def cache_key(entry) -> str:
    """The name under which page caches keep results of ``entry``: its registry name, plus the
    settings version for uploads (correcting an upload's scaling or output must not show stale results)."""
    updated = entry.meta.get("updated") if entry.is_uploaded else None
    return entry.name if updated is None else f"{entry.name}@{updated}"
