"""Cost of user uploads: ingest, first load, and the kernels/convolution pages on a big nested model.

    python -m bench.uploads [--runs 20]

Models are the test models of ``tests/uploads.py`` (MobileNetV2 alpha 0.35 at
64x64 nested in a functional model, 52 conv layers, 17 of them depthwise; a
small ResNet with BN; a grayscale sigmoid model).  Prints a table (median and
p95 in ms) to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine, time_calls  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)

    from callbacks import convolution as conv_cb
    from callbacks import kernels as kernels_cb
    from callbacks.common import AppContext
    from dashboard.arrays import ArrayStore
    from dashboard.settings import Settings
    from models import ModelRegistry
    from models.uploads import ingest
    from tests.uploads import attach_store, build_models, sample_zip

    tmp = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    paths = build_models(tmp / "models", kinds=("mobilenet", "resnet", "gray_sigmoid"))
    reg = ModelRegistry(device="cpu")
    uploads = attach_store(reg, tmp / "store")
    ctx = AppContext(reg, Settings(cache_dir=tmp / "cache", store_dir=tmp / "store"), ArrayStore(tmp / "arrays"))
    rows = []
    names = {}
    for kind, path in paths.items():
        ch = 1 if kind == "gray_sigmoid" else 3
        classes = {"mobilenet": ["a", "b", "c"], "resnet": list("wxyz"), "gray_sigmoid": ["n", "y"]}[kind]
        t = time.perf_counter()
        names[kind] = ingest(uploads.store, path.read_bytes(), path.name,
                             samples_bytes=sample_zip(classes, 4, 48, ch), samples_filename="s.zip").stored.name
        t_ingest = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        reg.get(names[kind])
        t_load = (time.perf_counter() - t) * 1e3
        rows.append(f"| ingest {kind} ({path.stat().st_size / 1024:.0f} KB file, 8 images) | {t_ingest:.0f} | – |")
        rows.append(f"| first load + warm-up {kind} | {t_load:.0f} | – |")
    name = names["mobilenet"]
    t = time.perf_counter()
    kernels_cb.render(ctx, name, 0, 3, "32", [], None)
    rows.append(f"| kernels page, MobileNetV2, first render (6 layers, cold caches) | "
                f"{(time.perf_counter() - t) * 1e3:.0f} | – |")
    rng = np.random.default_rng(0)
    keys = [n.key for n in reg.get(name).conv_layers]
    t = time.perf_counter()
    kernels_cb.render(ctx, name, 0, 3, "32", [], keys[:8])
    rows.append(f"| kernels page, MobileNetV2, 8 other layers (cold) | {(time.perf_counter() - t) * 1e3:.0f} | – |")
    timing, _ = time_calls(lambda *a: kernels_cb.render(*a), [
        (ctx, name, int(rng.integers(1 << 30)), 3, "32", [], None) for _ in range(args.runs)])
    rows.append(f"| kernels page, MobileNetV2, new seed (warm) | {timing.median:.1f} | {timing.p95:.1f} |")
    state, _ = conv_cb.update_state(ctx, None, name, None, None, None, rng=np.random.default_rng(0))
    states = []
    for i in range(args.runs):
        s, _ = conv_cb.update_state(ctx, {"type": "convolution-layer-button", "index": i % len(keys)}, name, None,
                                    None, state, rng=np.random.default_rng(i))
        states.append((ctx, s, "linear", [True]))
    timing, _ = time_calls(lambda *a: conv_cb.render(*a), states)
    rows.append(f"| convolution page, MobileNetV2, a different layer each call | {timing.median:.1f} | "
                f"{timing.p95:.1f} |")
    print(f"Machine: {machine()}\n")
    print("| step | median ms | p95 ms |\n|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
