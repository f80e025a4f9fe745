"""Figures of the Fourier-Net and Chain-rule pages (plain plotly dicts)."""

from __future__ import annotations

import numpy as np

from .images import Panel, encode, grid_figure, message_figure, symmetric_limit
from .theme import COLORWAY, base_layout, line_figure

VARIANT_NAMES = {"spatial": "spatial g(x)", "fn1": "Fourier-Net 1", "fn2": "Fourier-Net 2", "fn3": "Fourier-Net 3",
                 "fn1_tf": "FN1 (TF)", "fn2_tf": "FN2 (TF)", "fn3_tf": "FN3 (TF)"}
ERROR_FLOOR = 1e-12


def log_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log10(|a − b| + 1e-12)``: float-precision noise and real edge errors on one scale."""
    return np.log10(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) + ERROR_FLOOR)


def variants_figure(image: np.ndarray, outputs: dict[str, np.ndarray], channel: int) -> dict:
    """Row 1: the input and channel ``channel`` of g by each variant; row 2: log10 |FN_k − spatial|."""
    ref = outputs["spatial"]
    lim = symmetric_limit(*outputs.values())
    errs = {k: log_error(v, ref) for k, v in outputs.items() if k != "spatial"}
    lo = min(float(e.min()) for e in errs.values())
    hi = max(float(e.max()) for e in errs.values())
    img = np.asarray(image, np.float64)
    top = [Panel(img if img.ndim == 2 else img.mean(axis=-1), "input x", "image", None, "x")]
    top += [Panel(outputs[k], f"{VARIANT_NAMES[k]} [ch {channel}]", "signed", lim, "g", colorbar=k == "fn3")
            for k in ("spatial", "fn1", "fn2", "fn3")]
    bottom: list[Panel | None] = [None, None]
    bottom += [Panel(errs[k], f"log₁₀|{VARIANT_NAMES[k].replace('Fourier-Net', 'FN')} − spatial|", "error",
                     None, "log10 err", colorbar=k == "fn3") for k in ("fn1", "fn2", "fn3")]
    for p in bottom[2:]:
        p.z = np.clip(p.z, lo, hi)
    fig = grid_figure(top + bottom, cols=5, height_per_row=210)
    for trace in fig["data"]:
        if "log" in trace["name"]:
            trace.update(zmin=lo, zmax=hi if hi > lo else lo + 1)
    return fig


def fused_kernels_figure(kernels: np.ndarray, magnitudes: np.ndarray, first: int, selected: int | None) -> dict:
    """Fused kernels ``first .. first + n - 1`` (spatial, then |F|), 8 pairs a row.

    Args:
        kernels: ``(n, kh, kw)`` fused 2-D kernels.
        magnitudes: ``(n, G, G')`` centred |F{K}| on the Fourier-Net grid.
    """
    wlim = symmetric_limit(kernels)
    flim = float(np.max(magnitudes)) or 1.0
    panels = []
    for i, (k, m) in enumerate(zip(kernels, magnitudes)):
        idx = first + i
        mark = " ●" if idx == selected else ""
        panels.append(Panel(k, f"K{idx}{mark}", "signed", wlim, "w"))
        panels.append(Panel(m, f"|F K{idx}|", "magnitude", flim, "|F|"))
    fig = grid_figure(panels, cols=16, height_per_row=92, horizontal_spacing=0.006)
    fig["layout"]["clickmode"] = "event"
    return fig


def contributions_figure(terms: list[dict], c_out: int, fused: np.ndarray) -> dict:
    """For one fused kernel: the fused kernel, then per contributing channel m the
    earlier layers' fused kernel (c_in→m), the last layer's kernel (m→c_out) and their product term."""
    if not terms:
        return message_figure("Click a fused kernel to see what it is made of.", height=200)
    panels: list[Panel | None] = [Panel(fused, f"K{c_out} (sum of all terms)", "signed", None, "w", colorbar=True)]
    panels += [None, None]
    lim = symmetric_limit(*[t["part"] for t in terms])
    for t in terms:
        m = t["channel"]
        panels += [Panel(t["prefix"], f"earlier layers →{m}", "signed", None, "w"),
                   Panel(t["last"], f"last layer {m}→{c_out}", "signed", None, "w"),
                   Panel(t["part"], f"term via {m} (‖·‖={t['norm']:.3g})", "signed", lim, "w")]
    return grid_figure(panels, cols=3, height_per_row=150)


def timing_figure(timings: dict[str, dict], device: str) -> dict:
    """Median time of g per image by each variant, with the 95th percentile as an error bar."""
    names = list(timings)
    med = [timings[k]["median"] * 1e3 for k in names]
    p95 = [timings[k]["p95"] * 1e3 for k in names]
    trace = {"type": "bar", "x": [VARIANT_NAMES.get(k, k) for k in names], "y": med, "name": "median",
             "marker": {"color": [COLORWAY[i % len(COLORWAY)] for i in range(len(names))]},
             "error_y": {"type": "data", "symmetric": False, "array": [p - m for p, m in zip(p95, med)],
                         "arrayminus": [0] * len(med)},
             "text": [f"{m:.2f} ms" for m in med], "textposition": "outside",
             "hovertemplate": "%{x}: median %{y:.3f} ms per batch<extra></extra>"}
    return line_figure([trace], height=300, legend_below=False, title=f"Time of g on {device}",
                       yaxis={"title": {"text": "ms per batch (median, bar to p95)"}, "rangemode": "tozero"})


def counts_figure(counts: np.ndarray, n_images: int) -> dict:
    """How many images needed each fused channel."""
    x = np.arange(len(counts))
    trace = {"type": "bar", "x": encode(x, "i4"), "y": encode(counts, "i4"), "name": "images needing the channel",
             "marker": {"color": COLORWAY[0]},
             "hovertemplate": "channel %{x}: needed by %{y} image(s)<extra></extra>"}
    return line_figure([trace], height=300, legend_below=False, title=f"Channels needed, over {n_images} image(s)",
                       xaxis={"title": {"text": "fused channel"}},
                       yaxis={"title": {"text": "images that needed it"}})


def needed_figure(needed: np.ndarray, n_channels: int) -> dict:
    """Distribution of how many channels each image needed."""
    trace = {"type": "histogram", "x": encode(needed, "i4"), "name": "images",
             "xbins": {"start": 0.5, "end": n_channels + 0.5, "size": max(1, n_channels // 32)},
             "marker": {"color": COLORWAY[1]},
             "hovertemplate": "%{x} channels: %{y} image(s)<extra></extra>"}
    return line_figure([trace], height=300, legend_below=False, title="Channels needed per image",
                       xaxis={"title": {"text": f"channels needed (of {n_channels})"}},
                       yaxis={"title": {"text": "images"}})


def activations_figure(images: list[tuple[str, np.ndarray]], maps: np.ndarray, channels: list[int]) -> dict:
    """Rows: images; columns: the image, then g's top channels on it (one colour scale per channel)."""
    if not channels:
        return message_figure("No channel was needed.", height=200)
    panels: list[Panel | None] = []
    for row, (title, img) in enumerate(images):
        img = np.asarray(img, np.float64)
        panels.append(Panel(img if img.ndim == 2 else img.mean(axis=-1), title, "image", None, "x"))
        for j, c in enumerate(channels):
            panels.append(Panel(maps[row, :, :, j], f"ch {c}", "signed", symmetric_limit(maps[:, :, :, j]), "g"))
    return grid_figure(panels, cols=1 + len(channels), height_per_row=170)


def signed_grid(panels: list[tuple[np.ndarray, str]], cols: int, shared: bool = True, **kw) -> dict:
    """Signed panels sharing one symmetric scale (or each its own)."""
    lim = symmetric_limit(*[p for p, _ in panels]) if shared else None
    return grid_figure([Panel(z, t, "signed", lim, "value", colorbar=i == len(panels) - 1)
                        for i, (z, t) in enumerate(panels)], cols=cols, **kw)


def chain_gradient_figure(grads: dict[str, np.ndarray], direct: np.ndarray) -> dict:
    """Row 1: the tape gradient and each chain-rule gradient; row 2: log10 |chain − tape|."""
    names = list(grads)
    lim = symmetric_limit(direct, *grads.values())
    top = [Panel(direct, "GradientTape ∂y/∂x", "signed", lim, "∂y/∂x")]
    top += [Panel(g, n, "signed", lim, "∂y/∂x") for n, g in grads.items()]
    errs = [log_error(g, direct) for g in grads.values()]
    lo = min(float(e.min()) for e in errs)
    hi = max(float(e.max()) for e in errs)
    bottom: list[Panel | None] = [None]
    bottom += [Panel(np.clip(e, lo, hi), f"log₁₀|{n.split(' (')[0]} − tape|", "error", None, "log10 err",
                     colorbar=i == len(errs) - 1) for i, (n, e) in enumerate(zip(names, errs))]
    fig = grid_figure(top + bottom, cols=1 + len(names), height_per_row=220)
    for trace in fig["data"]:
        if trace["name"].startswith("log"):
            trace.update(zmin=lo, zmax=hi if hi > lo else lo + 1)
    return fig


def pixel_figure(spectrum: np.ndarray, spatial: np.ndarray, pixel: tuple[int, int], c_out: int) -> dict:
    """Real part and magnitude of ``F{δ_p}·F{K}`` and its inverse (``∂g_c/∂x_p``)."""
    real = np.real(spectrum)
    fig = grid_figure([
        Panel(real, f"Re F{{δ_p}}·F{{K{c_out}}}", "signed", None, "Re", colorbar=True),
        Panel(np.abs(spectrum), f"|F{{δ_p}}·F{{K{c_out}}}|", "magnitude", None, "|F|", colorbar=True),
        Panel(spatial, f"∂g[{c_out}]/∂x at p={pixel}", "signed", None, "∂g/∂x", colorbar=True),
    ], cols=3, height_per_row=260, horizontal_spacing=0.06)
    return fig


def empty_layout(height: int = 200) -> dict:
    layout = base_layout()
    layout["height"] = height
    return {"data": [], "layout": layout}
