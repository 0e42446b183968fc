// A small frequency chart on a canvas: each island's trace drawn up to the current time,
// over a time window (by default zoomed on the event, see eventWindow).

const COLOURS = ["#38bdf8", "#f472b6", "#a3e635", "#fbbf24", "#c084fc", "#f87171"];

// [t0, t1] (s) around where some island's frequency moves (more than tolHz from its
// first value), padded; the full [0, tEnd] when nothing moves or it moves all along.
export function eventWindow(traces, tEnd, tolHz = 0.02) {
  let lo = Infinity, hi = -Infinity;
  for (const tr of Object.values(traces || {})) {
    const f0 = tr.frequency_hz.find((f) => f !== null);
    tr.time_s.forEach((t, k) => {
      const f = tr.frequency_hz[k];
      if (f !== null && Math.abs(f - f0) > tolHz) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
    });
    if (tr.time_s.length && tr.time_s[0] > 0) { // an island born during the event
      lo = Math.min(lo, tr.time_s[0]); hi = Math.max(hi, tr.time_s[tr.time_s.length - 1]);
    }
  }
  if (!Number.isFinite(lo) || tEnd <= 0) { return [0, tEnd]; }
  const span = Math.max(hi - lo, 1), t0 = Math.max(lo - 0.15 * span, 0);
  const t1 = Math.min(hi + 0.15 * span, tEnd);
  return t1 - t0 > 0.7 * tEnd ? [0, tEnd] : [t0, t1];
}

function label(t) { return t >= 100 ? t.toFixed(0) : t >= 10 ? t.toFixed(1) : t.toFixed(2); }

export function drawFrequency(canvas, traces, tNow, tEnd, fNominal, window = null) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, padL = 38, padB = 16;
  const [t0, t1] = window || [0, tEnd];
  ctx.clearRect(0, 0, w, h);
  let lo = fNominal - 0.5, hi = fNominal + 0.5;
  for (const tr of Object.values(traces || {})) {
    for (const f of tr.frequency_hz) { if (f !== null) { lo = Math.min(lo, f); hi = Math.max(hi, f); } }
  }
  const x = (t) => padL + (w - padL - 4) * (t1 > t0 ? (t - t0) / (t1 - t0) : 0);
  const y = (f) => 4 + (h - padB - 8) * (hi - f) / (hi - lo);
  ctx.fillStyle = "#9ca3af"; ctx.font = "10px sans-serif";
  ctx.fillText(hi.toFixed(1), 2, y(hi) + 8); ctx.fillText(lo.toFixed(1), 2, y(lo));
  ctx.fillText("Hz", 2, h / 2);
  ctx.fillText(`${label(t0)} s`, padL, h - 3);
  ctx.fillText(`${label(t1)} s`, w - 44, h - 3);
  ctx.save();
  ctx.beginPath(); ctx.rect(padL, 0, w - padL, h - padB); ctx.clip();
  ctx.strokeStyle = "#374151"; ctx.setLineDash([3, 3]);
  ctx.beginPath(); ctx.moveTo(padL, y(fNominal)); ctx.lineTo(w - 4, y(fNominal)); ctx.stroke();
  ctx.setLineDash([]);
  Object.values(traces || {}).forEach((tr, i) => {
    ctx.strokeStyle = COLOURS[i % COLOURS.length]; ctx.lineWidth = 1.5; ctx.beginPath();
    let started = false;
    tr.time_s.forEach((t, k) => {
      const f = tr.frequency_hz[k];
      if (t > tNow || f === null) { return; }
      if (started) { ctx.lineTo(x(t), y(f)); } else { ctx.moveTo(x(t), y(f)); started = true; }
    });
    ctx.stroke();
  });
  if (tNow >= t0 && tNow <= t1) {
    ctx.strokeStyle = "#fbbf24"; ctx.beginPath(); ctx.moveTo(x(tNow), 2); ctx.lineTo(x(tNow), h - padB); ctx.stroke();
  }
  ctx.restore();
  canvas.dataset.window = `${t0},${t1}`;
}
