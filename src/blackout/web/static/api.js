// The JSON API, as small async functions. Every error comes back as {"error": message}.

async function request(url, options) {
  const res = await fetch(url, options);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) { throw new Error(body.error || `HTTP ${res.status}`); }
  return body;
}

export const listCases = () => request("/api/cases");
export const listScenarios = () => request("/api/scenarios");
export const geometry = (caseName) => request(`/api/cases/${encodeURIComponent(caseName)}/geometry`);

function post(url, body) {
  return request(url, { method: "POST", headers: { "Content-Type": "application/json" },
                        body: JSON.stringify(body) });
}

export const startRun = (caseName, trips) => post("/api/runs", { case: caseName, trips });
export const startScenario = (name) => post(`/api/scenarios/${encodeURIComponent(name)}/runs`, {});

// Poll a job until it is done or failed; onProgress(status) is called on each poll.
export async function waitForRun(job, onProgress, intervalMs = 300) {
  for (;;) {
    const st = await request(job.poll || `/api/runs/${job.id}`);
    onProgress(st);
    if (st.status === "done") { return st; }
    if (st.status === "failed") { throw new Error(st.error || "run failed"); }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
