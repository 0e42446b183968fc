// The page: pick elements on the map, trip them, animate the cascade the server returns.

import * as api from "./api.js";
import { drawFrequency } from "./chart.js";
import { applyFrame, createMap, pick, regionCount, resetState, setSelected } from "./map.js";

const $ = (id) => document.getElementById(id);
const view = { map: null, fc: null, caseName: null, selection: new Map(), result: null,
               timer: null, regionIds: [] };
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
    if (!hit) { return; }
    const key = `${hit.kind}:${hit.id}`;
    if (view.selection.has(key)) { view.selection.delete(key); setSelected(map, hit, false); }
    else { view.selection.set(key, hit); setSelected(map, hit, true); }
    showSelection();
  });
  map.on("mousemove", (e) => { map.getCanvas().style.cursor = pick(map, e.point) ? "pointer" : ""; });
  await new Promise((resolve) => map.once("idle", resolve));
  document.body.dataset.regions = String(regionCount(fc));
  const own = [...$("scenario-select").options].find((o) => o.dataset.case === name);
  if (own) { $("scenario-select").value = own.value; }
  setState("idle", `${name}: ${regionCount(fc)} regions; select a branch or generator`);
  refreshButtons();
}

function clearRun() {
  if (view.timer) { clearInterval(view.timer); view.timer = null; }
  $("events").replaceChildren();
  $("dark-count").textContent = ""; $("load-lost").textContent = "";
  $("report-link").hidden = true;
  $("clock").textContent = "t = 0.0 s";
  drawFrequency($("frequency"), {}, 0, 1, (view.fc && view.fc.properties.f_hz) || 60);
}

function eventItem(e) {
  const li = document.createElement("li");
  const t = document.createElement("span"); t.className = "t"; t.textContent = e.clock + " ";
  const what = document.createElement("b"); what.textContent = `${e.element} ${e.action}`;
  const why = document.createElement("span"); why.className = "why"; why.textContent = `: ${e.why}`;
  li.append(t, what, why);
  if (e.chain) {
    const c = document.createElement("span"); c.className = "chain"; c.textContent = `after ${e.chain}`;
    li.append(c);
  }
  return li;
}

function animate(status) {
  const result = status.result;
  view.result = status;
  clearRun();
  resetState(view.map);
  for (const s of view.selection.values()) { setSelected(view.map, s, true); }
  const frames = result.frames, events = result.events;
  const tEnd = frames.length ? frames[frames.length - 1].time_s : 0;
  const fNominal = view.fc.properties.f_hz || 60;
  const traces = (result.traces || {}).frequency_hz || {};
  const stride = Math.max(1, Math.ceil(frames.length / 120)); // at most ~120 steps (~7 s)
  const shownOut = new Set();
  let k = 0, shownEvents = 0;
  setState("animating", `animating ${frames.length} frames, ${events.length} events`);
  refreshButtons();
  const step = () => {
    const fr = frames[Math.min(k, frames.length - 1)];
    applyFrame(view.map, fr, view.regionIds, shownOut);
    $("clock").textContent = `t = ${fr.time_s.toFixed(1)} s`;
    drawFrequency($("frequency"), traces, fr.time_s, tEnd, fNominal);
    const list = $("events");
    while (shownEvents < events.length && events[shownEvents].time_s <= fr.time_s + 1e-9) {
      list.append(eventItem(events[shownEvents])); shownEvents += 1;
    }
    $("dark-count").textContent = `${fr.dark_regions} of ${view.regionIds.length} regions dark`;
    if (k >= frames.length - 1) { finish(status); return; }
    k = Math.min(k + stride, frames.length - 1);
  };
  step();
  view.timer = setInterval(step, 60);
}

function finish(status) {
  clearInterval(view.timer); view.timer = null;
  const s = status.result.summary || {};
  const list = $("events");
  for (const e of status.result.events.slice(list.children.length)) { list.append(eventItem(e)); }
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

async function main() {
  const [{ cases }, { scenarios }] = await Promise.all([api.listCases(), api.listScenarios()]);
  const caseSel = $("case-select");
  for (const c of cases) { caseSel.append(new Option(c.name, c.name)); }
  const scSel = $("scenario-select");
  for (const s of scenarios) {
    const o = new Option(`${s.name} (${s.case})`, s.name); o.dataset.case = s.case; o.title = s.description;
    scSel.append(o);
  }
  const first = new URLSearchParams(location.search).get("case")
    || (cases.some((c) => c.name === "venezuela2019") ? "venezuela2019" : cases[0].name);
  caseSel.value = first;
  await loadCase(first);
}

main().catch((err) => setState("error", `error: ${err.message}`));
