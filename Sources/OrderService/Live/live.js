// Mercato's live page. It reads GET /orders/stream?view=summary — a few small updates a
// second whatever the load — with fetch, so the bearer token travels in the Authorization
// header and never in a URL, and GET /queues every two seconds. It renders at most four
// times a second, whatever arrives.
"use strict";

const TOKEN_KEY = "mercato.token";
const HISTORY_SECONDS = 180;
const RENDER_EVERY_MS = 250;
const SILENCE_MS = 5000; // no update for this long: the stream is dead, reconnect

const state = {
  token: null,
  summary: null,
  samples: [], // {t, created, invoiced, seconds}
  queues: null,
  queuesNote: "",
  stock: null,
  connected: false,
  renderPending: false,
  lastRender: 0,
  errors: [],
};
window.mercatoLive = state; // for the browser test: what the page believes

window.addEventListener("error", (event) => state.errors.push(String(event.message)));
window.addEventListener("unhandledrejection", (event) => state.errors.push(String(event.reason)));

function $(id) { return document.getElementById(id); }

// ---- token: from the link's fragment (never sent to a server), kept for this tab only ----

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get("token");
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    // Out of the address bar, the history and any bookmark.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function showLogin(message) {
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

function showDashboard() {
  $("login").hidden = true;
  $("dashboard").hidden = false;
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  state.token = token;
  $("token-input").value = "";
  start();
});

// ---- the stream ----

let generation = 0;

function setConnected(connected) {
  state.connected = connected;
  const badge = $("connection");
  badge.textContent = connected ? "connected" : "disconnected";
  badge.dataset.state = connected ? "connected" : "disconnected";
  badge.className = "badge " + (connected ? "connected" : "disconnected");
}

async function stream(myGeneration) {
  let delay = 1000;
  while (myGeneration === generation) {
    const controller = new AbortController();
    let silence = null;
    const arm = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    try {
      arm();
      const response = await fetch("/orders/stream?view=summary&interval_ms=500", {
        headers: { Authorization: "Bearer " + state.token, Accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403) {
        clearTimeout(silence);
        sessionStorage.removeItem(TOKEN_KEY);
        setConnected(false);
        showLogin(response.status === 401 ? "That token was not accepted (expired, or not for this system)." : "That token may not read orders.");
        return;
      }
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      setConnected(true);
      delay = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      // The server went away or fell silent: shown as disconnected, retried below.
    } finally {
      clearTimeout(silence);
    }
    if (myGeneration !== generation) return;
    setConnected(false);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

function handleEvent(block) {
  let type = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    if (field === "data") data.push(value);
  }
  if (type !== "summary" || data.length === 0) return;
  const summary = JSON.parse(data.join("\n"));
  state.summary = summary;
  const now = Date.now();
  state.samples.push({ t: now, created: summary.created, invoiced: summary.invoiced, seconds: summary.interval_ms / 1000 });
  while (state.samples.length && state.samples[0].t < now - HISTORY_SECONDS * 1000) state.samples.shift();
  scheduleRender();
}

// ---- queues ----

async function pollQueues(myGeneration) {
  while (myGeneration === generation) {
    try {
      const response = await fetch("/queues", { headers: { Authorization: "Bearer " + state.token }, cache: "no-store" });
      if (response.status === 403) {
        state.queues = null;
        state.queuesNote = "Queue health needs a token with mercato:admin.";
        scheduleRender();
        return;
      }
      if (response.ok) {
        state.queues = (await response.json()).queues;
        state.queuesNote = "";
      }
    } catch (error) {
      // Disconnected: the stream shows it; try again.
    }
    scheduleRender();
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// ---- stock ----

async function pollStock(myGeneration) {
  while (myGeneration === generation) {
    try {
      const response = await fetch("/stock", { headers: { Authorization: "Bearer " + state.token }, cache: "no-store" });
      if (response.ok) state.stock = await response.json();
    } catch (error) {
      // Disconnected: the stream shows it; try again.
    }
    scheduleRender();
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function renderStock() {
  const body = document.querySelector("#stock tbody");
  if (!state.stock) {
    body.replaceChildren();
    return;
  }
  $("stock-refused").textContent = format(state.stock.refused_out_of_stock);
  $("stock-cancelled").textContent = format(state.stock.cancelled_out_of_stock);
  const known = (value) => (value === undefined || value === null ? "–" : format(value));
  const rows = state.stock.products.map((product) => {
    const row = document.createElement("tr");
    row.dataset.sku = product.sku;
    [product.sku, product.name, format(product.available), known(product.reserved), known(product.on_order),
     format(product.replenished)].forEach((text, index) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (index > 1) td.className = "num";
      row.appendChild(td);
    });
    if (product.available === 0) row.className = "dead";
    else if (product.on_order > 0) row.className = "backlog";
    return row;
  });
  body.replaceChildren(...rows);
}

// ---- rendering, coalesced ----

function scheduleRender() {
  if (state.renderPending) return;
  state.renderPending = true;
  const wait = Math.max(0, state.lastRender + RENDER_EVERY_MS - Date.now());
  setTimeout(() => requestAnimationFrame(render), wait);
}

function render() {
  state.renderPending = false;
  state.lastRender = Date.now();
  const summary = state.summary;
  if (summary) {
    $("count-created").textContent = format(summary.counts.created || 0);
    $("count-invoiced").textContent = format(summary.counts.invoiced || 0);
    $("count-paid").textContent = format(summary.counts.paid || 0);
    $("count-cancelled").textContent = format(summary.counts.cancelled || 0);
    $("position").textContent = "change #" + summary.sequence;
    const recent = state.samples.slice(-4);
    const seconds = recent.reduce((sum, s) => sum + s.seconds, 0) || 1;
    $("rate-created").textContent = format(Math.round(recent.reduce((sum, s) => sum + s.created, 0) / seconds));
    $("rate-invoiced").textContent = format(Math.round(recent.reduce((sum, s) => sum + s.invoiced, 0) / seconds));
    $("latency-p50").textContent = milliseconds(summary.latency_ms.p50);
    $("latency-p99").textContent = milliseconds(summary.latency_ms.p99);
    renderOrders(summary.latest);
  }
  renderChart();
  renderQueues();
  renderStock();
}

function format(value) { return Number(value).toLocaleString("en-US"); }

function milliseconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 10 ? value.toFixed(1) + " ms" : value < 10000 ? Math.round(value) + " ms" : (value / 1000).toFixed(1) + " s";
}

function cell(row, index, text, className) {
  const td = row.children[index];
  if (td.textContent !== text) td.textContent = text;
  if (className !== undefined && td.className !== className) td.className = className;
}

function renderOrders(latest) {
  const body = document.querySelector("#orders tbody");
  const rows = new Map([...body.children].map((row) => [row.dataset.orderId, row]));
  let previous = null;
  for (const order of latest) {
    let row = rows.get(order.id);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.orderId = order.id;
      for (const className of ["", "id", "", "num", "status", "", "num"]) {
        const td = document.createElement("td");
        if (className) td.className = className;
        row.appendChild(td);
      }
    }
    rows.delete(order.id);
    const changed = row.dataset.status !== undefined && row.dataset.status !== order.status;
    row.dataset.status = order.status;
    row.classList.toggle("changed", changed);
    cell(row, 0, new Date(order.created_at).toLocaleTimeString("en-GB"));
    cell(row, 1, order.id.slice(0, 8));
    cell(row, 2, order.customer_name || order.customer_id.slice(0, 8));
    cell(row, 3, order.total);
    cell(row, 4, order.status, "status " + order.status);
    cell(row, 5, order.invoice_number || "");
    cell(row, 6, order.invoiced_after_ms === null || order.invoiced_after_ms === undefined ? "" : milliseconds(order.invoiced_after_ms), "num");
    // In place: rows keep their element, only moved when their position changes.
    const expected = previous ? previous.nextSibling : body.firstChild;
    if (expected !== row) body.insertBefore(row, expected);
    previous = row;
  }
  for (const stale of rows.values()) stale.remove();
}

function renderChart() {
  const width = 600, height = 140, top = 16;
  const now = Date.now();
  // Per second: updates come every half second, and batches make single ones jumpy.
  const bins = new Map();
  for (const s of state.samples) {
    const second = Math.floor(s.t / 1000);
    const bin = bins.get(second) || { created: 0, invoiced: 0, seconds: 0 };
    bin.created += s.created;
    bin.invoiced += s.invoiced;
    bin.seconds += s.seconds;
    bins.set(second, bin);
  }
  const points = [...bins.entries()].map(([second, bin]) => ({
    x: width - ((now - second * 1000) / (HISTORY_SECONDS * 1000)) * width,
    created: bin.created / bin.seconds,
    invoiced: bin.invoiced / bin.seconds,
  }));
  const max = Math.max(1, ...points.map((p) => Math.max(p.created, p.invoiced)));
  const y = (value) => (height - (value / max) * (height - top)).toFixed(1);
  $("chart-created").setAttribute("points", points.map((p) => p.x.toFixed(1) + "," + y(p.created)).join(" "));
  $("chart-invoiced").setAttribute("points", points.map((p) => p.x.toFixed(1) + "," + y(p.invoiced)).join(" "));
  $("chart-max").textContent = format(Math.round(max));
}

function renderQueues() {
  $("queues-note").textContent = state.queuesNote;
  const body = document.querySelector("#queues tbody");
  if (!state.queues) {
    body.replaceChildren();
    return;
  }
  const rows = state.queues.map((report) => {
    const row = document.createElement("tr");
    row.dataset.queue = report.queue.name;
    const ready = report.queue.messages, dead = report.dead_letters.messages;
    const values = [
      report.queue.name,
      report.queue.error || format(ready),
      report.queue.error ? "" : format(report.queue.consumers),
      report.dead_letters.error || format(dead),
    ];
    values.forEach((text, index) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (index > 0) td.className = "num";
      row.appendChild(td);
    });
    if (dead > 0 || report.queue.error || report.dead_letters.error) row.className = "dead";
    else if (ready > 0) row.className = "backlog";
    return row;
  });
  body.replaceChildren(...rows);
}

// ---- start ----

function start() {
  generation += 1;
  showDashboard();
  stream(generation);
  pollQueues(generation);
  pollStock(generation);
}

state.token = takeToken();
if (state.token) start(); else showLogin();
