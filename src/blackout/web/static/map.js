// The MapLibre map: a blank style (no tiles, no glyphs) with the case's GeoJSON as layers.

const LAYERS = ["land", "region", "branch", "bus", "gen"];

// Parallel circuits (same two buses) share a geometry: each gets an offset index
// (-1, 0, 1 for three), drawn apart with MapLibre's line-offset, in pixels.
function parallelOffsets(features) {
  const groups = new Map();
  for (const f of features) {
    const a = f.properties.from_bus, b = f.properties.to_bus;
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (!groups.has(key)) { groups.set(key, []); }
    groups.get(key).push(f);
  }
  for (const group of groups.values()) {
    group.forEach((f, i) => {
      const sign = f.properties.from_bus < f.properties.to_bus ? 1 : -1; // one common side
      f.properties.offset = group.length > 1 ? sign * (i - (group.length - 1) / 2) : 0;
    });
  }
}

// One source per layer; MapLibre's feature ids are the elements' ids (for feature-state).
function split(fc) {
  const out = Object.fromEntries(LAYERS.map((l) => [l, { type: "FeatureCollection", features: [] }]));
  fc.features.forEach((f, i) => {
    const layer = f.properties.layer;
    if (!out[layer]) { return; }
    out[layer].features.push({ ...f, properties: { ...f.properties }, id: layer === "land" ? i : f.properties.id });
  });
  parallelOffsets(out.branch.features);
  return out;
}

function bounds(fc) {
  let x0 = 180, y0 = 90, x1 = -180, y1 = -90;
  const visit = (c) => {
    if (typeof c[0] === "number") {
      x0 = Math.min(x0, c[0]); x1 = Math.max(x1, c[0]); y0 = Math.min(y0, c[1]); y1 = Math.max(y1, c[1]);
    } else { c.forEach(visit); }
  };
  fc.features.filter((f) => f.properties.layer !== "land").forEach((f) => visit(f.geometry.coordinates));
  return [[x0, y0], [x1, y1]];
}

// pixels between parallel circuits, by zoom
export function offsetPx(zoom) { return zoom <= 3 ? 4 : zoom >= 9 ? 9 : 4 + (zoom - 3) * 5 / 6; }
const OFFSET = ["interpolate", ["linear"], ["zoom"], 3, ["*", ["coalesce", ["get", "offset"], 0], 4],
  9, ["*", ["coalesce", ["get", "offset"], 0], 9]];

const SERVED = ["interpolate", ["linear"], ["coalesce", ["feature-state", "served"], 1],
  0, "#111827", 0.1, "#1f2937", 0.5, "#8c6d1f", 1, "#f6c945"];
// loading of the state shown (feature-state, set per frame), else before the event
const LOADING = ["step", ["coalesce", ["feature-state", "loading"], ["get", "loading_percent"], -1],
  "#9ca3af", 0, "#38bdf8", 50, "#4ade80", 80, "#fb923c", 100, "#ef4444"];
export const DEAD_COLOUR = "#6b7280";
const OUT = ["boolean", ["feature-state", "out"], false];
const DEAD = ["boolean", ["feature-state", "dead"], false];
const FLASH = ["boolean", ["feature-state", "tripping"], false];
const SELECTED = ["boolean", ["feature-state", "selected"], false];
const HOVER = ["boolean", ["feature-state", "hover"], false];

export function createMap(container, fc) {
  const sources = split(fc);
  const style = {
    version: 8,
    sources: Object.fromEntries(LAYERS.map((l) => [l, { type: "geojson", data: sources[l] }])),
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#0b1220" } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": "#27272a" } },
      { id: "region-fill", type: "fill", source: "region",
        paint: { "fill-color": SERVED, "fill-opacity": 0.9, "fill-color-transition": { duration: 300 } } },
      { id: "region-line", type: "line", source: "region", paint: { "line-color": "#52525b", "line-width": 0.8 } },
      { id: "branch", type: "line", source: "branch", layout: { "line-cap": "round" },
        paint: {
          "line-color": ["case", FLASH, "#ff2d55", SELECTED, "#ffffff", DEAD, DEAD_COLOUR, LOADING],
          "line-width": ["case", SELECTED, 5, FLASH, 6, HOVER, 4.5,
            ["interpolate", ["linear"], ["coalesce", ["get", "vn_kv"], 0], 0, 1.2, 230, 1.8, 765, 3.2]],
          "line-opacity": ["case", FLASH, 1, OUT, 0, DEAD, 0.7, 0.95],
          "line-offset": OFFSET,
        } },
      { id: "bus", type: "circle", source: "bus",
        paint: { "circle-radius": 2.5, "circle-color": "#e4e4e7", "circle-opacity": 0.8 } },
      { id: "gen", type: "circle", source: "gen",
        paint: {
          "circle-radius": ["interpolate", ["linear"], ["coalesce", ["get", "p_mw"], 0], 0, 4, 2000, 11],
          "circle-color": ["case", SELECTED, "#ffffff", ["match", ["get", "kind"], "hydro", "#60a5fa", "#c084fc"]],
          "circle-opacity": ["case", OUT, 0.15, 0.85],
          "circle-stroke-color": ["case", FLASH, "#ff2d55", "#0b1220"],
          "circle-stroke-width": ["case", FLASH, 3, 1],
        } },
    ],
  };
  const map = new maplibregl.Map({
    container, style, bounds: bounds(fc), fitBoundsOptions: { padding: 30 },
    attributionControl: false, renderWorldCopies: false, preserveDrawingBuffer: true,
  });
  map.blackoutBranches = sources.branch.features;
  return map;
}

export function regionCount(fc) {
  return fc.features.filter((f) => f.properties.layer === "region").length;
}

// A branch as drawn on screen: its two ends in pixels, moved sideways by its offset.
export function branchSegment(map, f) {
  const c = f.geometry.coordinates;
  const a = map.project(c[0]), b = map.project(c[c.length - 1]);
  const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
  const off = (f.properties.offset || 0) * offsetPx(map.getZoom());
  const nx = -dy / len * off, ny = dx / len * off; // right of the line's direction
  return [[a.x + nx, a.y + ny], [b.x + nx, b.y + ny]];
}

function distance(p, [[x0, y0], [x1, y1]]) {
  const dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
  const u = l2 ? Math.max(0, Math.min(1, ((p.x - x0) * dx + (p.y - y0) * dy) / l2)) : 0;
  return Math.hypot(p.x - (x0 + u * dx), p.y - (y0 + u * dy));
}

// The generator or branch under a point (generators win: they sit on top of their bus);
// among branches the nearest drawn line, so each parallel circuit can be picked.
export function pick(map, point, outState = () => false) {
  const box = [[point.x - 6, point.y - 6], [point.x + 6, point.y + 6]];
  const gen = map.queryRenderedFeatures(box, { layers: ["gen"] })[0];
  if (gen) { return { kind: "gen", id: gen.properties.id, name: gen.properties.name, props: gen.properties }; }
  let best = null, bestD = 6;
  for (const f of map.blackoutBranches || []) {
    if (outState(f.properties.id)) { continue; }
    const d = distance(point, branchSegment(map, f));
    if (d < bestD) { best = f; bestD = d; }
  }
  if (best) { return { kind: "branch", id: best.properties.id, name: best.properties.name, props: best.properties }; }
  const bus = map.queryRenderedFeatures(box, { layers: ["bus"] })[0];
  return bus ? { kind: "bus", id: bus.properties.id, name: bus.properties.name, props: bus.properties, hoverOnly: true } : null;
}

export function setSelected(map, item, on) {
  map.setFeatureState({ source: item.kind, id: item.id }, { selected: on });
}

// Show one frame: regions by served fraction, branch colours from the frame's loading,
// de-energised branches grey, elements out hidden (flashed red the first time).
export function applyFrame(map, frame, regionIds, shownOut) {
  regionIds.forEach((rid) => {
    const f = frame.region_served_fraction[rid];
    map.setFeatureState({ source: "region", id: rid }, { served: f === null ? 1 : f });
  });
  const loading = frame.branch_loading_percent;
  const dead = new Set(frame.branches_dead || []);
  for (const f of map.blackoutBranches || []) {
    const id = f.properties.id;
    const state = { dead: dead.has(id) };
    if (loading) { state.loading = loading[id] === null || loading[id] === undefined ? -1 : loading[id]; }
    map.setFeatureState({ source: "branch", id }, state);
  }
  const out = new Set();
  for (const [kind, ids] of [["branch", frame.branches_out], ["gen", frame.gens_out]]) {
    for (const id of ids) {
      const key = `${kind}:${id}`;
      out.add(key);
      if (shownOut.has(key)) { continue; }
      shownOut.add(key);
      map.setFeatureState({ source: kind, id }, { tripping: true, out: true });
      setTimeout(() => map.setFeatureState({ source: kind, id }, { tripping: false }), 450);
    }
  }
  for (const key of [...shownOut]) { // scrubbing back: put elements in again
    if (out.has(key)) { continue; }
    shownOut.delete(key);
    const [kind, id] = key.split(":");
    map.setFeatureState({ source: kind, id: +id }, { out: false, tripping: false });
  }
}

export function resetState(map) {
  for (const layer of ["region", "branch", "gen"]) { map.removeFeatureState({ source: layer }); }
}

// Substation labels (HTML, no glyphs needed): one per place, named without its voltage;
// the largest substations at national zoom, all of them when zoomed in.
export function addLabels(map, fc) {
  const places = new Map();
  for (const f of fc.features) {
    if (f.properties.layer !== "bus") { continue; }
    const [x, y] = f.geometry.coordinates;
    const key = `${x.toFixed(3)},${y.toFixed(3)}`;
    const name = String(f.properties.name).replace(/\s*\d+(\.\d+)?\s*kV$/i, "");
    const p = places.get(key) || { name, x, y, kv: 0 };
    p.kv = Math.max(p.kv, f.properties.vn_kv || 0);
    places.set(key, p);
  }
  const markers = [];
  for (const p of places.values()) {
    const el = document.createElement("div");
    el.className = "substation-label";
    el.textContent = p.name;
    el.dataset.kv = String(p.kv);
    markers.push({ el, kv: p.kv, marker: new maplibregl.Marker({ element: el, anchor: "left", offset: [5, 0] })
      .setLngLat([p.x, p.y]).addTo(map) });
  }
  const top = Math.max(0, ...markers.map((m) => m.kv));
  const show = () => {
    const z = map.getZoom();
    for (const m of markers) { m.el.hidden = !(z >= 6.5 || m.kv >= top); }
  };
  map.on("zoom", show);
  show();
  return markers;
}
