"""How smooth the Playground's live view is in a real browser (issue 6: >= 20 frames/s while
training, and training with the view keeps >= 70% of its headless steps per second).

This PRINTS its measurements (and writes them to results/browser/frame-rate.txt); it asserts
only what a broken live view fails, not the goals: a shared 2-core machine cannot promise a frame
rate to a test (with the kernel and the browser on one core, a working view painted 3.1
frames/s). Asserted: no page errors; every plot paints more than a frame a second; most of a
plot's frames are frames, not full redraws (at most half of them sent new pictures: a view that
redraws whole every frame fails); the plots paint together; training went on.

- frames drawn: each plot (a LayeredCanvas) counts the frames it painted in its element's
  ``data-frames`` attribute; a MutationObserver notes the time of each change per ``bk-plot-*``.
- frames received: the kernel's messages holding a scene (one frame of one plot) on the websocket.
- messages to the kernel: what the page sent on the websocket; its "painted" messages say what
  each plot painted, all of them in one message (each message makes the kernel busy for a moment,
  which JupyterLab shows page-wide).
- the page's main thread: Chromium's Performance metrics (TaskDuration: all its work) over the window.
- steps per second while playing: the step number of the status line, over the window.
- headless steps per second: the same Trainer settings stepping in a loop in the same kernel,
  with nothing drawn (``Playground(seed=0).trainer``, in chunks of 100 steps).
- in the kernel: the share of the window spent in a frame's training (training in the kernel, or
  fetching the worker process's latest state: backprop_kit.widgets._worker) and showing, the share
  of that time the main thread was on a core (thread CPU time over wall time: less than ~100% means
  another process or the host took the core), each kernel thread's CPU, and how many of the
  window's steps the worker process trained.
"""
import json
import os
import re
import time

import psutil

from browser_helpers import (RESULTS, kernel_execute, open_and_run, step_number, wait_canvas_drawn, wait_for_css,
                             wait_until)

NB = "playground.ipynb"
PLOTS = ("bk-plot-network", "bk-plot-boundary", "bk-plot-loss", "bk-plot-gradients")
WINDOW = 5.0          # seconds of playing measured
WARM_UP = 1.5         # seconds of playing before the window (first frames, layouts)
FLOOR_FPS = 1.0       # frames/s of each plot: a live view below it is broken, not slow

_COUNT_FRAMES_JS = """
() => {
  if (window.__bkFrames) return;
  const frames = {};
  window.__bkFrames = frames;
  // a LayeredCanvas counts the frames it painted in its element's data-frames attribute
  window.__bkBatches = [];
  // one call per batch of changes: the plots painted on one animation frame of the page
  const observer = new MutationObserver(records => {
    const now = performance.now();
    window.__bkBatches.push(now);
    for (const record of records) {
      const plot = record.target;
      const name = [...plot.classList].find(c => c.startsWith('bk-plot-'));
      if (name) (frames[name] = frames[name] || []).push(now);
    }
  });
  document.querySelectorAll('[class*="bk-plot-"]').forEach(plot =>
    observer.observe(plot, {attributes: true, attributeFilter: ['data-frames']}));
}
"""

# the same Trainer settings as the fixture's panel (Playground(seed=0)), stepping with nothing drawn
_HEADLESS = """
import time as _time
from backprop_kit.widgets import Playground as _Playground
_trainer = _Playground(seed=0).trainer
_trainer.step(300)
_steps, _start = 0, _time.perf_counter()
while _time.perf_counter() - _start < {seconds}:
    _trainer.step(100)
    _steps += 100
print("HEADLESS", _steps / (_time.perf_counter() - _start))
"""


# what the kernel did in the window: Play frames, and per canvas the pictures it rendered and sent
_KERNEL_STATS_START = """
import time as _time
def _bk_threads():                          # CPU seconds of each of the kernel's threads, by name
    import psutil as _psutil, threading as _threading
    names = {t.native_id: t.name for t in _threading.enumerate()}
    return {names.get(t.id, f"thread {t.id}"): t.user_time + t.system_time for t in _psutil.Process().threads()}
def _bk_stats():
    out = {"threads": _bk_threads(), "frames": panel.loop.frames, "time": _time.perf_counter(),
           "cpu": _time.process_time(), "show": getattr(panel, "_bk_show_seconds", 0.0),
           "training": getattr(panel, "_bk_training_seconds", 0.0),
           "training_cpu": getattr(panel, "_bk_training_seconds_cpu", 0.0), "steps": panel.trainer.steps,
           "worker_steps": panel._worker_steps}
    for _name, _canvas in panel.canvases.items():
        out[_name] = dict(_canvas.stats)
    return out
def _bk_timed(owner, name, total):          # add up in panel.<total> the seconds in owner.<name>,
    setattr(panel, total, 0.0)                 # and in panel.<total>_cpu this thread's CPU seconds in it
    setattr(panel, total + "_cpu", 0.0)
    method = getattr(owner, name)
    def timed(*args, **kwargs):
        _started, _cpu = _time.perf_counter(), _time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            setattr(panel, total, getattr(panel, total) + _time.perf_counter() - _started)
            setattr(panel, total + "_cpu", getattr(panel, total + "_cpu") + _time.thread_time() - _cpu)
    setattr(owner, name, timed)
if not hasattr(panel, "_bk_show_seconds"):
    _bk_timed(panel, "_show", "_bk_show_seconds")
    _bk_timed(panel.loop, "train", "_bk_training_seconds")     # a Play frame's training (or fetching it)
_bk_before = _bk_stats()
"""
_KERNEL_STATS_END = """
_bk_after = _bk_stats()
_seconds = _bk_after["time"] - _bk_before["time"]
def _bk_delta(key):
    return _bk_after[key] - _bk_before[key]
print(f"KERNEL frames {_bk_delta('frames') / _seconds:.1f}/s, CPU {_bk_delta('cpu') / _seconds:.0%} of the window, "
      f"training {_bk_delta('training') / _seconds:.0%} of it, "
      f"showing (views, scenes, status) {_bk_delta('show') / _seconds:.0%}; "
      f"in a frame's training, the main thread was on a core {_bk_delta('training_cpu') / max(_bk_delta('training'), 1e-9):.0%}"
      f" of the time")
print(f"KERNEL steps trained in the worker process: {_bk_delta('worker_steps'):,} of {_bk_delta('steps'):,}")
_threads = {_k: (_v - _bk_before["threads"].get(_k, 0.0)) / _seconds for _k, _v in _bk_after["threads"].items()}
print("KERNEL threads (CPU seconds per second of the window): " + ", ".join(
    f"{_k} {_v:.2f}" for _k, _v in sorted(_threads.items(), key=lambda kv: -kv[1]) if _v > 0.005))
_o = panel.loop.budget.between_trainings()
print("KERNEL between trainings (ms): " + ", ".join(f"{q}% {1000 * _o[int(q / 100 * (len(_o) - 1))]:.0f}" for q in (10, 33, 50, 90)))
import json as _json
print("KERNELJSON " + _json.dumps({_name: {_k: _bk_after[_name][_k] - _bk_before[_name][_k]
                                           for _k in ("frames", "pictures")} for _name in panel.figures}))
for _name in panel.figures:
    _a, _b = _bk_after[_name], _bk_before[_name]
    print(f"KERNEL {_name}: " + ", ".join(f"{_k} {(_a[_k] - _b.get(_k, 0)) / _seconds:.3g}/s" for _k in _a
                                          if isinstance(_a[_k], (int, float)) and _k != "last_seconds"))
"""


def headless_steps_per_second(page, seconds: float = 3.0) -> float:
    out = kernel_execute(page, _HEADLESS.format(seconds=seconds))
    assert "HEADLESS" in out, out
    return float(out.split("HEADLESS")[1].split()[0])


def frames_in(page, start: float, end: float) -> dict:
    """Frames drawn per plot between two performance.now() times (ms)."""
    return page.evaluate("([a, b]) => Object.fromEntries(Object.entries(window.__bkFrames || {}).map("
                         "([k, v]) => [k, v.filter(t => t >= a && t <= b)]))", [start, end])


def gaps(times: list) -> tuple:
    """Median and longest gap between frames (ms)."""
    if len(times) < 2:
        return float("nan"), float("nan")
    d = sorted(b - a for a, b in zip(times, times[1:]))
    return d[len(d) // 2], d[-1]


def _group(process) -> str:
    """Which part of the set-up a process is: the kernel, the Jupyter server, the browser, ..."""
    try:
        command = " ".join(process.cmdline()).lower()
        name = process.name().lower()
    except (psutil.Error, OSError):
        return "other"
    if process.pid == os.getpid():
        return "pytest (this test)"
    if "ipykernel" in command:
        return "kernel"
    if "jupyter" in command and ("lab" in command or "server" in command):
        return "Jupyter server"
    if "chrom" in command or "headless_shell" in command:
        return "Chromium (all its processes)"
    if "playwright" in command or "node" in name:
        return "Playwright driver"
    return "other"


def cpu_seconds() -> dict:
    """CPU seconds (user + system) used so far by each group of the machine's processes (see _group)."""
    out = {}
    for process in psutil.process_iter():
        try:
            times = process.cpu_times()
        except (psutil.Error, OSError):
            continue
        group = _group(process)
        out[group] = out.get(group, 0.0) + times.user + times.system
    return out


def canvases_named(payload) -> int | None:
    """How many canvases a message from the page says it painted (None: not a "painted" message)."""
    text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
    found = re.search(r'"type":\s*"painted",\s*"frames":\s*\{([^}]*)\}', text)
    return None if found is None else len(re.findall(r'":\s*\d+', found.group(1)))


def test_playground_live_view_frame_rate(lab, page):
    images, to_kernel = [], []

    def on_websocket(ws):
        def received(payload):
            if isinstance(payload, (bytes, str)) and ("scene" if isinstance(payload, str) else b"scene") in payload[:6000]:
                images.append(time.monotonic())
        ws.on("framereceived", received)
        ws.on("framesent", lambda payload: to_kernel.append(canvases_named(payload)))

    page.on("websocket", on_websocket)
    cells = open_and_run(lab, page, NB)
    assert [c["errors"] for c in cells if c["errors"]] == []
    wait_for_css(page, ".bk-playground", "button.bk-play", ".bk-status")
    for name in PLOTS:
        wait_canvas_drawn(page, f".{name}")
    page.evaluate("() => document.querySelector('.bk-playground').scrollIntoView({block: 'start'})")
    page.evaluate(_COUNT_FRAMES_JS)

    headless_before = headless_steps_per_second(page)

    status = page.locator(".bk-playground .bk-status")
    play = page.locator("button.bk-play")
    play.click()
    wait_until(lambda: "Pause" in play.inner_text(), message="Play turns into Pause")
    wait_until(lambda: step_number(status.inner_text()) > 0, message="training started")
    time.sleep(WARM_UP)

    kernel_execute(page, _KERNEL_STATS_START)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    metrics0 = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    text0, t0, p0, i0 = status.inner_text(), time.monotonic(), page.evaluate("performance.now()"), len(images)
    k0 = len(to_kernel)
    cpu0 = cpu_seconds()
    time.sleep(WINDOW)
    cpu1 = cpu_seconds()
    text1, t1, p1, i1 = status.inner_text(), time.monotonic(), page.evaluate("performance.now()"), len(images)
    messages = to_kernel[k0:]
    metrics1 = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    kernel = kernel_execute(page, _KERNEL_STATS_END)
    play.click()
    wait_until(lambda: "Play" in play.inner_text(), message="Pause turns back into Play")
    time.sleep(1.0)

    headless_after = headless_steps_per_second(page)
    headless = (headless_before + headless_after) / 2
    seconds = t1 - t0
    live = (step_number(text1) - step_number(text0)) / seconds
    frames = frames_in(page, p0, p1)
    batches = page.evaluate("([a, b]) => window.__bkBatches.filter(t => t >= a && t <= b).length", [p0, p1])
    fps = {name: len(frames.get(name, [])) / ((p1 - p0) / 1000) for name in PLOTS}
    rate_shown = text1.rsplit("·", 1)[-1].strip()

    lines = [f"Playground(seed=0) in JupyterLab, headless Chromium, {seconds:.1f} s of Play:"]
    for name in PLOTS:
        median, longest = gaps(frames.get(name, []))
        lines.append(f"  {name:<18} {fps[name]:5.1f} frames/s drawn  (median gap {median:.0f} ms, "
                     f"longest {longest:.0f} ms)")
    lines += [
        f"  frames received    {(i1 - i0) / seconds:5.1f} /s (all plots: messages holding a scene)",
        f"  messages to kernel {len(messages) / seconds:5.1f} /s ({sum(n is not None for n in messages)} saying what "
        f"was painted, naming {sum(n or 0 for n in messages)} plots)",
        f"  page frames        {batches / ((p1 - p0) / 1000):5.1f} /s painting a plot "
        f"({sum(map(len, frames.values())) / max(batches, 1):.1f} plots each)",
        f"  steps/s playing    {live:8,.0f}   (status line at the end: {rate_shown!r})",
        f"  steps/s headless   {headless:8,.0f}   (before {headless_before:,.0f}, after {headless_after:,.0f})",
        f"  training share     {live / headless:8.0%} of headless",
        "  the page's main thread (Chromium's Performance metrics, share of the window): " + ", ".join(
            f"{key} {(metrics1.get(key, 0) - metrics0.get(key, 0)) / seconds:.0%}"
            for key in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")),
        f"  the machine's {psutil.cpu_count()} cores, by process (CPU seconds per second of the window): " + ", ".join(
            f"{group} {(cpu1[group] - cpu0.get(group, 0.0)) / seconds:.2f}"
            for group in sorted(cpu1, key=lambda g: cpu0.get(g, 0.0) - cpu1[g])),
        "  in the kernel (per second of the window):",
        *("    " + line.replace("KERNEL ", "") for line in kernel.splitlines() if line.startswith("KERNEL ")),
    ]
    report = "\n".join(lines)
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "frame-rate.txt").write_text(report + "\n" + json.dumps(
        {"fps": fps, "steps_per_second": live, "headless": headless}) + "\n")

    assert page.bk_errors == []
    # a frame is the moving artists over the pictures the page holds; new pictures (a full draw) are rare
    sent = json.loads(kernel.split("KERNELJSON", 1)[1].splitlines()[0])
    redrawn = {name: counts for name, counts in sent.items() if 2 * counts["pictures"] > counts["frames"]}
    assert redrawn == {}, report
    slow = {name: round(fps[name], 1) for name in PLOTS if not fps[name] > FLOOR_FPS}
    assert slow == {}, report
    # the plots paint together (layered.js: painter): ~2.8 per page frame, 1.6 when each painted alone
    assert sum(map(len, frames.values())) / max(batches, 1) > 2.2, report
    assert live > 0, report
    # the page acknowledges all four plots in one message, not one message per plot
    painted = [n for n in messages if n is not None]
    assert painted and sum(painted) / len(painted) > 2.5, (messages, report)
