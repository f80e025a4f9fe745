"""Start KernelScope: ``python run.py [--host H] [--port P] [--debug] [--preload] [--device D]
[--store-dir DIR] [--max-upload-mb MB] [--max-models N]``."""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Small matrices everywhere: one BLAS thread avoids oversubscribing the cores TensorFlow uses.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    from dashboard.settings import Settings, argument_parser

    args = argument_parser().parse_args(argv)
    settings = Settings.from_env().with_args(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("kernelscope")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("binding to %s: KernelScope is then reachable from other machines; it has no "
                    "authentication, so only do this on a trusted network", settings.host)

    import models
    from dashboard.app import create_app

    registry = models.configure(settings.device)
    app = create_app(settings, registry)
    log.info("computation runs on %s", registry.device.label)
    if settings.preload:
        for name in registry.names():
            if registry.is_uploaded(name):
                continue  # uploads load on first use (at most --max-models in memory)
            registry.get(name)
            log.info("preloaded %s", name)
    log.info("serving on http://%s:%d", settings.host, settings.port)
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
