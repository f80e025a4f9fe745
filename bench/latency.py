"""Server-side latency of each page callback, on every built-in model.

    python -m bench.latency [--runs 60] [--models mnist17,cifar5] [--pages kernels,convolution]

For every (page callback, model) the handler is called ``--runs`` times with
varying inputs, as Dash would call it, and the figure/JSON it returns is
serialised the way Dash sends it.  Reported: median and p95 in ms, the ratio of
the median to a baseline measured in the same process (one forward pass of the
same model on one image through the registry's compiled function), and the
largest response in KB.  Goals (issue 2/3): p95 <= 60 ms per callback (relevance
<= 50 ms, cifar5 relevance <= 120 ms) and responses <= 300 KB.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine, time_calls, write_section  # noqa: E402


@dataclass
class Case:
    """One callback to time: ``make_args(ctx, model, rng, runs)`` yields argument tuples."""

    page: str
    callback: str
    handler: Callable
    make_args: Callable[..., Iterator[tuple]]
    goal_ms: float = 60.0


def response_bytes(output) -> int:
    """Bytes of the JSON Dash would send for a handler's return value."""
    from dash._utils import to_json

    return len(to_json(output).encode())


def _kernels_cases() -> list[Case]:
    from callbacks import kernels as cb

    def args(ctx, model, rng, runs):
        ffts = ["32", "kernel", "input"]
        for i in range(runs):
            yield (ctx, model, int(rng.integers(0, 2**31 - 1)), int(rng.integers(1, 4)), ffts[i % 3],
                   [True] if i % 2 else [])

    def seed_args(ctx, model, rng, runs):
        for i in range(runs):
            yield (i,)

    return [Case("kernels", "render", cb.render, args),
            Case("kernels", "new_seed", lambda n: cb.new_seed(n), seed_args)]


def _convolution_cases() -> list[Case]:
    from callbacks import convolution as cb
    from dashboard import ids

    def render_args(ctx, model, rng, runs):
        entry = ctx.registry.get(model)
        for i in range(runs):
            layer = i % len(entry.conv_layers)
            state, _ = cb.update_state(ctx, ids.conv_layer_button(layer), model, None, None,
                                       {"model": model, "image": int(rng.integers(entry.n_samples)), "layer": 0,
                                        "c_in": 0, "c_out": 0}, rng=rng)
            yield (ctx, state, "linear" if i % 2 else "circular", [True] if i % 3 else [])

    def state_args(ctx, model, rng, runs):
        entry = ctx.registry.get(model)
        state = {"model": model, "image": 0, "layer": 0, "c_in": 0, "c_out": 0, "upload": None}
        for i in range(runs):
            trigger = ids.CONV_INPUT_BUTTON if i % 2 else ids.conv_layer_button(i % len(entry.conv_layers))
            yield (ctx, trigger, model, None, None, state)

    return [Case("convolution", "render", cb.render, render_args),
            Case("convolution", "update_state", cb.update_state, state_args),
            Case("convolution", "layer_buttons", cb.layer_buttons,
                 lambda ctx, model, rng, runs: ((ctx, model) for _ in range(runs)))]


CASE_BUILDERS = {"kernels": _kernels_cases, "convolution": _convolution_cases}



# --- relevance and summary pages (issue 3) ---
RELEVANCE_GOALS = {"cifar5": 120.0}  # p95 ms; 50 ms for the linear-stack models


def _relevance_cases() -> list[Case]:
    from callbacks import relevance as cb
    from xai_core.filters import FILTERS

    def cold(*a):
        """A new image: nothing cached, so one backward pass, one filter and one forward pass."""
        cb.GRADIENTS.clear()
        cb.ROOTS.clear()
        cb.ROOT_POINTS.clear()
        return cb.render(*a)

    def new_sigma(*a):
        """A new sigma or filter: the gradient is cached, the root point and f(x̃) are not."""
        cb.ROOTS.clear()
        cb.ROOT_POINTS.clear()
        return cb.render(*a)

    def image_args(ctx, model, rng, runs):
        entry = ctx.registry.get(model)
        for i in range(runs):
            yield (ctx, model, i % entry.n_samples, FILTERS[i % 3], 1.0, "predicted", [True] if i % 2 else [],
                   [True], "sum", 1.0, 0.6)

    def sigma_args(ctx, model, rng, runs):
        for i in range(runs):
            yield (ctx, model, 0, FILTERS[i % 3], 0.25 * (1 + i % 20), "predicted", [True], [True], "sum", 1.0, 0.6)

    def sigma_args_no_numbers(ctx, model, rng, runs):
        for i in range(runs):
            yield (ctx, model, 0, FILTERS[i % 3], 0.25 * (1 + i % 20), "predicted", [True], [], "sum", 1.0, 0.6)

    def gamma_args(ctx, model, rng, runs):
        for i in range(runs):
            yield (ctx, 0.1 + 0.1 * (i % 29), model, 0, "gaussian", 1.0, "predicted", [True], "sum")

    cases = [Case("relevance", "render (new image)", cold, image_args, 50.0),
             Case("relevance", "render (new sigma)", new_sigma, sigma_args, 50.0),
             Case("relevance", "render (new sigma, numbers off: no model call)", new_sigma, sigma_args_no_numbers,
                  50.0),
             Case("relevance", "restyle_gamma", cb.restyle_gamma, gamma_args, 50.0),
             Case("relevance", "set_opacity", cb.set_opacity,
                  lambda ctx, model, rng, runs: ((0.05 * (i % 20),) for i in range(runs)), 50.0)]
    for case in cases:
        case.model_goals = RELEVANCE_GOALS
    return cases


def _summary_cases() -> list[Case]:
    from callbacks import summary as cb

    def table_args(ctx, model, rng, runs):
        views = ["all", "conv", "dense", "other"]
        for i in range(runs):
            yield (ctx, model, views[i % 4])

    def render_args(ctx, model, rng, runs):
        entry = ctx.registry.get(model)
        for _ in range(runs):
            layer = int(rng.integers(len(entry.conv_layers)))
            yield (ctx, model, layer, int(rng.integers(cb.out_channels(entry, layer))),
                   int(rng.integers(entry.n_samples)))

    def range_args(ctx, model, rng, runs):
        entry = ctx.registry.get(model)
        for i in range(runs):
            yield (ctx, model, i % len(entry.conv_layers), 3, 2)

    return [Case("summary", "table", cb.table, table_args),
            Case("summary", "render", cb.render, render_args),
            Case("summary", "slider_ranges", cb.slider_ranges, range_args)]


CASE_BUILDERS.update(relevance=_relevance_cases, summary=_summary_cases)

def make_context(tmp: Path):
    from callbacks.common import AppContext
    from dashboard.arrays import ArrayStore
    from dashboard.settings import Settings
    from models import ModelRegistry

    registry = ModelRegistry(device=os.environ.get("KERNELSCOPE_DEVICE", "auto"))
    settings = Settings(cache_dir=tmp)
    return AppContext(registry, settings, ArrayStore(tmp / "arrays"))


def baseline(ctx, model: str, runs: int) -> float:
    entry = ctx.registry.get(model)
    timing, _ = time_calls(entry.predict, [(entry.x[i % entry.n_samples][None],) for i in range(runs)])
    return timing.median


def main(argv=None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--models", default="mnist17,cifar10,cifar10pad,cifar5")
    parser.add_argument("--pages", default=",".join(CASE_BUILDERS))
    parser.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    args = parser.parse_args(argv)
    models = args.models.split(",")
    pages = args.pages.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_context(Path(tmp))
        for model in models:
            base = baseline(ctx, model, max(args.runs, 50))
            for page in pages:
                for case in CASE_BUILDERS[page]():
                    rng = np.random.default_rng(0)
                    calls = list(case.make_args(ctx, model, rng, args.runs))
                    timing, outputs = time_calls(case.handler, calls)
                    kb = max(response_bytes(o) for o in outputs) / 1024
                    goal = getattr(case, "model_goals", {}).get(model, case.goal_ms)
                    ok = timing.p95 <= goal and kb <= 300
                    rows.append((case.page, case.callback, model, timing, base, kb, goal, ok))
                    print(f"{case.page:12s} {case.callback:16s} {model:10s} median {timing.median:7.1f} ms  "
                          f"p95 {timing.p95:7.1f} ms  x{timing.median / base:5.1f}  {kb:6.1f} KB  "
                          f"{'ok' if ok else 'OVER GOAL'}", flush=True)
        device = ctx.registry.device.label
    lines = [
        "## Callback latency (server side)",
        "",
        f"Command: `python -m bench.latency --runs {args.runs} --models {args.models} --pages {args.pages}`  ",
        f"Machine: {machine()}; device: {device}.  ",
        "Baseline: the median of one forward pass of the same model on one image (registry's compiled function).",
        "",
        "| page | callback | model | n | median ms | p95 ms | median / baseline | baseline ms "
        "| max response KB | goal |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for page, cbname, model, t, base, kb, goal, ok in rows:
        lines.append(f"| {page} | {cbname} | {model} | {t.n} | {t.median:.1f} | {t.p95:.1f} | {t.median / base:.1f} | "
                     f"{base:.2f} | {kb:.1f} | p95 ≤ {goal:.0f} ms, ≤ 300 KB: {'met' if ok else '**missed**'} |")
    if not args.no_write:
        write_section("latency-" + "-".join(pages), "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
