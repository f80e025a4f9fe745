"""Run Xplique's attribution methods on a saved model and inputs; called by ``bench.attribution``.

Runs in Xplique's own virtualenv (``XPLIQUE_PYTHON``), so it imports nothing
from KernelScope.  Usage::

    $XPLIQUE_PYTHON bench/xplique_runner.py REQUEST.json

The request names the model file, an ``.npz`` of inputs (``x1``, ``t1``: one
image per call; ``x32``, ``t32``: 32 images per call), the methods with their
Xplique options, the number of timed runs, and where to write the result: an
``.npz`` of maps (``METHOD``: maps of ``x32``) and timings (``METHOD/b``:
milliseconds per call).
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def main(path: str) -> int:
    import keras
    import numpy as np
    import tensorflow as tf
    import xplique.attributions as xa

    req = json.loads(open(path).read())
    model = keras.saving.load_model(req["model"], compile=False, safe_mode=True)
    data = np.load(req["inputs"], allow_pickle=False)
    k = int(model.outputs[0].shape[-1])
    out = {}
    for name, (cls_name, options) in req["methods"].items():
        cls = getattr(xa, cls_name)
        explainer = cls(model, **options)
        for b in (1, 32):
            x, t = data[f"x{b}"], data[f"t{b}"]
            n = len(x) // b
            calls = [(x[i * b:(i + 1) * b], tf.one_hot(t[i * b:(i + 1) * b], k)) for i in range(n)]
            for _ in range(2):
                explainer.explain(*calls[0])
            times, maps = [], []
            for xi, ti in calls[: req["runs"]]:
                t0 = time.perf_counter()
                m = explainer.explain(xi, ti)
                times.append((time.perf_counter() - t0) * 1000.0)
                maps.append(np.asarray(m))
            out[f"{name}/{b}"] = np.asarray(times)
            if b == 32:
                out[name] = maps[0]
        print(f"xplique {name} done", flush=True)
    np.savez(req["output"], **out)
    print(json.dumps({"tensorflow": tf.__version__, "keras": keras.__version__,
                      "xplique": __import__("xplique").__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
