// Calls to the ConvService API from the pages: one fetch wrapper that sends the API key (kept in this tab's
// sessionStorage, never in localStorage or a cookie) and turns problem+json refusals into errors with their detail.

const KEY_STORAGE = "convservice.apiKey";

/** The API key typed into this tab, or "". */
export function apiKey() {
  try { return sessionStorage.getItem(KEY_STORAGE) ?? ""; } catch { return ""; }
}

/** Remembers (or, for "", forgets) the API key for this tab. */
export function setApiKey(value) {
  try {
    if (value) sessionStorage.setItem(KEY_STORAGE, value); else sessionStorage.removeItem(KEY_STORAGE);
  } catch { /* storage disabled: the key lasts for this page only */ }
}

/** An error the API answered: status, title and the problem's detail. */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

/**
 * Fetches a path of this service. options: method, json (a body sent as application/json), body + contentType,
 * accept, signal. Answers the parsed JSON (or null for 204), or the Response itself when accept is not JSON.
 */
export async function api(path, options = {}) {
  const headers = new Headers();
  headers.set("Accept", options.accept ?? "application/json");
  const key = apiKey();
  if (key) headers.set("X-Api-Key", key);
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers.set("Content-Type", "application/json");
  } else if (options.contentType) {
    headers.set("Content-Type", options.contentType);
  }
  const response = await fetch(path, { method: options.method ?? "GET", headers, body, signal: options.signal });
  if (!response.ok) throw await problemOf(response);
  if (options.accept && !options.accept.includes("json")) return response;
  if (response.status === 204) return null;
  return response.json();
}

async function problemOf(response) {
  let title = `${response.status} ${response.statusText}`.trim();
  let detail = "";
  try {
    const problem = await response.json();
    title = problem.title ?? title;
    detail = problem.detail ?? "";
  } catch { /* not problem+json */ }
  if (response.status === 401 && !apiKey()) detail += " Enter the service's API key at the top of the page.";
  return new ApiError(response.status, title, detail);
}

/** Fetches a binary representation (accept) of a path as a blob: URL the caller revokes when done. */
export async function blobUrl(path, accept) {
  const response = await api(path, { accept });
  return URL.createObjectURL(await response.blob());
}

/** Downloads a representation of a path as a file named fileName. */
export async function download(path, accept, fileName) {
  const url = await blobUrl(path, accept);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Wires the header's key form: shows whether a key is set, saves or forgets it. */
export function wireKeyForm() {
  const form = document.getElementById("key-form");
  if (!form) return;
  const input = form.querySelector("input");
  const state = document.getElementById("key-state");
  const show = () => { state.textContent = apiKey() ? "API key set for this tab" : "no API key (needed when the service has keys)"; };
  form.addEventListener("submit", event => {
    event.preventDefault();
    setApiKey(input.value.trim());
    input.value = "";
    show();
    form.closest("details")?.removeAttribute("open");
  });
  form.querySelector("[data-forget]")?.addEventListener("click", () => { setApiKey(""); show(); form.closest("details")?.removeAttribute("open"); });
  show();
}

/** A number with as many decimals as its size deserves (3 significant digits below 100, none above). */
export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const magnitude = Math.abs(value);
  const decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toFixed(decimals);
}

/** A local date-time, short. */
export function formatTime(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  const today = date.toDateString() === new Date().toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/** Creates an element with attributes and children (strings become text: nothing is parsed as HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Waits ms milliseconds. */
export const delay = ms => new Promise(resolve => setTimeout(resolve, ms));

/** True for the statuses a job or benchmark never leaves. */
export const isFinished = status => status === "succeeded" || status === "failed" || status === "cancelled";
