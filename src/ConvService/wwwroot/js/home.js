// Landing page: the key form and a one-line state of the service.
import { api, el, wireKeyForm } from "./api.js";

wireKeyForm();

const health = document.getElementById("health");
try {
  const [ready, nodes] = await Promise.all([
    fetch("/health/ready", { headers: { Accept: "application/json" } }),
    api("/nodes").catch(() => null),
  ]);
  health.replaceChildren(
    el("span", { class: ready.ok ? "ok" : "error" }, ready.ok ? "Ready" : `Not ready (${ready.status})`),
    nodes ? ` · ${nodes.alive} node${nodes.alive === 1 ? "" : "s"}, ${nodes.workers} convolution worker${nodes.workers === 1 ? "" : "s"}` : "",
    " · ", el("a", { href: "/health/ready" }, "/health/ready"), " · ", el("a", { href: "/nodes" }, "/nodes"));
} catch (error) {
  health.textContent = `Could not reach the service: ${error.message}`;
}
