"""The report's static parts: stylesheet and the script that animates the map.

Kept as strings so the report is one file with nothing to fetch: the script reads the
JSON blocks the report embeds (``view-data``, ``map-data``, ``plots-data``) and drives
plotly (inlined beside it).
"""

from __future__ import annotations

__all__ = ["CSS", "SCRIPT"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #18181b; background: #fafafa; }
header { background: #111827; color: #f4f4f5; padding: 18px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; color: #a1a1aa; }
main { padding: 12px 28px 40px 28px; max-width: 1400px; }
section { background: #fff; border: 1px solid #e4e4e7; border-radius: 8px; padding: 14px 18px;
          margin: 14px 0; }
h2 { font-size: 17px; margin: 2px 0 10px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #e4e4e7; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .k { font-size: 12px; color: #71717a; }
.controls { display: flex; align-items: center; gap: 12px; margin: 6px 0; }
.controls input[type=range] { flex: 1; }
#clock { font-variant-numeric: tabular-nums; min-width: 220px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #f0f0f0; padding: 3px 6px; text-align: left;
         vertical-align: top; }
th { background: #f4f4f5; position: sticky; top: 0; }
.scroll { max-height: 480px; overflow: auto; }
.chain { color: #71717a; }
.plot { min-height: 380px; }
.note { color: #71717a; font-size: 13px; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  const read = (id) => { const el = document.getElementById(id);
                         return el ? JSON.parse(el.textContent) : null; };
  const VIEW = read("view-data") || {};
  const MAP = read("map-data");
  const PLOTS = read("plots-data") || [];
  const config = { displaylogo: false, responsive: true };
  for (const p of PLOTS) { Plotly.newPlot(p.id, p.figure.data, p.figure.layout, config); }
  if (!MAP) { return; }
  const frames = VIEW.frames || [];
  const ix = MAP.index;
  const mapDiv = document.getElementById("map");
  const slider = document.getElementById("frame-slider");
  const play = document.getElementById("play");
  const clock = document.getElementById("clock");
  const trips = VIEW.branch_trip || {};
  const loading = VIEW.branch_loading_percent || [];

  function mix(a, b, f) { return Math.round(a + (b - a) * f); }
  function servedColour(f) {
    if (f === null || f === undefined) { return "#d4d4d8"; }
    const lo = [17, 24, 39], mid = [140, 109, 31], hi = [246, 201, 69];
    const [a, b, g] = f < 0.5 ? [lo, mid, f / 0.5] : [mid, hi, (f - 0.5) / 0.5];
    return "rgb(" + mix(a[0], b[0], g) + "," + mix(a[1], b[1], g) + "," + mix(a[2], b[2], g) + ")";
  }
  function pct(v) { return v === null || v === undefined ? "n/a" : v.toFixed(0) + " %"; }

  function showFrame(k) {
    const fr = frames[k];
    if (!fr) { return Promise.resolve(); }
    const fills = [], texts = [];
    ix.region_ids.forEach((rid, j) => {
      const f = fr.region_served_fraction[rid];
      fills.push(servedColour(f));
      texts.push(MAP.figure.data[ix.regions[j]].name + ": " +
                 (f === null || f === undefined ? "no load" : (100 * f).toFixed(0) + " % served"));
    });
    const out = new Set(fr.branches_out);
    const dead = new Set(fr.branches_dead || []);
    const frameLoading = fr.branch_loading_percent;
    const nb = ix.bucket_names.length;
    const bucketOf = (v) => v === null || v === undefined ? 4 :
      v <= 50 ? 0 : v <= 80 ? 1 : v <= 100 ? 2 : 3;
    const lx = [], ly = [], mx = [], my = [], mt = [];
    for (let i = 0; i < nb; i++) { lx.push([]); ly.push([]); mx.push([]); my.push([]); mt.push([]); }
    ix.branch_xy.forEach((xy, b) => {
      const k2 = out.has(b) ? nb - 1 : dead.has(b) ? nb - 2 :
        frameLoading ? bucketOf(frameLoading[b]) : ix.base_bucket[b];
      lx[k2].push(xy[0], xy[2], null); ly[k2].push(xy[1], xy[3], null);
      mx[k2].push((xy[0] + xy[2]) / 2); my[k2].push((xy[1] + xy[3]) / 2);
      let t = ix.branch_names[b] + "<br>loading before the event: " + pct(loading[b]);
      if (dead.has(b)) { t += "<br>de-energised (no generation left in its island)"; }
      else if (frameLoading && !out.has(b)) { t += "<br>loading now (DC): " + pct(frameLoading[b]); }
      if (out.has(b) && trips[b]) {
        const tr = trips[b];
        t += "<br>tripped at " + tr.clock + ": " + tr.why;
        if (tr.chain) { t += "<br>after " + tr.chain; }
      }
      mt[k2].push(t);
    });
    const ops = [
      Plotly.restyle(mapDiv, { x: lx, y: ly }, ix.branch_lines),
      Plotly.restyle(mapDiv, { x: mx, y: my, text: mt }, ix.branch_marks),
    ];
    if (ix.regions.length) {
      ops.push(Plotly.restyle(mapDiv, { fillcolor: fills, text: texts }, ix.regions));
    }
    if (fr.bus_served_fraction) {
      ops.push(Plotly.restyle(mapDiv, { "marker.color": [fr.bus_served_fraction.map(servedColour)] },
                              [ix.buses]));
    }
    const served = fr.served_mw === null || fr.served_mw === undefined ? "" :
      " | served " + Math.round(fr.served_mw).toLocaleString("en-US") + " MW";
    const dark = ix.regions.length ? " | regions dark " + fr.dark_regions + " of " +
      ix.regions.length : "";
    const t = fr.time_s >= 7200 ? (fr.time_s / 3600).toFixed(1) + " h" :
      fr.time_s.toFixed(1) + " s";
    const phase = fr.phase === "restoration" ? " | restoration" : "";
    clock.textContent = (fr.clock && !fr.clock.startsWith("t+") ? fr.clock + " | " : "") +
      "t = " + t + phase + served + dark + " | events " + fr.events_so_far;
    mapDiv.dataset.frame = String(k);
    mapDiv.dataset.darkRegions = String(fr.dark_regions);
    mapDiv.dataset.branchesOut = String(fr.branches_out.length);
    mapDiv.dataset.branchesDead = String(dead.size);
    return Promise.all(ops);
  }

  let timer = null;
  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "Play"; }
  play.addEventListener("click", () => {
    if (timer) { stop(); return; }
    if (+slider.value >= frames.length - 1) { slider.value = 0; }
    play.textContent = "Pause";
    timer = setInterval(() => {
      const k = +slider.value + 1;
      if (k >= frames.length) { stop(); return; }
      slider.value = k;
      showFrame(k);
    }, 120);
  });
  slider.addEventListener("input", () => { showFrame(+slider.value); });
  Plotly.newPlot(mapDiv, MAP.figure.data, MAP.figure.layout, config)
    .then(() => showFrame(0))
    .then(() => { mapDiv.dataset.ready = "1"; });
})();
"""
