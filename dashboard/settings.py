"""Configuration from command-line flags and environment variables.

Every setting has a default, an environment variable and (for the common ones)
a ``run.py`` flag; flags win over the environment.

=====================  ==============================  =====================
setting                environment variable            default
=====================  ==============================  =====================
host                   ``KERNELSCOPE_HOST``            ``127.0.0.1``
port                   ``KERNELSCOPE_PORT``            ``8050``
debug                  ``KERNELSCOPE_DEBUG``           off
preload                ``KERNELSCOPE_PRELOAD``         off
device                 ``KERNELSCOPE_DEVICE``          ``auto``
cache_dir              ``KERNELSCOPE_CACHE_DIR``       ``<user cache>/kernelscope``
redis_url              ``REDIS_URL``                   unset (diskcache)
store_dir              ``KERNELSCOPE_STORE_DIR``       ``<user data>/kernelscope/models``
max_upload_mb          ``KERNELSCOPE_MAX_UPLOAD_MB``   ``200``
max_models             ``KERNELSCOPE_MAX_MODELS``      ``3`` (uploads kept in memory)
=====================  ==============================  =====================
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _default_store_dir() -> Path:
    from models.store import default_store_dir

    return default_store_dir()


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kernelscope"


@dataclass(frozen=True)
class Settings:
    """Everything ``create_app`` needs to know about its environment."""

    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    preload: bool = False
    device: str = "auto"
    cache_dir: Path = field(default_factory=default_cache_dir)
    redis_url: str | None = None
    title: str = "KernelScope"
    cache_token: str = field(default_factory=lambda: os.environ.get("KERNELSCOPE_CACHE_TOKEN", "v1"))
    store_dir: Path = field(default_factory=lambda: _default_store_dir())
    max_upload_mb: float = 200.0
    max_models: int = 3

    @property
    def max_upload_bytes(self) -> int:
        """Largest uploaded file, in bytes (after base64 decoding)."""
        return int(self.max_upload_mb * 2**20)

    @property
    def max_request_bytes(self) -> int:
        """Flask's MAX_CONTENT_LENGTH: a model and a samples file at the limit, base64-encoded, plus 1 MiB."""
        return 2 * (-(-self.max_upload_bytes * 4 // 3)) + 2**20

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Settings:
        env = os.environ if environ is None else environ
        kwargs = {}
        if env.get("KERNELSCOPE_HOST"):
            kwargs["host"] = env["KERNELSCOPE_HOST"]
        if env.get("KERNELSCOPE_PORT"):
            kwargs["port"] = int(env["KERNELSCOPE_PORT"])
        if "KERNELSCOPE_DEBUG" in env:
            kwargs["debug"] = _truthy(env["KERNELSCOPE_DEBUG"])
        if "KERNELSCOPE_PRELOAD" in env:
            kwargs["preload"] = _truthy(env["KERNELSCOPE_PRELOAD"])
        if env.get("KERNELSCOPE_DEVICE"):
            kwargs["device"] = env["KERNELSCOPE_DEVICE"]
        if env.get("KERNELSCOPE_CACHE_DIR"):
            kwargs["cache_dir"] = Path(env["KERNELSCOPE_CACHE_DIR"])
        if env.get("REDIS_URL"):
            kwargs["redis_url"] = env["REDIS_URL"]
        if env.get("KERNELSCOPE_STORE_DIR"):
            kwargs["store_dir"] = Path(env["KERNELSCOPE_STORE_DIR"])
        if env.get("KERNELSCOPE_MAX_UPLOAD_MB"):
            kwargs["max_upload_mb"] = float(env["KERNELSCOPE_MAX_UPLOAD_MB"])
        if env.get("KERNELSCOPE_MAX_MODELS"):
            kwargs["max_models"] = int(env["KERNELSCOPE_MAX_MODELS"])
        return cls(**kwargs)

    def with_args(self, args: argparse.Namespace) -> Settings:
        changes = {k: v for k, v in vars(args).items() if v is not None and k in self.__dataclass_fields__}
        return replace(self, **changes)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python run.py",
        description="KernelScope: an interactive explainer for convolutional neural networks.",
    )
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", default=None,
                        help="Dash debug mode: tracebacks in the browser, hot reload (off by default)")
    parser.add_argument("--preload", action="store_true", default=None,
                        help="load and warm up every built-in model before serving")
    parser.add_argument("--device", default=None, help="auto (default), cpu or gpu:N")
    parser.add_argument("--cache-dir", dest="cache_dir", type=Path, default=None,
                        help="where uploads and background results are cached")
    parser.add_argument("--store-dir", dest="store_dir", type=Path, default=None,
                        help="where uploaded models are stored (default <user data dir>/kernelscope/models)")
    parser.add_argument("--max-upload-mb", dest="max_upload_mb", type=_positive(float), default=None,
                        help="largest uploaded file in MiB (default 200)")
    parser.add_argument("--max-models", dest="max_models", type=_positive(int), default=None,
                        help="uploaded models kept in memory, least recently used evicted (default 3)")
    return parser
