// The hatfleet dashboard: polls the server's JSON API (/api/v1, protobuf's JSON mapping, so
// 64-bit integers arrive as strings) every two seconds and redraws. Every chart canvas carries
// data-points, the number of points it draws, so tests can check the plots in the page.
"use strict";

const POLL_MS = 2000;
const AGENT_PAGE = 100;
const view = { agentToken: "", nextAgentToken: "", agentClass: "", job: "", predictor: null,
               summary: null };
const charts = {};

const num = (x) => (x === undefined || x === null || x === "" ? 0 : Number(x));
const shortEnum = (s, prefix) => (s || "").replace(prefix, "").toLowerCase();

async function api(path) {
  const res = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (res.status === 401) {
    window.location.href = "/login";
    throw new Error("not logged in");
  }
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${body.code}: ${body.message}`);
  return body;
}

// A table row of text cells (never HTML: names come from agents and users).
function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = String(cell);
    tr.appendChild(td);
  }
  return tr;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function age(timestamp) {
  if (!timestamp) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(timestamp)) / 1000);
  return s < 90 ? `${s.toFixed(0)} s ago` : `${(s / 60).toFixed(0)} min ago`;
}

function duration(seconds) {
  if (seconds < 0 || !isFinite(seconds)) return "";
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function progressBar(progress) {
  const done = num(progress.done), total = num(progress.total);
  const span = document.createElement("span");
  span.className = "progress";
  span.dataset.done = done;
  span.dataset.total = total;
  const bar = document.createElement("span");
  bar.className = "bar";
  const inner = document.createElement("div");
  inner.style.width = `${total > 0 ? (100 * done) / total : 0}%`;
  bar.appendChild(inner);
  span.appendChild(bar);
  span.appendChild(document.createTextNode(
      `${done}/${total}` + (total > 0 ? ` (${((100 * done) / total).toFixed(0)}%)` : "")));
  return span;
}

function jobKind(spec) {
  for (const kind of ["latencyDataset", "predictorTraining", "supernetTraining", "search"]) {
    if (spec && spec[kind]) return kind;
  }
  return "?";
}

function hardwareText(h) {
  if (!h) return "";
  const parts = [h.accelerator || h.cpuModel, h.cpuArch, h.cpuCores ? `${h.cpuCores} cores` : "",
                 h.threads ? `${h.threads} threads` : "", h.emulated ? "emulated" : ""];
  return parts.filter((p) => p).join(", ");
}

// The device around an agent's newest measurement: "61.2 °C, 1500 MHz", and why it was
// throttled when it was (the cell is then marked, its reasons in the tooltip).
function conditionCell(c) {
  const cell = document.createElement("span");
  if (!c) return cell;
  const parts = [];
  if (c.hasTemperature) parts.push(`${Number(c.temperatureCAfter).toFixed(1)} °C`);
  if (c.hasFrequency) parts.push(`${Math.round(num(c.cpuFreqKhzAfter) / 1000)} MHz`);
  if (c.throttled) {
    parts.push("throttled");
    cell.className = "throttled";
    cell.title = (c.throttleReasons || []).join("\n");
  }
  cell.textContent = parts.join(", ");
  return cell;
}

const PALETTE = ["#2f7be5", "#e5772f", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

// Draws (or redraws) a chart on canvas `id` and records how many points it shows. Chart.js 3
// draws every dataset in grey unless told: each gets a colour of the palette.
function draw(id, config, points) {
  const canvas = document.getElementById(id);
  canvas.dataset.points = points;
  config.data.datasets.forEach((d, i) => {
    const colour = d.borderColor || PALETTE[i % PALETTE.length];
    d.borderColor = colour;
    if (!d.backgroundColor) d.backgroundColor = config.type === "bar" ? `${colour}99` : colour;
  });
  if (charts[id]) charts[id].destroy();
  config.options = Object.assign({ animation: false, responsive: true }, config.options || {});
  charts[id] = new Chart(canvas, config);
}

async function refreshFleet() {
  const summary = await api("/api/v1/summary");
  view.summary = summary;  // the datasets panel reads it too
  const classes = summary.classes || [];
  fill(document.querySelector("#classes tbody"), classes.map((c) => row([
    c.deviceClass, num(c.agentsIdle), num(c.agentsMeasuring), num(c.agentsLost),
    num(c.tasksQueued), num(c.tasksLeased), num(c.tasksDone), num(c.tasksFailed),
    num(c.measurementsThrottled), num(c.leaseExpiries), num(c.predictorVersion) > 0 ? `v${num(c.predictorVersion)}` : "none",
  ], { "data-class": c.deviceClass })));
  const select = document.getElementById("agent-class");
  const known = new Set([...select.options].map((o) => o.value));
  for (const c of classes) {
    if (!known.has(c.deviceClass)) select.add(new Option(c.deviceClass, c.deviceClass));
  }
  const total = classes.reduce((n, c) => n + num(c.agentsIdle) + num(c.agentsMeasuring) +
                                         num(c.agentsLost) + num(c.agentsLeft), 0);
  document.getElementById("agent-count").textContent = `${total} registered`;

  const params = new URLSearchParams({ page_size: AGENT_PAGE });
  if (view.agentClass) params.set("device_class", view.agentClass);
  if (view.agentToken) params.set("page_token", view.agentToken);
  const page = await api(`/api/v1/agents?${params}`);
  view.nextAgentToken = page.nextPageToken || "";
  document.getElementById("agents-next").disabled = !view.nextAgentToken;
  fill(document.querySelector("#agents tbody"), (page.agents || []).map((a) => {
    const state = document.createElement("span");
    state.className = `state-${a.state}`;
    state.textContent = shortEnum(a.state, "AGENT_STATE_");
    return row([a.agentId, a.deviceClass, state, age(a.lastHeartbeat), a.currentTask || "",
                num(a.measurementsDone), conditionCell(a.lastCondition), hardwareText(a.hardware),
                a.hostGroup || ""],
               { "data-agent-id": a.agentId });
  }));
}

async function refreshJobs() {
  const list = await api("/api/v1/jobs?page_size=1000");
  const jobs = (list.jobs || []).slice().reverse();  // newest first
  fill(document.querySelector("#job-table tbody"), jobs.map((j) => {
    const p = j.progress || {};
    const state = document.createElement("span");
    state.className = `state-${j.state}`;
    state.textContent = shortEnum(j.state, "JOB_STATE_");
    const tr = row([j.jobId, jobKind(j.spec), state, progressBar(p),
                    num(p.ratePerS) > 0 ? `${num(p.ratePerS).toFixed(2)}/s` : "",
                    j.state === "JOB_STATE_RUNNING" ? duration(num(p.etaS)) : "", p.phase || ""],
                   { "data-job-id": j.jobId, class: "selectable" });
    if (j.jobId === view.job) tr.classList.add("selected");
    tr.addEventListener("click", () => { view.job = j.jobId; refreshJobDetail(); });
    return tr;
  }));
  if (!view.job) {
    const search = jobs.find((j) => j.spec && j.spec.search);
    if (search) view.job = search.jobId;
  }
  await refreshJobDetail();
}

async function refreshJobDetail() {
  if (!view.job) return;
  const job = await api(`/api/v1/jobs/${encodeURIComponent(view.job)}`);
  document.getElementById("job-detail").hidden = false;
  document.getElementById("job-detail-id").textContent = job.jobId;
  const p = job.progress || {};
  document.getElementById("job-detail-summary").textContent =
      `${jobKind(job.spec)}, ${shortEnum(job.state, "JOB_STATE_")}: ${p.phase || ""}` +
      (job.error ? ` (${job.error})` : "");

  // Best loss per iteration, a line per limit.
  const history = p.searchHistory || [];
  const runs = new Map();
  for (const h of history) {
    const key = `limit ${num(h.limitMs).toFixed(2)} ms`;
    if (!runs.has(key)) runs.set(key, []);
    runs.get(key).push({ x: num(h.iteration), y: num(h.bestLoss) });
  }
  draw("history-chart", {
    type: "line",
    data: { datasets: [...runs.entries()].map(([label, data]) => ({ label, data })) },
    options: { parsing: false, scales: { x: { type: "linear", title: { display: true, text: "iteration" } },
                                         y: { title: { display: true, text: "validation loss" } } } },
  }, history.length);

  // The front: predicted latency for every point, measured where re-measured.
  const result = job.result || {};
  const points = [...(result.pareto || []), ...(result.references || [])];
  const predicted = points.map((q) => ({ x: num(q.predictedLatencyMs), y: num(q.validLoss),
                                         label: q.name || "winner" }));
  const measured = points.filter((q) => num(q.measuredLatencyMs) > 0)
                         .map((q) => ({ x: num(q.measuredLatencyMs), y: num(q.validLoss),
                                        label: q.name || "winner" }));
  draw("pareto-chart", {
    type: "scatter",
    data: { datasets: [
      { label: "predicted latency", data: predicted, pointStyle: "circle", pointRadius: 5 },
      { label: "re-measured latency", data: measured, pointStyle: "triangle", pointRadius: 7,
        borderColor: "#d62728" },
    ] },
    options: { scales: { x: { title: { display: true, text: "latency (ms)" } },
                         y: { title: { display: true, text: "validation loss" } } } },
  }, predicted.length + measured.length);
}

async function refreshPredictors() {
  const list = await api("/api/v1/predictors");
  const predictors = list.predictors || [];
  fill(document.querySelector("#predictor-table tbody"), predictors.map((p) => {
    const a = (p.predictor || {}).accuracy || {};
    const id = `${p.deviceClass}/${num(p.version)}`;
    const tr = row([p.deviceClass, `v${num(p.version)}`,
                    `${num(a.trainRows)}/${num(a.validRows)}/${num(a.testRows)}`,
                    `${num(a.testRmseMs).toFixed(2)} ms`, `${num(a.testMapePct).toFixed(1)}%`,
                    num(a.testKendallTau).toFixed(3), p.createdAt || ""],
                   { "data-predictor": id, class: "selectable" });
    tr.addEventListener("click", () => { view.predictor = [p.deviceClass, num(p.version)];
                                         refreshPredictorDetail(); });
    return tr;
  }));
  if (!view.predictor && predictors.length > 0) {
    const last = predictors[predictors.length - 1];
    view.predictor = [last.deviceClass, num(last.version)];
  }
  await refreshPredictorDetail();
}

async function refreshPredictorDetail() {
  if (!view.predictor) return;
  const [deviceClass, version] = view.predictor;
  const p = await api(`/api/v1/predictors/${encodeURIComponent(deviceClass)}/${version}`);
  const a = (p.predictor || {}).accuracy || {};
  document.getElementById("predictor-detail").hidden = false;
  document.getElementById("predictor-detail-id").textContent = `${deviceClass} v${version}`;
  document.getElementById("predictor-detail-summary").textContent =
      `${num(a.testRows)} test rows: RMSE ${num(a.testRmseMs).toFixed(2)} ms, ` +
      `MAPE ${num(a.testMapePct).toFixed(1)}%, Kendall tau ${num(a.testKendallTau).toFixed(3)}, ` +
      `within 10%: ${num(a.within10pct).toFixed(0)}%`;
  const points = (a.testPoints || []).map((t) => ({ x: num(t.measuredMs), y: num(t.predictedMs) }));
  const xs = points.flatMap((q) => [q.x, q.y]);
  const lo = xs.length ? Math.min(...xs) : 0, hi = xs.length ? Math.max(...xs) : 1;
  draw("predictor-chart", {
    type: "scatter",
    data: { datasets: [
      { label: "test rows", data: points },
      { label: "y = x", data: [{ x: lo, y: lo }, { x: hi, y: hi }], type: "line", pointRadius: 0,
        borderColor: "#999999", borderDash: [4, 4] },
    ] },
    options: { scales: { x: { title: { display: true, text: "measured (ms)" } },
                         y: { title: { display: true, text: "predicted (ms)" } } } },
  }, points.length);
}

async function refreshDatasets() {
  const summary = view.summary || { classes: [] };  // fetched by refreshFleet
  const container = document.getElementById("dataset-charts");
  for (const c of summary.classes || []) {
    if (num(c.tasksDone) === 0) continue;
    const id = `dataset-${c.deviceClass.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    if (!document.getElementById(id)) {
      const figure = document.createElement("figure");
      const canvas = document.createElement("canvas");
      canvas.id = id;
      canvas.dataset.deviceClass = c.deviceClass;
      const caption = document.createElement("figcaption");
      figure.append(canvas, caption);
      container.appendChild(figure);
    }
    const h = await api(`/api/v1/datasets/${encodeURIComponent(c.deviceClass)}/histogram`);
    const width = num(h.binWidthMs);
    const labels = (h.counts || []).map((_, i) => (num(h.minMs) + (i + 0.5) * width).toFixed(1));
    document.getElementById(id).nextSibling.textContent =
        `${c.deviceClass}: ${num(h.measurements)} measurements, median ${num(h.medianMs).toFixed(2)} ms`;
    draw(id, {
      type: "bar",
      data: { labels, datasets: [{ label: `${c.deviceClass} latency (ms)`,
                                   data: (h.counts || []).map(num) }] },
      options: { scales: { x: { title: { display: true, text: "latency (ms)" } },
                           y: { title: { display: true, text: "measurements" } } } },
    }, num(h.measurements));
  }
}

let slowTick = 0;
async function refresh() {
  try {
    await refreshFleet();
    await refreshJobs();
    if (slowTick++ % 5 === 0) {  // predictors and datasets change rarely
      await refreshPredictors();
      await refreshDatasets();
    }
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.refreshes = num(document.body.dataset.refreshes) + 1;
    if (!document.body.dataset.firstRefreshMs) {  // the page's load time, for bench/
      document.body.dataset.firstRefreshMs = performance.now().toFixed(0);
    }
  } catch (e) {
    document.getElementById("updated").textContent = `update failed: ${e.message}`;
  }
  setTimeout(refresh, POLL_MS);
}

document.getElementById("agent-class").addEventListener("change", (e) => {
  view.agentClass = e.target.value;
  view.agentToken = "";
  refreshFleet();
});
document.getElementById("agents-first").addEventListener("click", () => {
  view.agentToken = "";
  refreshFleet();
});
document.getElementById("agents-next").addEventListener("click", () => {
  view.agentToken = view.nextAgentToken;
  refreshFleet();
});
refresh();
