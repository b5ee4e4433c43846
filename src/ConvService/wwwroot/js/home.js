// Landing page: the key form and a one-line state of the service, refreshed until it is ready (a node that has just
// started reports unready until its Hangfire servers' first heartbeat).
import { api, delay, el, wireKeyForm } from "./api.js";

wireKeyForm();

const health = document.getElementById("health");

async function refresh() {
  try {
    const [ready, nodes] = await Promise.all([
      fetch("/health/ready", { headers: { Accept: "application/json" } }),
      api("/nodes").catch(() => null),
    ]);
    health.replaceChildren(
      el("span", { class: ready.ok ? "ok" : "error" }, ready.ok ? "Ready" : `Not ready (${ready.status})`),
      nodes ? ` · ${nodes.alive} node${nodes.alive === 1 ? "" : "s"}, ${nodes.workers} convolution worker${nodes.workers === 1 ? "" : "s"}` : "",
      " · ", el("a", { href: "/health/ready" }, "/health/ready"), " · ", el("a", { href: "/nodes" }, "/nodes"));
    return ready.ok;
  } catch (error) {
    health.textContent = `Could not reach the service: ${error.message}`;
    return false;
  }
}

while (!(await refresh())) await delay(2000);
