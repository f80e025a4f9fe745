"""Browser round trip of the Relevance page: slider moved -> figure redrawn, in headless Chromium.

    python -m bench.roundtrip [--runs 40] [--model mnist17] [--no-write]

The app runs in this process (``dash.testing``'s threaded runner) and
Chromium drives it.  Each sample is measured inside the page with
``performance.now()``: from the key press that moves the slider's thumb to the
``plotly_afterplot`` event of the relevance graph, so it includes the request,
the server callback, the JSON transfer, plotly's decoding and the redraw.

* ``sigma``: the sigma slider (new root point, f(x̃) and R; the root-point
  cache is emptied before every move so each one computes);
* ``image``: the image slider (new gradients of every class; all caches emptied);
* ``gamma``: the gamma slider (a ``Patch`` of the R panel, no model call).

Goal (issue 3): p95 <= 250 ms on mnist17.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timing, machine, write_section  # noqa: E402

MOVE_JS = """
const done = arguments[arguments.length - 1];
const [graphSel, sliderSel] = [arguments[0], arguments[1]];
const g = document.querySelector(graphSel + ' .js-plotly-plot');
const thumb = document.querySelector(sliderSel + " [role='slider']");
// walk right to the end, then left to the start, and so on
const v = +thumb.getAttribute('aria-valuenow'), lo = +thumb.getAttribute('aria-valuemin'),
      hi = +thumb.getAttribute('aria-valuemax');
window.__dirs = window.__dirs || {};
let d = window.__dirs[sliderSel] || 1;
if (d > 0 && v >= hi) d = -1;
if (d < 0 && v <= lo) d = 1;
window.__dirs[sliderSel] = d;
const key = d > 0 ? 'ArrowRight' : 'ArrowLeft';
const timer = setTimeout(() => done(-1), 10000);
const t0 = performance.now();
const h = () => { g.removeListener('plotly_afterplot', h); clearTimeout(timer); done(performance.now() - t0); };
g.on('plotly_afterplot', h);
thumb.focus();
thumb.dispatchEvent(new KeyboardEvent('keydown', {key: key, code: key, bubbles: true}));
"""


def chromium_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in ("--headless=new", "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-quic", "--window-size=1400,1000"):
        options.add_argument(flag)
    return options


def measure(duo, slider_id: str, runs: int, before_each) -> Timing:
    """Move ``slider_id`` one step ``runs`` times (to one end, then back)."""
    from dashboard import ids

    samples = []
    for _ in range(runs):
        before_each()
        ms = duo.driver.execute_async_script(MOVE_JS, f"#{ids.RELEVANCE_GRAPH}", f"#{slider_id}")
        if ms < 0:
            raise RuntimeError(f"the relevance graph did not redraw after moving {slider_id}")
        samples.append(float(ms))
    return Timing(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--model", default="mnist17")
    parser.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    args = parser.parse_args(argv)

    from dash.testing.application_runners import ThreadedRunner
    from dash.testing.composite import DashComposite

    from callbacks import relevance as cb
    from dashboard import ids
    from dashboard.app import create_app
    from dashboard.settings import Settings
    from models import ModelRegistry
    from models.specs import BUILTIN_SPECS

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    registry = ModelRegistry(device=os.environ.get("KERNELSCOPE_DEVICE", "auto"))
    registry.get(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(cache_dir=Path(tmp), device="cpu"), registry)
        with ThreadedRunner() as server, DashComposite(server, browser="chrome", headless=True,
                                                       options=[chromium_options()]) as duo:
            duo.start_server(app)
            duo.driver.get(duo.server_url + "/relevance")
            if args.model != "mnist17":
                duo.select_dcc_dropdown(f"#{ids.APP_MODEL_DROPDOWN}", value=BUILTIN_SPECS[args.model].title)
            duo.wait_for_contains_text(f"#{ids.RELEVANCE_CAPTION_TEXT}", "σ = 1", timeout=30)

            def clear_roots():
                cb.ROOTS.clear()
                cb.ROOT_POINTS.clear()

            def clear_all():
                cb.ROOTS.clear()
                cb.ROOT_POINTS.clear()
                cb.GRADIENTS.clear()

            warm = max(3, args.runs // 10)
            for name, slider, before in (("sigma", ids.RELEVANCE_SIGMA_SLIDER, clear_roots),
                                         ("image", ids.RELEVANCE_IMAGE_SLIDER, clear_all),
                                         ("gamma", ids.RELEVANCE_GAMMA_SLIDER, lambda: None)):
                measure(duo, slider, warm, before)
                t = measure(duo, slider, args.runs, before)
                rows.append((name, t))
                print(f"{name:6s} {args.model}: median {t.median:6.1f} ms  p95 {t.p95:6.1f} ms  (n={t.n})", flush=True)
            logs = duo.get_logs()
            if logs:
                print("browser console:", logs)
    lines = [
        "## Browser round trip (Relevance page)",
        "",
        f"Command: `python -m bench.roundtrip --runs {args.runs} --model {args.model}`  ",
        f"Machine: {machine()}; headless Chromium; device: {registry.device.label}.  ",
        "From the key press that moves a slider to plotly's `plotly_afterplot` on the relevance graph.",
        "",
        "| slider | model | n | median ms | p95 ms | goal |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in rows:
        lines.append(f"| {name} | {args.model} | {t.n} | {t.median:.1f} | {t.p95:.1f} | "
                     f"p95 ≤ 250 ms: {'met' if t.p95 <= 250 else '**missed**'} |")
    if not args.no_write:
        write_section("roundtrip-relevance", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
