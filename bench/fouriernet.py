"""Fourier-Net timing: g by the spatial layers vs Fourier-Net 1/2/3, and the kernel-importance analysis.

    python -m bench.fouriernet [--models mnist17] [--runs 30] [--batch 16] [--data ../shared/data]
                               [--write]

* ``g``: the time of g on a batch of bundled samples by the spatial layers (the
  Keras sub-model, compiled, float32) and by each Fourier-Net (numpy FFTs in
  float64, and tf.signal FFTs in float32); median and p95 over ``--runs`` runs, and the ratio to the spatial
  median (the baseline, measured in the same process).
* ``importance``: the full kernel-importance analysis (g of every image, every
  ablation, the add-back) of the bundled samples, and with ``--data`` of the
  first 500 images and of the whole test split (mnist17: 2,163 images).  Goal
  (issue 5): mnist17 on 500 images in <= 60 s on the 2-core CPU.

The Markdown is printed; ``--write`` also stores it in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine, time_calls, write_section  # noqa: E402


def parts_of(entry):
    from callbacks.fouriernet import _build_parts

    return _build_parts(entry)


def bench_g(entry, parts, batch: int, runs: int) -> list[str]:
    x = entry.x[:batch]
    fns = {"spatial layers (Keras)": parts.g, "Fourier-Net 1 (numpy f64)": parts.fnet.fn1,
           "Fourier-Net 2 (numpy f64)": parts.fnet.fn2, "Fourier-Net 3 (numpy f64)": parts.fnet.fn3}
    for v in ("fn1", "fn2", "fn3"):
        fns[f"Fourier-Net {v[-1]} (TF f32)"] = lambda a, v=v: parts.fnet.run_tf(v, a)
    rows, base = [], None
    for name, fn in fns.items():
        timing, _ = time_calls(fn, [(x,)] * runs, warmup=2)
        base = base or timing.median
        rows.append(f"| {entry.name} | {name} | {len(x)} | {timing.median:.2f} | {timing.p95:.2f} | "
                    f"{timing.median / base:.2f} |")
    return rows


def bench_callbacks(ctx, model: str, runs: int) -> list[str]:
    """Server-side latency of the two pages' handlers (median/p95 ms, largest response KB)."""
    from dash._utils import to_json

    from callbacks import chainrule, fouriernet

    entry = ctx.registry.get(model)
    n = entry.n_samples
    fouriernet.render(ctx, model, 0, 0)  # build the stack pieces once
    cases = {
        "fouriernet.render": (fouriernet.render, [(ctx, model, i % n, (7 * i) % 128) for i in range(runs)]),
        "fouriernet.render_kernels": (fouriernet.render_kernels,
                                      [(ctx, model, i % 8, {"points": [{"curveNumber": i % 32}]},
                                        "fouriernet-kernels-graph") for i in range(runs)]),
        "chainrule.render": (chainrule.render, [(ctx, model, i % n, "predicted" if i % 2 else "0", i % 128,
                                                 (3 * i) % 28, (5 * i) % 28) for i in range(runs)]),
        "chainrule.scalar": (chainrule.scalar, [(ctx, 1 + i % 5, "3, 4") for i in range(runs)]),
    }
    rows = []
    for name, (fn, calls) in cases.items():
        timing, outs = time_calls(fn, calls)
        kb = max(len(to_json(o).encode()) for o in outs) / 1024
        rows.append(f"| {model} | {name} | {timing.n} | {timing.median:.1f} | {timing.p95:.1f} | {kb:.1f} |")
    return rows


def bench_importance(entry, parts, x: np.ndarray, label: str, threshold: float = 0.3) -> str:
    from xai_core.importance import analyse

    t0 = time.perf_counter()
    g = np.concatenate([parts.g(x[i: i + 64]) for i in range(0, len(x), 64)])
    t_g = time.perf_counter() - t0
    head = parts.head if parts.head is not None else parts.h
    res = analyse(g, head, threshold=threshold)
    total = time.perf_counter() - t0
    return (f"| {entry.name} | {label} | {len(x)} | {t_g:.2f} | {res.seconds:.2f} | {total:.2f} | "
            f"{np.median(res.needed):.0f} ({res.needed.min()}–{res.needed.max()}) of {res.n_channels} |")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mnist17")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--data", type=Path, default=None, help="data root (e.g. ../shared/data) for the test split")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--write", action="store_true", help="store the section in bench/RESULTS.md")
    args = parser.parse_args(argv)

    import tempfile

    from callbacks.common import AppContext
    from dashboard.arrays import ArrayStore
    from dashboard.settings import Settings
    from models import ModelRegistry

    registry = ModelRegistry(device=args.device)
    tmp = Path(tempfile.mkdtemp(prefix="bench-fouriernet-"))
    ctx = AppContext(registry, Settings(cache_dir=tmp), ArrayStore(tmp / "arrays"))
    g_rows, imp_rows, cb_rows = [], [], []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        entry = registry.get(name)
        parts = parts_of(entry)
        g_rows += bench_g(entry, parts, args.batch, args.runs)
        cb_rows += bench_callbacks(ctx, name, args.runs)
        imp_rows.append(bench_importance(entry, parts, entry.x, "bundled samples"))
        if args.data is not None:
            from models.datasets import prepare

            test = prepare(entry.spec, args.data, "test")
            imp_rows.append(bench_importance(entry, parts, test.x[:500], "test split, first 500"))
            imp_rows.append(bench_importance(entry, parts, test.x, "test split, all"))
    cmd = "python -m bench.fouriernet " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "## Fourier-Net (issue 5)",
        "",
        f"`{cmd.strip()}` on {machine()}, device {registry.device.label}.",
        "",
        "Time of g per batch (ms); ratio = median / spatial median (same process).",
        "",
        "| model | g computed by | batch | median ms | p95 ms | ratio |",
        "|---|---|---|---|---|---|",
        *g_rows,
        "",
        "Kernel-importance analysis (threshold 30 %, exact: every ablation), seconds; goal mnist17 500 images "
        "<= 60 s.",
        "",
        "| model | images | n | g s | analysis s | total s | channels needed, median (range) |",
        "|---|---|---|---|---|---|---|",
        *imp_rows,
        "",
        "Page callbacks (server side, handler called directly, response serialised as Dash sends it).",
        "",
        "| model | callback | n | median ms | p95 ms | max response KB |",
        "|---|---|---|---|---|---|",
        *cb_rows,
    ])
    print(text)
    if args.write:
        write_section("fouriernet", text)
    return text


if __name__ == "__main__":
    main()
