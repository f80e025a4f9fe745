"""Attribution methods: milliseconds per image at batch 1 and 32, optionally against Xplique.

    python -m bench.attribution [--runs 20] [--models mnist17,cifar5] [--methods saliency,...] [--no-write]
    XPLIQUE_PYTHON=/work/venvs/xplique/bin/python python -m bench.attribution --xplique

For every (model, method) the method explains ``--runs`` different calls of 1
and of 32 images (after two untimed warm-up calls) and the median and p95 per
call are divided by the batch size.  With ``--xplique`` the same methods with
matching definitions run in Xplique's own virtualenv (``XPLIQUE_PYTHON``, see
``bench/xplique_runner.py``) on the same model file and inputs; the report
adds Xplique's ms/image, the speed-up, and the mean Pearson correlation
between the two libraries' maps of the same 32 images (after Xplique's channel
reduction is applied to ours).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import Timing, machine, time_calls, write_section  # noqa: E402

# our method -> (our params, Xplique class, Xplique options, how Xplique reduces channels, why they may differ)
CASES = {
    "saliency": ({}, "Saliency", {}, "max", "same definition (max over channels of abs(grad))"),
    "gradient_input": ({}, "GradientInput", {}, "mean", "same definition"),
    "integrated_gradients": ({"steps": 31}, "IntegratedGradients", {"steps": 32, "baseline_value": 0.0}, "mean",
                             "same 32 nodes and trapezoid weights, black baseline"),
    "smoothgrad": ({"samples": 16, "noise": 0.2, "method": "gradient"}, "SmoothGrad",
                   {"nb_samples": 16, "noise": 0.2}, "mean", "same estimator, different noise draws"),
    "vargrad": ({"samples": 16, "noise": 0.2, "method": "gradient"}, "VarGrad", {"nb_samples": 16, "noise": 0.2},
                "mean", "same estimator, different noise draws"),
    "squaregrad": ({"samples": 16, "noise": 0.2, "method": "gradient"}, "SquareGrad",
                   {"nb_samples": 16, "noise": 0.2}, "mean", "same estimator, different noise draws"),
    "gradcam": ({}, "GradCAM", {}, "mean", "same layer; Xplique normalises the map"),
    "gradcampp": ({}, "GradCAMPP", {}, "mean", "same layer; Xplique normalises the map"),
    "occlusion": ({"patch": 4, "stride": 4, "fill": "zero"}, "Occlusion",
                  {"patch_size": 4, "patch_stride": 4, "occlusion_value": 0.0}, "mean",
                  "non-overlapping patches: ours averages, Xplique sums (equal here)"),
    "guided_backprop": ({}, "GuidedBackprop", {}, "mean", "same definition"),
    "taylor": ({}, None, {}, None, ""),
    "expected_gradients": ({"samples": 32}, None, {}, None, ""),
    "lighting": ({"patch": 2}, None, {}, None, ""),
    "topk": ({}, None, {}, None, ""),
    "layer_sensitivity": ({}, None, {}, None, ""),
}
BATCH = 128  # model evaluations per compiled call, for both libraries (large batches thrash the CPU caches)


def inputs(entry, runs: int) -> dict[str, np.ndarray]:
    """``runs`` calls of 1 image and of 32 images (cycling through the bundled samples), with predicted targets."""
    n = entry.n_samples
    x1 = entry.x[np.arange(runs) % n]
    x32 = entry.x[np.arange(runs * 32) % n]
    return {"x1": x1, "t1": np.argmax(entry.predict(x1), axis=1).astype(np.int32),
            "x32": x32, "t32": np.argmax(entry.predict(x32), axis=1).astype(np.int32)}


def reduce(maps: np.ndarray, how: str) -> np.ndarray:
    maps = np.asarray(maps, np.float64)
    if maps.ndim == 3:
        return maps
    if maps.shape[-1] == 1:
        return maps[..., 0]
    return np.abs(maps).max(axis=-1) if how == "max" else maps.mean(axis=-1)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    rs = []
    for u, v in zip(a.reshape(len(a), -1), b.reshape(len(b), -1)):
        if u.std() > 0 and v.std() > 0:
            rs.append(np.corrcoef(u, v)[0, 1])
    return float(np.mean(rs)) if rs else float("nan")


def run_ours(entry, key: str, params: dict, data: dict, runs: int):
    from xai_core.attributions import make

    explainer = make(key, entry.model, params, background=entry.x, value_range=entry.spec.value_range,
                     batch_size=BATCH)
    result = {}
    for b in (1, 32):
        x, t = data[f"x{b}"], data[f"t{b}"]
        calls = [(x[i * b:(i + 1) * b], t[i * b:(i + 1) * b]) for i in range(runs)]
        timing, outs = time_calls(explainer.explain, calls)
        result[b] = timing
        if b == 32:
            result["maps"] = outs[0]
    return result


def run_xplique(python: str, entry, methods: dict, data: dict, runs: int, tmp: Path):
    np.savez(tmp / "inputs.npz", **data)
    request = {"model": str(entry.spec.weights_path), "inputs": str(tmp / "inputs.npz"), "runs": runs,
               "output": str(tmp / "xplique.npz"), "methods": methods}
    (tmp / "request.json").write_text(json.dumps(request))
    runner = Path(__file__).resolve().parent / "xplique_runner.py"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="-1")
    proc = subprocess.run([python, str(runner), str(tmp / "request.json")], capture_output=True, text=True, env=env,
                          timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"the Xplique runner failed:\n{proc.stderr[-3000:]}")
    versions = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(tmp / "xplique.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}, versions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--models", default="mnist17,cifar5")
    parser.add_argument("--methods", default=",".join(CASES))
    parser.add_argument("--xplique", action="store_true", help="compare with Xplique in $XPLIQUE_PYTHON")
    parser.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    args = parser.parse_args(argv)
    from models import ModelRegistry

    registry = ModelRegistry(device=os.environ.get("KERNELSCOPE_DEVICE", "cpu"))
    methods = args.methods.split(",")
    python = os.environ.get("XPLIQUE_PYTHON") if args.xplique else None
    if args.xplique and not python:
        parser.error("--xplique needs XPLIQUE_PYTHON (the python of Xplique's virtualenv)")
    rows, versions = [], None
    for model in args.models.split(","):
        entry = registry.get(model)
        data = inputs(entry, args.runs)
        theirs = {}
        if python:
            from xai_core.attributions.gradcam import default_layer

            layer = default_layer(entry.model)
            spec = {}
            for m in methods:
                _, cls, opts, _, _ = CASES[m]
                if cls:
                    opts = dict(opts, batch_size=BATCH)
                    if cls.startswith("GradCAM"):
                        opts["conv_layer"] = layer
                    spec[m] = (cls, opts)
            with tempfile.TemporaryDirectory() as tmp:
                theirs, versions = run_xplique(python, entry, spec, data, args.runs, Path(tmp))
        for m in methods:
            params, cls, _, how, why = CASES[m]
            ours = run_ours(entry, m, params, data, args.runs)
            row = {"model": model, "method": m, "b1": ours[1], "b32": ours[32], "why": why}
            if m in theirs:
                row["x1"] = Timing(list(theirs[f"{m}/1"]))
                row["x32"] = Timing(list(theirs[f"{m}/32"]))
                row["corr"] = correlation(reduce(ours["maps"], how), reduce(theirs[m], how))
            rows.append(row)
            extra = ""
            if "x1" in row:
                extra = (f" | xplique b1 {row['x1'].median:.2f} b32 {row['x32'].median / 32:.2f} ms/img"
                         f" | corr {row['corr']:.3f}")
            print(f"{model:8s} {m:22s} b1 {ours[1].median:8.2f} ms/img (p95 {ours[1].p95:.2f})  "
                  f"b32 {ours[32].median / 32:8.2f} ms/img (p95 {ours[32].p95 / 32:.2f}){extra}", flush=True)
    lines = [
        "## Attribution methods (ms per image)",
        "",
        f"Command: `{'XPLIQUE_PYTHON=... ' if python else ''}python -m bench.attribution --runs {args.runs} "
        f"--models {args.models}{' --xplique' if python else ''}`  ",
        f"Machine: {machine()}; device: {registry.device.label}; {args.runs} calls per cell after 2 warm-ups; "
        f"median (p95) per image.  ",
    ]
    if versions:
        lines.append(f"Xplique {versions['xplique']} on TensorFlow {versions['tensorflow']} / Keras "
                     f"{versions['keras']} in its own virtualenv (installed with --no-deps).  ")
    lines += ["", "| model | method | ours b=1 | ours b=32 | Xplique b=1 | Xplique b=32 | speed-up b=1 / b=32 "
              "| map correlation | note |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = f"| {r['b1'].median:.2f} ({r['b1'].p95:.2f}) | {r['b32'].median / 32:.2f} ({r['b32'].p95 / 32:.2f}) "
        if "x1" in r:
            theirs = (f"| {r['x1'].median:.2f} ({r['x1'].p95:.2f}) | {r['x32'].median / 32:.2f} "
                      f"({r['x32'].p95 / 32:.2f}) | {r['x1'].median / r['b1'].median:.1f}× / "
                      f"{r['x32'].median / r['b32'].median:.1f}× | {r['corr']:.3f} | {r['why']} |")
        else:
            theirs = "| — | — | — | — | no Xplique equivalent |" if not CASES[r["method"]][1] else "| — | — | — | — | |"
        lines.append(f"| {r['model']} | {r['method']} " + ours + theirs)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("attribution", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
