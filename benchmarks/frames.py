"""Frame time of each plot update in the Playground's live view, side by side.

    python benchmarks/frames.py            # ~1 min; --frames N for more or fewer frames

For each of the Playground's three plots (loss, gradient norms, decision boundary), over a
run of Play-like frames (a few hundred training steps, then the views' update):

- ``update``   the view's data update (``view.update(..., draw=False)``; the boundary's includes
               the forward pass over its grid),
- ``full``     a full Matplotlib draw of the figure (what every frame cost before blitting),
- ``blit``     ``plots.Blitter.draw()``: only the moving artists, in the strip that changed
               (a full draw when an axis limit changed: counted in the median as it happens),
- ``png``      encoding the picture sent to the browser: ``_base.png_bytes`` (zlib, no filters)
               vs Pillow's optimising encoder (what Matplotlib's ``print_png`` uses),
- ``scene``    what the Playground sends now instead (``_layered.LayeredCanvas``): the frame's
               moving artists as numbers, built and serialised as ipywidgets sends them
               (``_remove_buffers`` and the JSON), and its size in kB beside the blitted PNG's,

in milliseconds (median and 90th percentile of the frames), with ``full/blit``. The browser's
side (frames per second drawn, the training share) is measured by
``tests/browser/test_frame_rate.py``, which prints it and writes results/browser/frame-rate.txt.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from backprop_kit.widgets import Playground, _base  # noqa: E402


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, (time.perf_counter() - start) * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--steps", type=int, default=300, help="training steps per frame")
    args = parser.parse_args(argv)

    panel = Playground(seed=0)
    trainer, views = panel.trainer, panel.views
    for figure in panel.figures.values():
        figure.canvas.draw()
    rows = {name: {"update": [], "full": [], "blit": [], "png": [], "pillow": [], "scene": [],
                   "png_kb": [], "scene_kb": []} for name in panel.figures}
    for name, blitter in panel.blitters.items():
        blitter.paint_after_draw = True        # the Agg columns: a full draw paints the lines too
        panel.canvases[name].show()            # (pictures; the scene column builds frames after them)
    kinds = {name: [] for name in panel.figures}
    for _ in range(args.frames):
        trainer.step(args.steps)
        for name in panel.figures:
            view = getattr(views, name)
            _, ms = timed(lambda: view.update(trainer.net if name == "boundary" else trainer.history, draw=False))
            rows[name]["update"].append(ms)
            kind, ms = timed(panel.blitters[name].draw)
            rows[name]["blit"].append(ms)
            kinds[name].append(kind)
            pixels = np.asarray(panel.figures[name].canvas.get_renderer().buffer_rgba())
            encoded, ms = timed(lambda: _base.png_bytes(pixels))
            rows[name]["png"].append(ms)
            rows[name]["png_kb"].append(len(encoded) / 1000)
            widget = panel.canvases[name]
            (state, buffers), ms = timed(lambda: _serialised(widget))
            rows[name]["scene"].append(ms)
            rows[name]["scene_kb"].append((len(state) + sum(len(b) for b in buffers)) / 1000)
            rows[name]["pillow"].append(timed(lambda: Image.fromarray(pixels).save(io.BytesIO(), "png", optimize=False))[1])
    # full draws of the same figures, last (a full draw makes the next blit a full draw too)
    for _ in range(max(5, args.frames // 6)):
        for name, figure in panel.figures.items():
            rows[name]["full"].append(timed(figure.canvas.draw)[1])

    print(f"Playground(seed=0), {args.frames} frames of {args.steps} steps; milliseconds per frame "
          f"(median / 90th percentile)\n")
    print(f"{'plot':<11}{'update':>14}{'full draw':>14}{'blit':>14}{'png (kit)':>14}{'png (Pillow)':>14}"
          f"{'scene':>14}{'full/blit':>11}   blits   kB: png  scene")
    for name, row in rows.items():
        cells = []
        for key in ("update", "full", "blit", "png", "pillow", "scene"):
            values = np.array(row[key])
            cells.append(f"{np.median(values):6.1f} / {np.percentile(values, 90):5.1f}")
        ratio = np.median(row["full"]) / np.median(row["blit"])
        share = kinds[name].count("blit") + kinds[name].count("same")
        print(f"{name:<11}" + "".join(f"{c:>14}" for c in cells) + f"{ratio:10.1f}x   {share}/{len(kinds[name])}"
              f"   {np.median(row['png_kb']):7.1f} {np.median(row['scene_kb']):6.1f}")
    total_full = sum(np.median(rows[n]["full"]) + np.median(rows[n]["pillow"]) for n in rows)
    total_blit = sum(np.median(rows[n]["blit"]) + np.median(rows[n]["png"]) for n in rows)
    total_scene = sum(np.median(rows[n]["scene"]) for n in rows)
    print(f"\nall three plots, a frame: {total_full:.1f} ms drawn whole and encoded, "
          f"{total_blit:.1f} ms blitted and encoded ({total_full / total_blit:.1f}x), "
          f"{total_scene:.1f} ms as scenes ({total_full / total_scene:.0f}x)")


def _serialised(widget):
    """A LayeredCanvas frame as the kernel sends it: the scene built, split into JSON and buffers."""
    from ipywidgets.widgets.widget import _remove_buffers

    from backprop_kit.widgets._layered import pack
    state, _, buffers = _remove_buffers({"scene": pack(widget._scene())})
    return json.dumps(state).encode(), buffers


if __name__ == "__main__":
    main()
