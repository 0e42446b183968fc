// The page: pick elements on the map, trip them, animate the cascade the server returns.

import * as api from "./api.js";
import { drawFrequency, eventWindow } from "./chart.js";
import { addLabels, applyFrame, branchSegment, createMap, pick, regionCount, resetState,
         setSelected } from "./map.js";

const $ = (id) => document.getElementById(id);
const view = { map: null, fc: null, caseName: null, selection: new Map(), result: null,
               timer: null, regionIds: [], frame: 0, shownOut: new Set(), hovered: null };
window.blackoutView = view; // for tests and the console

function setState(state, message = "") {
  document.body.dataset.state = state;
  $("status").textContent = message;
}

function refreshButtons() {
  const busy = ["running", "animating", "loading"].includes(document.body.dataset.state);
  $("trip").disabled = busy || view.selection.size === 0;
  $("clear").disabled = busy || view.selection.size === 0;
  $("replay").disabled = busy || !view.result;
  $("play").disabled = !view.result || ["running", "loading"].includes(document.body.dataset.state);
  $("scrub").disabled = $("play").disabled;
  $("run-scenario").disabled = busy || !$("scenario-select").value;
}

function showSelection() {
  const ul = $("selection");
  ul.replaceChildren(...[...view.selection.values()].map((s) => {
    const li = document.createElement("li");
    li.textContent = `${s.kind} ${s.name}`;
    return li;
  }));
  refreshButtons();
}

async function loadCase(name) {
  setState("loading", `loading ${name}…`);
  const fc = await api.geometry(name);
  if (view.map) { view.map.remove(); }
  view.fc = fc; view.caseName = name; view.selection.clear(); view.result = null;
  view.regionIds = fc.features.filter((f) => f.properties.layer === "region").map((f) => f.properties.id);
  showSelection();
  clearRun();
  const map = createMap($("map"), fc);
  view.map = map;
  map.on("click", (e) => {
    if (document.body.dataset.state === "animating") { return; }
    const hit = pick(map, e.point);
    if (!hit || hit.hoverOnly) { return; }
    const key = `${hit.kind}:${hit.id}`;
    if (view.selection.has(key)) { view.selection.delete(key); setSelected(map, hit, false); }
    else { view.selection.set(key, hit); setSelected(map, hit, true); }
    showSelection();
  });
  map.on("mousemove", (e) => hover(map, e.point));
  map.on("mouseout", () => hover(map, null));
  await new Promise((resolve) => map.once("idle", resolve));
  addLabels(map, fc);
  document.body.dataset.regions = String(regionCount(fc));
  filterScenarios(name);
  setState("idle", `${name}: ${regionCount(fc)} regions; select a branch or generator`);
  refreshButtons();
}

// Only the scenarios of the case shown; the case's default scenario first chosen.
function filterScenarios(caseName) {
  const sel = $("scenario-select");
  const own = [...sel.options].filter((o) => o.dataset.case === caseName);
  for (const o of sel.options) { o.hidden = o.dataset.case !== caseName; o.disabled = o.hidden; }
  const pick = own.find((o) => o.dataset.default === "1") || own[0];
  sel.value = pick ? pick.value : "";
  sel.title = own.length ? "" : `no built-in scenario for ${caseName}`;
}

// The element under the pointer: its name (and what it is) in a tooltip.
function hover(map, point) {
  const tip = $("tooltip");
  const hit = point ? pick(map, point, (id) => view.shownOut.has(`branch:${id}`)) : null;
  map.getCanvas().style.cursor = hit && !hit.hoverOnly ? "pointer" : "";
  if (view.hovered) { map.setFeatureState({ source: view.hovered.kind, id: view.hovered.id }, { hover: false }); }
  view.hovered = hit && hit.kind === "branch" ? hit : null;
  if (view.hovered) { map.setFeatureState({ source: "branch", id: hit.id }, { hover: true }); }
  if (!hit) { tip.hidden = true; return; }
  const p = hit.props || {};
  let text = `${hit.name}`;
  if (hit.kind === "branch") {
    const st = map.getFeatureState({ source: "branch", id: hit.id }) || {};
    const load = st.loading !== undefined && st.loading >= 0 ? st.loading : p.loading_percent;
    text += st.dead ? " · de-energised" : load !== null && load !== undefined ?
      ` · loading ${Math.round(load)} %` : "";
  } else if (hit.kind === "gen") {
    text += ` · ${p.kind} ${Math.round(p.p_mw || 0).toLocaleString("en-US")} MW`;
  } else if (p.vn_kv) {
    text += ` · substation bus`;
  }
  tip.textContent = text;
  const r = map.getContainer().getBoundingClientRect();
  tip.style.left = `${r.left + point.x + 12}px`; tip.style.top = `${r.top + point.y + 12}px`;
  tip.hidden = false;
  tip.dataset.name = hit.name;
}

function clearRun() {
  if (view.timer) { clearInterval(view.timer); view.timer = null; }
  $("events").replaceChildren();
  $("dark-count").textContent = ""; $("load-lost").textContent = "";
  $("report-link").hidden = true;
  $("clock").textContent = "t = 0.0 s";
  drawFrequency($("frequency"), {}, 0, 1, (view.fc && view.fc.properties.f_hz) || 60);
}

// actions in words (the engine's names are set_p, set_droop, block_ufls, ...)
const ACTION_WORDS = { set_p: "output setpoint changed", set_droop: "governor droop changed",
  block_ufls: "UFLS blocked", derate: "derated", close: "closed", restore: "restored" };

function eventItem(e) {
  const li = document.createElement("li");
  const t = document.createElement("span"); t.className = "t"; t.textContent = e.clock + " ";
  const element = e.element === "all" && e.action === "block_ufls" ? "every region" : e.element;
  const what = document.createElement("b");
  what.textContent = `${element} ${ACTION_WORDS[e.action] || e.action}`;
  const why = document.createElement("span"); why.className = "why"; why.textContent = `: ${e.why}`;
  li.append(t, what, why);
  if (e.chain) {
    const c = document.createElement("span"); c.className = "chain"; c.textContent = `after ${e.chain}`;
    li.append(c);
  }
  return li;
}

function freqWindow() {
  const r = view.result && view.result.result;
  if (!r) { return null; }
  const frames = r.frames, tEnd = frames.length ? frames[frames.length - 1].time_s : 0;
  const traces = (r.traces || {}).frequency_hz || {};
  return $("freq-full").checked ? [0, tEnd] : eventWindow(traces, tEnd);
}

// Draw frame k: the map, the clock, the frequency chart up to its time and the events so far.
function showFrame(k) {
  const result = view.result.result;
  const frames = result.frames, events = result.events;
  const fr = frames[Math.max(0, Math.min(k, frames.length - 1))];
  view.frame = k;
  applyFrame(view.map, fr, view.regionIds, view.shownOut);
  $("clock").textContent = (fr.clock && !fr.clock.startsWith("t+") ? `${fr.clock} · ` : "") +
    `t = ${fr.time_s.toFixed(1)} s`;
  const tEnd = frames.length ? frames[frames.length - 1].time_s : 0;
  const win = freqWindow();
  drawFrequency($("frequency"), (result.traces || {}).frequency_hz || {}, fr.time_s, tEnd,
                view.fc.properties.f_hz || 60, win);
  $("freq-window").textContent = win ? `${win[0].toFixed(1)}-${win[1].toFixed(1)} s` : "";
  const list = $("events");
  const shown = events.filter((e) => e.time_s <= fr.time_s + 1e-9).length;
  while (list.children.length > shown) { list.lastChild.remove(); }
  for (const e of events.slice(list.children.length, shown)) { list.append(eventItem(e)); }
  $("dark-count").textContent = `${fr.dark_regions} of ${view.regionIds.length} regions dark`;
  $("scrub").value = String(k);
  $("map").dataset.frame = String(k);
}

function pause() {
  if (view.timer) { clearInterval(view.timer); view.timer = null; }
  $("play").textContent = "Play";
}

// Play from the current frame: ~120 steps for the whole run at 1x (about 7 s).
function play() {
  const frames = view.result.result.frames;
  pause();
  if (view.frame >= frames.length - 1) { view.frame = 0; }
  $("play").textContent = "Pause";
  const stride = Math.max(1, Math.ceil(frames.length / 120));
  const tick = () => {
    if (view.frame >= frames.length - 1) { finish(view.result); return; }
    showFrame(Math.min(view.frame + stride, frames.length - 1));
  };
  view.timer = setInterval(tick, 60 / Number($("speed").value));
}

function animate(status) {
  const result = status.result;
  view.result = status;
  clearRun();
  resetState(view.map);
  view.shownOut = new Set();
  for (const s of view.selection.values()) { setSelected(view.map, s, true); }
  $("scrub").max = String(Math.max(result.frames.length - 1, 0));
  setState("animating", `animating ${result.frames.length} frames, ${result.events.length} events`);
  refreshButtons();
  showFrame(0);
  play();
}

function finish(status) {
  pause();
  const s = status.result.summary || {};
  const list = $("events");
  for (const e of status.result.events.slice(list.children.length)) { list.append(eventItem(e)); }
  if (document.body.dataset.state === "done") { return; } // a replay or a scrub to the end
  const dark = (s.regions_dark || []).length;
  $("dark-count").textContent = `${dark} of ${view.regionIds.length} regions dark`;
  $("dark-count").dataset.dark = String(dark);
  if (s.load_lost_mw !== undefined) {
    $("load-lost").textContent = `· ${s.load_lost_mw.toFixed(0)} MW lost (${s.load_lost_percent.toFixed(1)} %)`;
  }
  $("report-link").href = status.report; $("report-link").hidden = false;
  setState("done", `done: ${status.result.events.length} events in ${status.elapsed_s.toFixed(1)} s of computing`);
  refreshButtons();
}

async function run(start) {
  setState("running", "starting…");
  refreshButtons();
  try {
    const job = await start();
    const status = await api.waitForRun(job, (st) => {
      setState("running", `${st.label}: ${st.status} ${st.elapsed_s.toFixed(1)} s`);
    });
    animate(status);
  } catch (err) {
    setState("error", `error: ${err.message}`);
    refreshButtons();
  }
}

$("trip").addEventListener("click", () => {
  const trips = [...view.selection.values()].map((s) => ({ kind: s.kind, id: s.id }));
  run(() => api.startRun(view.caseName, trips));
});
$("clear").addEventListener("click", () => {
  for (const s of view.selection.values()) { setSelected(view.map, s, false); }
  view.selection.clear(); showSelection();
});
$("replay").addEventListener("click", () => { if (view.result) { animate(view.result); } });
$("run-scenario").addEventListener("click", async () => {
  const opt = $("scenario-select").selectedOptions[0];
  if (opt.dataset.case !== view.caseName) {
    $("case-select").value = opt.dataset.case;
    await loadCase(opt.dataset.case);
  }
  run(() => api.startScenario(opt.value));
});
$("case-select").addEventListener("change", (e) => {
  loadCase(e.target.value).catch((err) => setState("error", `error: ${err.message}`));
});
$("scenario-select").addEventListener("change", refreshButtons);
$("play").addEventListener("click", () => {
  if (!view.result) { return; }
  if (view.timer) { pause(); } else { play(); }
});
$("scrub").addEventListener("input", () => {
  if (!view.result) { return; }
  pause();
  showFrame(Number($("scrub").value));
});
$("speed").addEventListener("change", () => { if (view.timer) { play(); } });
$("freq-full").addEventListener("change", () => { if (view.result) { showFrame(view.frame); } });
// for tests and the console: where a branch is drawn (its middle, in page pixels)
view.branchPoint = (name) => {
  const f = (view.map.blackoutBranches || []).find((g) => g.properties.name === name);
  const [[x0, y0], [x1, y1]] = branchSegment(view.map, f);
  const r = view.map.getContainer().getBoundingClientRect();
  return [r.left + (x0 + x1) / 2, r.top + (y0 + y1) / 2, f.properties.id];
};

async function main() {
  const [{ cases }, { scenarios }] = await Promise.all([api.listCases(), api.listScenarios()]);
  const caseSel = $("case-select");
  for (const c of cases) { caseSel.append(new Option(c.name, c.name)); }
  const scSel = $("scenario-select");
  for (const s of scenarios) {
    const o = new Option(s.name, s.name); o.dataset.case = s.case; o.title = s.description;
    o.dataset.default = s.default ? "1" : "0";
    scSel.append(o);
  }
  const first = new URLSearchParams(location.search).get("case")
    || (cases.some((c) => c.name === "venezuela2019") ? "venezuela2019" : cases[0].name);
  caseSel.value = first;
  await loadCase(first);
}

main().catch((err) => setState("error", `error: ${err.message}`));
