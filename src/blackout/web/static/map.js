// The MapLibre map: a blank style (no tiles, no glyphs) with the case's GeoJSON as layers.

const LAYERS = ["land", "region", "branch", "bus", "gen"];

// One source per layer; MapLibre's feature ids are the elements' ids (for feature-state).
function split(fc) {
  const out = Object.fromEntries(LAYERS.map((l) => [l, { type: "FeatureCollection", features: [] }]));
  fc.features.forEach((f, i) => {
    const layer = f.properties.layer;
    if (!out[layer]) { return; }
    out[layer].features.push({ ...f, id: layer === "land" ? i : f.properties.id });
  });
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

const SERVED = ["interpolate", ["linear"], ["coalesce", ["feature-state", "served"], 1],
  0, "#111827", 0.1, "#1f2937", 0.5, "#8c6d1f", 1, "#f6c945"];
const LOADING = ["step", ["coalesce", ["get", "loading_percent"], -1],
  "#9ca3af", 0, "#38bdf8", 50, "#4ade80", 80, "#fb923c", 100, "#ef4444"];
const OUT = ["boolean", ["feature-state", "out"], false];
const FLASH = ["boolean", ["feature-state", "tripping"], false];
const SELECTED = ["boolean", ["feature-state", "selected"], false];

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
          "line-color": ["case", FLASH, "#ff2d55", SELECTED, "#ffffff", LOADING],
          "line-width": ["case", SELECTED, 7, FLASH, 6,
            ["interpolate", ["linear"], ["coalesce", ["get", "vn_kv"], 0], 0, 1.2, 230, 1.8, 765, 4]],
          "line-opacity": ["case", FLASH, 1, OUT, 0, 0.95],
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
  return map;
}

export function regionCount(fc) {
  return fc.features.filter((f) => f.properties.layer === "region").length;
}

// The branch or generator under a click (generators win: they sit on top of their bus).
export function pick(map, point) {
  const box = [[point.x - 7, point.y - 7], [point.x + 7, point.y + 7]];
  const hits = map.queryRenderedFeatures(box, { layers: ["gen", "branch"] });
  const gen = hits.find((f) => f.layer.id === "gen");
  const f = gen || hits.find((h) => !h.state || !h.state.out);
  return f ? { kind: f.layer.id, id: f.properties.id, name: f.properties.name } : null;
}

export function setSelected(map, item, on) {
  map.setFeatureState({ source: item.kind, id: item.id }, { selected: on });
}

// Show one frame: regions by served fraction, elements out hidden (flashed red first).
export function applyFrame(map, frame, regionIds, shownOut) {
  regionIds.forEach((rid) => {
    const f = frame.region_served_fraction[rid];
    map.setFeatureState({ source: "region", id: rid }, { served: f === null ? 1 : f });
  });
  for (const [kind, ids] of [["branch", frame.branches_out], ["gen", frame.gens_out]]) {
    for (const id of ids) {
      const key = `${kind}:${id}`;
      if (shownOut.has(key)) { continue; }
      shownOut.add(key);
      map.setFeatureState({ source: kind, id }, { tripping: true, out: true });
      setTimeout(() => map.setFeatureState({ source: kind, id }, { tripping: false }), 450);
    }
  }
}

export function resetState(map, fc) {
  for (const layer of ["region", "branch", "gen"]) { map.removeFeatureState({ source: layer }); }
}
