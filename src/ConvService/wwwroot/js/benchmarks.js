// Benchmark page: submit the form as POST /benchmarks, poll GET /benchmarks/{id} for progress, then show the
// chart, the per-strategy table and the environment; list past benchmarks and compare two side by side.
// Fields of the report this page does not know are ignored; a "warnings" list is shown when the report has one.
import { api, blobUrl, delay, el, formatNumber, formatTime, isFinished, wireKeyForm } from "./api.js";

wireKeyForm();

const form = document.getElementById("benchmark-form");
const runButton = document.getElementById("run-benchmark");
const statusLine = document.getElementById("benchmark-status");
const progressRow = document.getElementById("progress-row");
const progressBar = document.getElementById("benchmark-progress");
const progressText = document.getElementById("progress-text");
const reportSection = document.getElementById("report");
const pastBody = document.querySelector("#past-benchmarks tbody");
const compareButton = document.getElementById("compare");
const comparison = document.getElementById("comparison");


const number = name => {
  const text = form.elements[name].value.trim();
  return text === "" ? undefined : Number(text);
};

/** The request the form describes; empty fields are left to the server's defaults. */
function requestFromForm() {
  const strategies = [...form.querySelectorAll('input[name="strategy"]:checked')].map(box => box.value);
  if (strategies.length === 0) throw new Error("Tick at least one strategy.");
  const kernel = { shape: [number("kernelRows"), number("kernelCols")] };
  if (number("filters") !== undefined) kernel.count = number("filters");
  return {
    image: { shape: [number("imageRows"), number("imageCols")] },
    kernel,
    iterations: number("iterations"),
    stride: number("stride"),
    mode: form.elements.mode.value,
    repetitions: number("repetitions"),
    warmup: number("warmup"),
    strategies,
  };
}

form.addEventListener("submit", async event => {
  event.preventDefault();
  runButton.disabled = true;
  statusLine.className = "status";
  reportSection.hidden = true;
  try {
    const request = requestFromForm();
    statusLine.textContent = "Submitting…";
    let report = await api("/benchmarks", { method: "POST", json: request });
    history.replaceState(null, "", `#${report.id}`);
    showProgress(report);
    while (!isFinished(report.status)) {
      await delay(400);
      report = await api(`/benchmarks/${report.id}`);
      showProgress(report);
    }
    statusLine.textContent = `Benchmark ${report.status}.`;
    statusLine.className = report.status === "succeeded" ? "status ok" : "status error";
    renderInto(reportSection, report);
    await loadPast();
  } catch (error) {
    statusLine.textContent = error.message;
    statusLine.className = "status error";
  } finally {
    runButton.disabled = false;
  }
});

function showProgress(report) {
  const { completed, total } = report.progress ?? { completed: 0, total: 0 };
  progressRow.hidden = false;
  progressBar.max = Math.max(total, 1);
  progressBar.value = completed;
  progressBar.dataset.status = report.status;
  const percent = total ? Math.floor((100 * completed) / total) : 0;
  progressText.textContent = `${completed} / ${total} convolutions (${percent} %)`;
  if (!isFinished(report.status)) {
    const estimate = report.estimatedSeconds ? `, estimated ${formatNumber(report.estimatedSeconds)} s of compute` : "";
    statusLine.textContent = `Benchmark ${report.id.slice(0, 8)}… ${report.status}${estimate}.`;
  }
}

/** Renders a report (chart, table, environment, warnings) into a container. */
function renderInto(container, report) {
  container.replaceChildren(reportView(report));
  container.hidden = false;
}

function describeRequest(request) {
  if (!request) return "";
  const image = request.image ?? {};
  const kernel = request.kernel ?? {};
  const shape = s => (Array.isArray(s) ? s.join("×") : "?");
  return `${shape(image.shape)} ${image.fill ?? "stored"} image, ${kernel.count ?? "?"} × ${shape(kernel.shape)} ${kernel.fill ?? "stored"} filters, ` +
    `${request.iterations} iterations, ${request.mode}, stride ${Array.isArray(request.stride) ? request.stride.join("×") : request.stride}, ` +
    `${request.repetitions} repetitions after ${request.warmup} warm-up`;
}

function reportView(report) {
  const view = el("article", { class: "benchmark", "data-benchmark-id": report.id });
  view.append(
    el("h2", {}, `Benchmark `, el("span", { class: "mono" }, report.id.slice(0, 12) + "…"), " ",
      el("span", { class: `badge ${report.status}` }, report.status)),
    el("p", { class: "summary" }, describeRequest(report.request), report.method ? `; method ${report.method}` : "",
      report.methodReason ? ` (${report.methodReason})` : ""),
  );
  if (report.error) view.append(el("p", { class: "error" }, report.error));
  view.append(warningsView(report.warnings));

  if (report.status === "succeeded") {
    // Fetched with the tab's API key (an <img src> cannot send one; with keys on, benchmarks belong to their key).
    const chart = el("img", {
      alt: `Speedup per strategy against the ideal line, benchmark ${report.id}`, class: "speedup-chart", width: 640, height: 360,
    });
    view.append(el("div", { class: "chart" }, chart));
    blobUrl(`/benchmarks/${report.id}/chart.svg`, "image/svg+xml").then(url => { chart.src = url; })
      .catch(error => { chart.replaceWith(el("span", { class: "hint", title: error.message }, "no chart")); });
  }
  if (Array.isArray(report.results) && report.results.length) view.append(resultsTable(report));
  if (report.resultsAgree !== undefined && report.resultsAgree !== null)
    view.append(el("p", { class: report.resultsAgree ? "ok" : "error" },
      report.resultsAgree ? "Every strategy and repetition produced identical outputs (checksums agree)." : "Outputs differ between strategies: see the checksums."));
  if (report.summary) view.append(el("p", { class: "summary" }, report.summary));
  if (report.environment) view.append(environmentView(report.environment));
  view.append(el("p", { class: "hint" },
    el("a", { href: `/benchmarks/${report.id}` }, "JSON report"), " · ",
    report.status === "succeeded" ? el("a", { href: `/benchmarks/${report.id}/chart.svg` }, "chart.svg") : "",
    ` · submitted ${formatTime(report.submittedAt)}`));
  return view;
}

function warningsView(warnings) {
  if (!Array.isArray(warnings) || warnings.length === 0) return "";
  const text = warning => (typeof warning === "string" ? warning
    : warning?.message ?? warning?.detail ?? warning?.text ?? JSON.stringify(warning));
  return el("section", { class: "warnings", role: "note" },
    el("h3", {}, "Warnings"),
    el("ul", {}, warnings.map(warning => el("li", {}, text(warning)))));
}

const ms = value => formatNumber(value);

function resultsTable(report) {
  const row = result => el("tr", { "data-strategy": result.strategy },
    el("th", { scope: "row", title: result.checksum ? `checksum ${result.checksum}` : undefined }, result.strategy),
    el("td", { class: "num", "data-field": "workers" }, result.workers),
    el("td", { class: "num", "data-field": "convolutions" }, result.convolutions),
    el("td", { class: "num", "data-field": "wallMedian" }, ms(result.wallMs?.median)),
    el("td", { class: "num", "data-field": "wallSpread" }, `${ms(result.wallMs?.min)}–${ms(result.wallMs?.max)}`),
    el("td", { class: "num", "data-field": "perConvolutionMedian" }, ms(result.perConvolutionMs?.median)),
    el("td", { class: "num", "data-field": "speedup" }, result.speedup == null ? "–" : `${result.speedup.toFixed(2)}×`),
    el("td", { class: "num", "data-field": "efficiency" }, result.efficiency == null ? "–" : result.efficiency.toFixed(2)),
    el("td", { class: "num", "data-field": "overheadPerJob" }, ms(result.overheadPerJobMs)));
  return el("div", { class: "table-wrap" },
    el("table", { class: "results" },
      el("caption", {}, "Per strategy, over the measured repetitions. Wall: one repetition's wall-clock time; per convolution: compute time of one convolution."),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "Strategy"),
        el("th", { scope: "col", class: "num" }, "Workers"),
        el("th", { scope: "col", class: "num" }, "Convolutions"),
        el("th", { scope: "col", class: "num" }, "Median wall ms"),
        el("th", { scope: "col", class: "num" }, "Spread ms (min–max)"),
        el("th", { scope: "col", class: "num" }, "Per convolution ms"),
        el("th", { scope: "col", class: "num" }, "Speedup"),
        el("th", { scope: "col", class: "num" }, "Efficiency"),
        el("th", { scope: "col", class: "num" }, "Overhead per job ms"))),
      el("tbody", {}, report.results.map(row))));
}

function environmentView(environment) {
  const entries = [
    ["CPU", environment.cpu],
    ["Cores", environment.processorCount],
    ["Workers", environment.workerCount === undefined ? undefined
      : `${environment.workerCount} on this node, ${environment.hangfireWorkers ?? "?"} Hangfire workers in all`],
    ["SIMD", environment.simd],
    ["Runtime", environment.runtime],
    ["OS", environment.os],
    ["GC", environment.gcMode],
    ["Other jobs during the run", environment.concurrentJobs],
    ["Node", environment.node],
  ].filter(([, value]) => value !== undefined && value !== null && value !== "");
  return el("section", { class: "environment" },
    el("h3", {}, "Environment"),
    el("dl", { class: "env" }, entries.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))])));
}

// Past benchmarks, and comparing two.
let past = [];

async function loadPast() {
  try {
    const page = await api("/benchmarks?limit=25");
    past = page.items ?? [];
  } catch (error) {
    pastBody.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "error" }, error.message)));
    return;
  }
  addStrategiesFrom(past);
  if (past.length === 0) {
    pastBody.replaceChildren(el("tr", {}, el("td", { colspan: 8 }, "None yet: run one above.")));
    return;
  }
  pastBody.replaceChildren(...past.map(report => {
    const best = (report.results ?? []).filter(r => r.speedup != null).sort((a, b) => b.speedup - a.speedup)[0];
    const request = report.request ?? {};
    return el("tr", { "data-benchmark-id": report.id },
      el("td", {}, el("input", { type: "checkbox", class: "pick", value: report.id, "aria-label": `Compare benchmark ${report.id}` })),
      el("td", {}, formatTime(report.submittedAt)),
      el("td", {}, el("span", { class: `badge ${report.status}` }, report.status)),
      el("td", {}, (request.image?.shape ?? []).join("×")),
      el("td", {}, `${request.kernel?.count ?? "?"} × ${(request.kernel?.shape ?? []).join("×")}`),
      el("td", { class: "num" }, request.iterations ?? ""),
      el("td", {}, best ? `${best.strategy} ${best.speedup.toFixed(2)}×` : "–"),
      el("td", { class: "id" }, el("a", { href: `#${report.id}`, onclick: event => { event.preventDefault(); show(report.id); } }, report.id.slice(0, 12) + "…")));
  }));
  updateCompareButton();
}

/** Adds an unticked checkbox for each strategy name the form does not list yet. */
function addStrategies(names) {
  const box = document.getElementById("strategies");
  const listed = new Set([...box.querySelectorAll("input")].map(input => input.value));
  for (const name of names) {
    if (typeof name !== "string" || !/^[a-z][a-z0-9-]*$/.test(name) || listed.has(name)) continue;
    listed.add(name);
    box.append(el("label", {}, el("input", { type: "checkbox", name: "strategy", value: name }), ` ${name}`));
  }
}

const addStrategiesFrom = reports => addStrategies(reports.flatMap(r => r.request?.strategies ?? []));

/** The strategy names the OpenAPI document lists ("Any of serial, parallel, … (default …)"), so new ones appear here. */
async function addStrategiesFromOpenApi() {
  try {
    const document = await api("/swagger/v1/swagger.json");
    const description = document?.components?.schemas?.BenchmarkRequest?.properties?.strategies?.description ?? "";
    const match = /Any of ([a-z0-9, -]+?)\s*(\(|\.|$)/.exec(description);
    if (match) addStrategies(match[1].split(",").map(name => name.trim()));
  } catch { /* Swagger is optional: the form's own list stands */ }
}

async function show(id) {
  try {
    const report = await api(`/benchmarks/${id}`);
    history.replaceState(null, "", `#${id}`);
    if (!isFinished(report.status)) showProgress(report);
    renderInto(reportSection, report);
    reportSection.scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    statusLine.textContent = error.message;
    statusLine.className = "status error";
  }
}

function picked() {
  return [...pastBody.querySelectorAll("input.pick:checked")].map(box => box.value);
}

function updateCompareButton() {
  compareButton.disabled = picked().length !== 2;
}

pastBody.addEventListener("change", updateCompareButton);

compareButton.addEventListener("click", async () => {
  const ids = picked();
  if (ids.length !== 2) return;
  try {
    const reports = await Promise.all(ids.map(id => api(`/benchmarks/${id}`)));
    comparison.replaceChildren(el("h2", {}, "Side by side"),
      el("div", { class: "report-grid two" }, reports.map(reportView)));
    comparison.hidden = false;
    comparison.scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    statusLine.textContent = error.message;
    statusLine.className = "status error";
  }
});

await Promise.all([loadPast(), addStrategiesFromOpenApi()]);
if (location.hash.length === 33) await show(location.hash.slice(1));
