// Jobs page: recent jobs with a PNG preview of each result (fetched with Accept: image/png, shown as a blob: URL),
// and a form that uploads a .npy or PNG (POST /arrays) and convolves it (POST /convolutions).
import { api, blobUrl, download, el, formatNumber, formatTime, wireKeyForm } from "./api.js";

wireKeyForm();

const form = document.getElementById("job-form");
const runButton = document.getElementById("run-job");
const statusLine = document.getElementById("job-status");
const jobsBody = document.querySelector("#jobs tbody");
const previewUrls = new Map(); // job id → blob: URL, kept while the job is listed

/** The content type POST /arrays needs for a file: from its first bytes, else its name. */
async function contentTypeOf(file) {
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (head[0] === 0x93 && String.fromCharCode(...head.slice(1, 6)) === "NUMPY") return "application/x-npy";
  if (head[0] === 0x89 && String.fromCharCode(...head.slice(1, 4)) === "PNG") return "image/png";
  if (/\.npy$/i.test(file.name)) return "application/x-npy";
  if (/\.png$/i.test(file.name)) return "image/png";
  throw new Error(`${file.name} is neither a .npy file nor a PNG.`);
}

function kernelRows() {
  let rows;
  try {
    rows = JSON.parse(form.elements.kernel.value);
  } catch {
    throw new Error("The kernel must be JSON rows, e.g. [[1, 2, 1], [2, 4, 2], [1, 2, 1]].");
  }
  if (!Array.isArray(rows) || !rows.every(Array.isArray)) throw new Error("The kernel must be a list of rows, e.g. [[0, 1], [1, 0]].");
  return rows;
}

form.addEventListener("submit", async event => {
  event.preventDefault();
  runButton.disabled = true;
  statusLine.className = "status";
  try {
    const kernel = kernelRows();
    const file = form.elements.imageFile.files[0];
    let image;
    if (file) {
      statusLine.textContent = `Uploading ${file.name}…`;
      const stored = await api("/arrays", { method: "POST", body: file, contentType: await contentTypeOf(file) });
      image = { arrayId: stored.id };
      statusLine.textContent = `Stored ${stored.shape.join("×")} array; convolving…`;
    } else {
      image = { generate: { shape: [256, 256], fill: "normal", seed: 0 } };
      statusLine.textContent = "Convolving a generated 256×256 image…";
    }
    const stride = Number(form.elements.stride.value || 1);
    const job = await api("/convolutions?wait=30", {
      method: "POST",
      json: { image, kernel: { data: kernel }, mode: form.elements.mode.value, boundary: form.elements.boundary.value, stride, method: form.elements.method.value },
    });
    statusLine.textContent = job.status === "succeeded"
      ? `Job ${job.id.slice(0, 8)}… succeeded: ${job.result.shape.join("×")} output in ${formatNumber(job.timing?.computeMs)} ms.`
      : `Job ${job.id.slice(0, 8)}… is ${job.status}${job.error ? `: ${job.error}` : ""}.`;
    statusLine.className = job.status === "failed" ? "status error" : "status ok";
    statusLine.dataset.jobId = job.id;
    await loadJobs();
  } catch (error) {
    statusLine.textContent = error.message;
    statusLine.className = "status error";
  } finally {
    runButton.disabled = false;
  }
});

document.getElementById("refresh-jobs").addEventListener("click", () => loadJobs());

const shape = reference => (reference?.shape ?? []).join("×");

function downloads(job) {
  if (job.status !== "succeeded") return "–";
  const path = `/convolutions/${job.id}/result`;
  // The links work without this script too (as JSON rows); with it they fetch .npy or PNG with the key.
  const link = (label, accept, name) => el("a", {
    href: path, "data-download": label,
    onclick: event => {
      event.preventDefault();
      download(path, accept, name).catch(error => { statusLine.textContent = error.message; statusLine.className = "status error"; });
    },
  }, label);
  return el("span", {}, link(".npy", "application/x-npy", `${job.id}.npy`), " · ", link("PNG", "image/png", `${job.id}.png`), " · ",
    el("a", { href: path }, "JSON"));
}

function previewCell(job) {
  const cell = el("td", {});
  if (job.status !== "succeeded") return cell;
  const image = el("img", { class: "preview", alt: `Result of job ${job.id}, ${job.result?.shape?.join("×")}`, width: 96, height: 96 });
  cell.append(image);
  const cached = previewUrls.get(job.id);
  if (cached) image.src = cached;
  else blobUrl(`/convolutions/${job.id}/result`, "image/png")
    .then(url => { previewUrls.set(job.id, url); image.src = url; })
    .catch(error => { cell.replaceChildren(el("span", { class: "hint", title: error.message }, "no preview")); });
  return cell;
}

async function loadJobs() {
  let page;
  try {
    page = await api("/convolutions?limit=20");
  } catch (error) {
    jobsBody.replaceChildren(el("tr", {}, el("td", { colspan: 11, class: "error" }, error.message)));
    return;
  }
  const jobs = page.items ?? [];
  for (const [id, url] of previewUrls) {
    if (!jobs.some(job => job.id === id)) { URL.revokeObjectURL(url); previewUrls.delete(id); }
  }
  if (jobs.length === 0) {
    jobsBody.replaceChildren(el("tr", {}, el("td", { colspan: 11 }, "No jobs yet: convolve one above.")));
    return;
  }
  jobsBody.replaceChildren(...jobs.map(job => el("tr", { "data-job-id": job.id, "data-status": job.status },
    previewCell(job),
    el("td", {}, el("a", { href: `/convolutions/${job.id}`, title: `job ${job.id} (JSON)` }, formatTime(job.submittedAt))),
    el("td", {}, el("span", { class: `badge ${job.status}`, title: job.error ?? "" }, job.status)),
    el("td", {}, `${shape(job.request?.image)} → ${job.result ? job.result.shape.join("×") : "?"}`),
    el("td", {}, shape(job.request?.kernel)),
    el("td", {}, `${job.request?.mode ?? ""}, ${job.request?.boundary ?? ""}`),
    el("td", {}, job.method ?? ""),
    el("td", { class: "num" }, formatNumber(job.timing?.queueMs)),
    el("td", { class: "num" }, formatNumber(job.timing?.computeMs)),
    el("td", { class: "num" }, formatNumber(job.timing?.totalMs)),
    el("td", {}, downloads(job)))));
}

await loadJobs();
