// A small frequency chart on a canvas: each island's trace drawn up to the current time.

const COLOURS = ["#38bdf8", "#f472b6", "#a3e635", "#fbbf24", "#c084fc", "#f87171"];

export function drawFrequency(canvas, traces, tNow, tEnd, fNominal) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, padL = 38, padB = 16;
  ctx.clearRect(0, 0, w, h);
  let lo = fNominal - 0.5, hi = fNominal + 0.5;
  for (const tr of Object.values(traces || {})) {
    for (const f of tr.frequency_hz) { if (f !== null) { lo = Math.min(lo, f); hi = Math.max(hi, f); } }
  }
  const x = (t) => padL + (w - padL - 4) * (tEnd > 0 ? t / tEnd : 0);
  const y = (f) => 4 + (h - padB - 8) * (hi - f) / (hi - lo);
  ctx.fillStyle = "#9ca3af"; ctx.font = "10px sans-serif";
  ctx.fillText(hi.toFixed(1), 2, y(hi) + 8); ctx.fillText(lo.toFixed(1), 2, y(lo));
  ctx.fillText("Hz", 2, h / 2); ctx.fillText(`${tEnd.toFixed(0)} s`, w - 40, h - 3);
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
  ctx.strokeStyle = "#fbbf24"; ctx.beginPath(); ctx.moveTo(x(tNow), 2); ctx.lineTo(x(tNow), h - padB); ctx.stroke();
}
