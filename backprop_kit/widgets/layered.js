// The browser half of backprop_kit.widgets.canvas.LayeredCanvas (see canvas.py for the whole story).
//
// The kernel sends two things:
//   pictures  {generation, background: PNG, layers: [{png, rect}]}, new only after Matplotlib
//             drew the figure whole (an axis limit, a label changed): the figure without its
//             moving artists, and transparent pictures of what lies above them;
//   scene     every frame, packed (canvas.pack: JSON "meta" and one "data" buffer; "ack",
//             "burst": see painter): {frame, background (the generation it belongs to), size, ratio,
//              axes: [{box, dirty, covers}], items: the moving artists as numbers, in drawing order}.
// A frame is painted on an animation frame shared with the page's other plots (see painter),
// in each Axes only inside the columns where lines changed since the last painted frame
// ("dirty"; everything after new pictures): the background, each item (a line stroked through
// its vertices, an image scaled into its box, a layer picture), then the legends ("covers")
// pasted back from the background; all in one task, so the page never shows half a frame. The
// element's data-frames attribute counts the frames painted (a hook for tests). About once a
// second the page says which frame it painted: the kernel sends at most a window of frames
// beyond that one, so a slow page gets fewer frames, never a backlog.

function bytesOf(view) {
  // a DataView (a binary buffer of the widget's state) as its own ArrayBuffer
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

async function decode(view) {
  return await createImageBitmap(new Blob([bytesOf(view)], { type: "image/png" }));
}

function clipTo(ctx, rect) {
  if (!rect) return;
  ctx.beginPath();
  ctx.rect(rect[0], rect[1], rect[2], rect[3]);
  ctx.clip();
}

function marker(ctx, shape, x, y, size) {
  const r = size / 2;
  ctx.beginPath();
  if (shape === "s") ctx.rect(x - r, y - r, size, size);
  else if (shape === "D") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); }
  else if (shape === "^") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath(); }
  else ctx.arc(x, y, r, 0, 2 * Math.PI);
}

function firstAtOrAfter(v, x) {
  // the first vertex (index into pairs) whose x is >= x, in a line whose x never decreases
  // (NaN vertices sit between sorted ones: step over them)
  let lo = 0, hi = v.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    let k = mid;
    while (k < hi && Number.isNaN(v[2 * k])) k++;
    if (k === hi) { hi = mid; continue; }
    if (v[2 * k] < x) lo = k + 1; else hi = mid;
  }
  return lo;
}

function unpack(sent) {
  // a scene as the kernel packed it (canvas.pack): JSON, and one buffer that the items'
  // "xy" (float32 pixels) and "rgba" (uint8) point into as [offset, length]
  const scene = JSON.parse(sent.meta);
  const data = bytesOf(sent.data);
  for (const item of scene.items) {
    if (item.xy) item.xy = new Float32Array(data, item.xy[0], item.xy[1] / 4);
    if (item.rgba) item.rgba = new Uint8ClampedArray(data, item.rgba[0], item.rgba[1]);
  }
  return scene;
}

function drawLine(ctx, item, columns) {
  const v = item.xy;                                // x, y, x, y, ... in pixels; NaN breaks the line
  let start = 0, stop = v.length;
  if (columns && item.sorted) {                     // only the part near the columns being redrawn
    const reach = item.width + (item.marker ? item.marker.size + item.marker.edge_width : 0) + 2;
    start = 2 * Math.max(firstAtOrAfter(v, columns[0] - reach) - 2, 0);
    stop = 2 * Math.min(firstAtOrAfter(v, columns[1] + reach) + 2, v.length / 2);
  }
  ctx.save();
  clipTo(ctx, item.clip);
  if (item.width > 0 && item.stroke) {
    ctx.beginPath();
    let pen = false;
    for (let i = start; i < stop; i += 2) {
      const x = v[i], y = v[i + 1];
      if (Number.isNaN(x) || Number.isNaN(y)) { pen = false; continue; }
      if (pen) ctx.lineTo(x, y); else { ctx.moveTo(x, y); pen = true; }
    }
    ctx.strokeStyle = item.stroke;
    ctx.lineWidth = item.width;
    ctx.lineCap = item.cap;
    ctx.lineJoin = item.join;
    ctx.setLineDash(item.dash || []);
    ctx.lineDashOffset = item.offset || 0;
    ctx.stroke();
  }
  if (item.marker) {
    const m = item.marker;
    ctx.setLineDash([]);
    ctx.lineWidth = m.edge_width;
    for (let i = start; i < stop; i += 2) {
      if (Number.isNaN(v[i]) || Number.isNaN(v[i + 1])) continue;
      marker(ctx, m.shape, v[i], v[i + 1], m.size);
      if (m.face) { ctx.fillStyle = m.face; ctx.fill(); }
      if (m.edge && m.edge_width > 0) { ctx.strokeStyle = m.edge; ctx.stroke(); }
    }
  }
  ctx.restore();
}

// An image item's pixels before scaling: one scratch canvas per image size, kept (resizing a
// canvas reallocates its pixels: a plot whose images differ in size would do so every frame).
function scratchFor(scratches, w, h) {
  const key = w + "x" + h;
  let scratch = scratches.get(key);
  if (!scratch) {
    if (scratches.size >= 8) scratches.clear();
    scratch = document.createElement("canvas");
    scratch.width = w;
    scratch.height = h;
    scratches.set(key, scratch);
  }
  return scratch;
}

function drawImage(ctx, item, scratches) {
  const [h, w] = item.shape;
  const scratch = scratchFor(scratches, w, h);
  scratch.getContext("2d").putImageData(new ImageData(item.rgba, w, h), 0, 0);
  ctx.save();
  clipTo(ctx, item.clip);
  ctx.globalAlpha = item.alpha;
  ctx.imageSmoothingEnabled = item.smooth;
  ctx.imageSmoothingQuality = "low";          // bilinear, as Matplotlib's "bilinear" (and cheap)
  const [x, y, dw, dh] = item.rect;
  ctx.drawImage(scratch, x, y, dw, dh);
  ctx.restore();
}

// Every LayeredCanvas of the page paints on the same animation frame. A panel's plots send
// their scenes together (canvas.show_together: each tagged burst = [token, how many, which]),
// and each frame of the page costs Chromium about as much for one canvas as for three (the
// page's lifecycle, the commit to the compositor, compositing): so the canvases paint on the
// next animation frame once every scene of a burst has arrived (with the page's other changes of
// that moment, e.g. the status line sent just after). A plot shown twice on the page gets each
// scene twice: it counts once, and the second paints with the first. A burst that never
// completes (a frame held back, a lost message) paints after WAIT_MS; anything else gathers for
// GATHER_MS.
const GATHER_MS = 8, WAIT_MS = 40;

function painter() {
  if (window.__bkLayeredPainter) return window.__bkLayeredPainter;
  const due = new Set();          // paint functions waiting for the next batch
  const bursts = new Map();       // token -> the set of its scenes ("which") received so far
  const complete = [];            // the latest complete bursts' tokens
  let state = "idle";             // "idle" | "gathering" (a timer runs) | "framing" (a frame is requested)
  let timer = null;
  function frame() {
    state = "idle";
    const now = [...due];
    due.clear();
    for (const paint of now) paint();
  }
  function go() {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (state !== "framing") { state = "framing"; requestAnimationFrame(frame); }
  }
  function request(paint, burst) {
    due.add(paint);
    const tagged = Array.isArray(burst) && burst.length === 3;
    if (tagged) {
      const [token, size, which] = burst;
      if (complete.includes(token)) { go(); return; }     // a second view of a plot of that burst
      const got = bursts.get(token) || new Set();
      got.add(which);
      if (got.size >= size) {
        bursts.delete(token);
        complete.push(token);
        if (complete.length > 4) complete.shift();
        go();
        return;
      }
      bursts.set(token, got);
      if (bursts.size > 16) bursts.delete(bursts.keys().next().value);    // never completed
    }
    if (state !== "idle") return;                    // it joins the batch already on its way
    state = "gathering";
    timer = setTimeout(() => { timer = null; go(); }, tagged ? WAIT_MS : GATHER_MS);
  }
  window.__bkLayeredPainter = { request };
  return window.__bkLayeredPainter;
}

// The page says which frame each canvas painted, at most every ACK_MS, or every URGENT_MS while
// a kernel asks (its window is half full: a slow link), in one message for all the canvases of a
// kernel (sent through whichever painted last; the kernel passes each its frame by its "key"):
// each message to the kernel makes it busy for a moment, which JupyterLab shows (its kernel
// status, the tab's icon), a page-wide update that costs more than painting a frame.
const ACK_MS = 1000, URGENT_MS = 100;

function acker() {
  if (window.__bkLayeredAcker) return window.__bkLayeredAcker;
  const kernels = new Map();      // a widget manager (one per kernel) -> what its next message says
  function send(k) {
    if (k.timer !== null) { clearTimeout(k.timer); k.timer = null; }
    k.due = Infinity;
    if (k.frames.size === 0) return;
    const frames = Object.fromEntries(k.frames);
    k.frames.clear();
    k.last = performance.now();
    k.sender.send({ type: "painted", frames });
  }
  function painted(model, frame, urgent) {
    const key = model.get("key");
    if (!key) return;
    let k = kernels.get(model.widget_manager);
    if (!k) {
      k = { frames: new Map(), sender: model, last: 0, timer: null, due: Infinity };
      kernels.set(model.widget_manager, k);
    }
    k.frames.set(key, frame);                      // (a canvas shown twice: its frame, once)
    k.sender = model;
    const due = k.last + (urgent ? URGENT_MS : ACK_MS);
    if (due <= performance.now()) send(k);
    else if (due < k.due) {                        // (an urgent one replaces a later one)
      if (k.timer !== null) clearTimeout(k.timer);
      k.due = due;
      k.timer = setTimeout(() => { k.timer = null; send(k); }, due - performance.now() + 1);
    }
  }
  window.__bkLayeredAcker = { painted };
  return window.__bkLayeredAcker;
}

function render({ model, el }) {
  el.classList.add("bk-layered");
  const canvas = document.createElement("canvas");
  canvas.style.display = "block";
  canvas.style.willChange = "transform";   // its own compositing layer (it changes ~20 times a second)
  el.appendChild(canvas);
  const scratches = new Map();   // an image item's pixels before scaling, by size (scratchFor)
  let pictures = null;        // {generation, background: ImageBitmap, layers: [ImageBitmap]}
  let loading = false, painted = -1, alive = true;
  el.dataset.frames = "0";

  const size = model.get("css_size");
  if (size && size.length === 2) { el.style.width = size[0] + "px"; el.style.height = size[1] + "px"; }

  async function load() {
    // decode the pictures of the model's current generation (the newest the kernel sent)
    loading = true;
    try {
      const sent = model.get("pictures");
      if (!sent || sent.generation === undefined) return;
      const background = await decode(sent.background);
      const layers = await Promise.all(sent.layers.map(layer => decode(layer.png)));
      pictures = { generation: sent.generation, background, layers, rects: sent.layers.map(layer => layer.rect) };
    } catch (error) {
      console.error("backprop_kit: a picture could not be decoded", error);
    } finally {
      loading = false;
    }
    schedule();
  }

  // what changed since the last painted frame, per Axes: null = all of it, else [left, right]
  // columns (the union of every scene received since); whole = repaint everything
  let whole = true, dirty = [], urgent = false;
  let current = null;  // the newest scene, unpacked
  function received() {
    const sent = model.get("scene");
    if (!sent || !sent.meta) return;
    const scene = unpack(sent);
    current = scene;
    if (sent.ack) urgent = true;
    if (!pictures || scene.background !== pictures.generation || scene.frame !== painted + 1 + skipped) {
      whole = true;
    }
    skipped += 1;
    scene.axes.forEach((axes, i) => {
      const now = axes.dirty, before = dirty[i];
      if (now === null || before === null) dirty[i] = null;
      else if (now.length === 0) dirty[i] = before === undefined ? [] : before;
      else if (before === undefined || before.length === 0) dirty[i] = now.slice();
      else dirty[i] = [Math.min(before[0], now[0]), Math.max(before[1], now[1])];
    });
    schedule(sent.burst);
  }
  let skipped = 0;    // scenes received since the last painted one

  function paint() {
    if (!alive) return;
    const scene = current;
    if (!scene || !scene.size) return;
    if (!pictures || pictures.generation !== scene.background) {
      if (!loading) load();
      return;
    }
    if (scene.frame === painted) return;
    const [width, height] = scene.size;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width; canvas.height = height; whole = true;
    }
    const cssWidth = width / scene.ratio + "px", cssHeight = height / scene.ratio + "px";
    if (canvas.style.width !== cssWidth) { canvas.style.width = cssWidth; canvas.style.height = cssHeight; }
    el.style.width = cssWidth; el.style.height = cssHeight;
    const ctx = canvas.getContext("2d", { alpha: false });     // the background is opaque
    ctx.globalAlpha = 1;
    if (whole) ctx.drawImage(pictures.background, 0, 0);
    scene.axes.forEach((axes, i) => {
      const box = axes.box;
      let columns = null;                           // null: the whole Axes
      if (!whole) {
        const change = dirty[i];
        if (change !== null && change !== undefined && change.length === 0) return;    // nothing moved here
        if (change) columns = [Math.max(change[0], box[0]), Math.min(change[1], box[0] + box[2])];
        if (columns && columns[1] <= columns[0]) return;
      }
      const region = columns ? [columns[0], box[1], columns[1] - columns[0], box[3]] : box;
      ctx.save();
      clipTo(ctx, region);
      if (!whole) ctx.drawImage(pictures.background, ...region, ...region);
      for (const item of scene.items) {
        if (item.axes !== i) continue;
        if (item.kind === "line") drawLine(ctx, item, columns);
        else if (item.kind === "image") drawImage(ctx, item, scratches);
        else if (item.kind === "layer") {
          const rect = pictures.rects[item.index];
          ctx.drawImage(pictures.layers[item.index], rect[0], rect[1]);
        }
      }
      ctx.restore();
      for (const [x, y, w, h] of axes.covers) ctx.drawImage(pictures.background, x, y, w, h, x, y, w, h);
    });
    whole = false; dirty = []; skipped = 0;
    const wasUrgent = urgent; urgent = false;
    painted = scene.frame;
    el.dataset.frames = String(Number(el.dataset.frames) + 1);
    acknowledge(wasUrgent);
  }

  function acknowledge(urgent) {
    if (alive) acker().painted(model, painted, urgent);
  }

  function schedule(burst) {
    if (alive) painter().request(paint, burst);      // (paint does nothing when there is nothing new)
  }

  // the mouse, for a canvas whose kernel side listens (model "mouse": "clicks" or "all"): a click,
  // and with "all" where the pointer moves (at most every MOVE_MS: each message makes the kernel
  // busy for a moment) and when it leaves; as fractions of the picture from its bottom left, as
  // Matplotlib counts
  const MOVE_MS = 120;
  let moveTimer = null, lastMove = null;
  function where(event) {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return null;
    return { x: (event.clientX - rect.left) / rect.width, y: 1 - (event.clientY - rect.top) / rect.height };
  }
  function sendMouse(kind, event) {
    const wanted = model.get("mouse");
    if (!alive || !wanted || (kind !== "click" && wanted !== "all")) return;
    const at = event ? where(event) : { x: null, y: null };
    if (at) model.send({ type: "mouse", kind, x: at.x, y: at.y, shift: Boolean(event && event.shiftKey) });
  }
  canvas.addEventListener("click", event => sendMouse("click", event));
  canvas.addEventListener("mousemove", event => {
    lastMove = event;
    if (moveTimer === null) moveTimer = setTimeout(() => { moveTimer = null; sendMouse("move", lastMove); }, MOVE_MS);
  });
  canvas.addEventListener("mouseleave", () => {
    if (moveTimer !== null) { clearTimeout(moveTimer); moveTimer = null; }
    sendMouse("leave", null);
  });
  const cursor = () => { canvas.style.cursor = model.get("mouse") ? "crosshair" : ""; };
  model.on("change:mouse", cursor);
  cursor();

  const ratio = window.devicePixelRatio || 1;
  if (model.get("ratio") !== ratio) { model.set("ratio", ratio); model.save_changes(); }
  model.on("change:scene", received);
  model.on("change:pictures", () => schedule());
  model.send({ type: "ready" });
  received();
  return () => { alive = false; };
}

export default { render };
