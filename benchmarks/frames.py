"""Frame time of each Playground plot in the kernel, as the live view works now (widgets.canvas).

    python benchmarks/frames.py            # ~10 s; --frames N for more or fewer frames

For each of the Playground's four plots (decision boundary, loss, gradient norms, the network), over a run
of Play-like frames (a few hundred training steps, then the views' update):

- ``update``    the view's data update (``view.update(..., draw=False)``; the boundary's and the
                network's include the forward pass over their grid),
- ``scene``     the frame the page paints: the moving artists as numbers, built and serialised as
                ipywidgets sends them (``_remove_buffers`` and the JSON), and its size in kB,
- ``full draw`` a full Matplotlib draw of the figure (what a frame costs when an axis limit or a
                label changed, which sends new pictures),
- ``pictures``  encoding those pictures (the background PNG and the layers), and their size in kB,

in milliseconds (median and 90th percentile of the frames). The browser's side (frames per second
painted, the training share) is measured by ``tests/browser/test_frame_rate.py``, which prints it
and writes results/browser/frame-rate.txt. The designs that came before (whole ipympl pictures,
blitted diff PNGs) are gone; their figures are in benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from backprop_kit.widgets import Playground  # noqa: E402
from backprop_kit.widgets.canvas import pack  # noqa: E402


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, (time.perf_counter() - start) * 1000


def serialised(widget):
    """A frame as the kernel sends it: the scene built, split into JSON and buffers."""
    from ipywidgets.widgets.widget import _remove_buffers
    state, _, buffers = _remove_buffers({"scene": pack(widget._scene())})
    return len(json.dumps(state).encode()) + sum(len(b) for b in buffers)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--steps", type=int, default=300, help="training steps per frame")
    args = parser.parse_args(argv)

    panel = Playground(seed=0)
    trainer, views = panel.trainer, panel.views
    columns = ("update", "scene", "full", "pictures", "scene_kb", "pictures_kb")
    rows = {name: {key: [] for key in columns} for name in panel.figures}
    for _ in range(args.frames):
        trainer.step(args.steps)
        for name, widget in panel.canvases.items():
            view = getattr(views, name)
            source = {"boundary": trainer.net, "network": trainer}.get(name, trainer.history)
            _, ms = timed(lambda: view.update(source, draw=False))
            rows[name]["update"].append(ms)
            widget._draw_if_needed()                       # (a changed axis: a full draw, timed below)
            if widget._plan is None:
                widget._pictures()
            size, ms = timed(lambda: serialised(widget))
            rows[name]["scene"].append(ms)
            rows[name]["scene_kb"].append(size / 1000)
    for _ in range(max(5, args.frames // 6)):
        for name, widget in panel.canvases.items():
            rows[name]["full"].append(timed(widget._backgrounds.full_draw)[1])
            pictures, ms = timed(widget._pictures)
            rows[name]["pictures"].append(ms)
            rows[name]["pictures_kb"].append((len(pictures["background"])
                                              + sum(len(layer["png"]) for layer in pictures["layers"])) / 1000)

    print(f"Playground(seed=0), {args.frames} frames of {args.steps} steps; milliseconds (median / 90th percentile)\n")
    print(f"{'plot':<11}{'update':>15}{'scene':>15}{'full draw':>15}{'pictures':>15}   kB: scene  pictures")
    for name, row in rows.items():
        cells = [f"{np.median(row[k]):6.1f} / {np.percentile(row[k], 90):5.1f}" for k in columns[:4]]
        print(f"{name:<11}" + "".join(f"{c:>15}" for c in cells)
              + f"   {np.median(row['scene_kb']):9.1f} {np.median(row['pictures_kb']):9.1f}")
    frame = sum(np.median(rows[n]["update"]) + np.median(rows[n]["scene"]) for n in rows)
    redraw = sum(np.median(rows[n]["full"]) + np.median(rows[n]["pictures"]) for n in rows)
    print(f"\nall {len(rows)} plots: a frame {frame:.1f} ms (updates and scenes); "
          f"a full redraw of all of them {redraw:.1f} ms (draws and pictures)")


if __name__ == "__main__":
    main()
