"""Built-in models and the shared, per-process model registry.

>>> import models
>>> models.names()            # no TensorFlow import
>>> entry = models.get("mnist17")
>>> entry.predict(entry.x[:4])
"""

from .registry import DeviceInfo, ModelEntry, ModelRegistry, UnknownModel, configure, default_registry
from .specs import BUILTIN_SPECS, ModelSpec


def names() -> list[str]:
    """Names of the registered models."""
    return default_registry().names()


def get(name: str) -> ModelEntry:
    """The loaded model ``name`` from the process-wide registry."""
    return default_registry().get(name)


def spec(name: str) -> ModelSpec:
    """The static spec of ``name``."""
    return default_registry().spec(name)


__all__ = [
    "BUILTIN_SPECS",
    "DeviceInfo",
    "ModelEntry",
    "ModelRegistry",
    "ModelSpec",
    "UnknownModel",
    "configure",
    "default_registry",
    "get",
    "names",
    "spec",
]
