// autobot's dashboard: one event stream (/events) of the status board,
// the equity history once (/history), pages of the run's trade store
// (/store, the History view), and the operator's commands as the
// same POST routes `autobot ctl` uses, sent with the session cookie and
// its CSRF token. No framework, no CDN: this file is embedded in the binary.
"use strict";

const csrf = document.querySelector('meta[name="csrf"]').content;
// A finished run's dashboard (`autobot dashboard RUN_DIR`): no controls.
const readOnly = document.querySelector('meta[name="read-only"]').content === "true";
if (readOnly) {
  document.getElementById("read-only").hidden = false;
  for (const a of document.querySelectorAll('nav a[data-view="controls"], nav a[data-view="approvals"]')) a.hidden = true;
}
const $ = (id) => document.getElementById(id);
let last = null;
let info = { daily_loss_limit: "0", max_drawdown: "0", reports: [] };
const equity = [];
const MAX_POINTS = 3600;

function text(id, v) { const e = $(id); if (e) e.textContent = v; }
function num(s) { return Number(s); }
function fmt(s, d = 2) { const n = Number(s); return Number.isFinite(n) ? n.toFixed(d) : "–"; }
function pct(x) { return Number.isFinite(x) ? (x * 100).toFixed(2) + "%" : "–"; }
function snake(s) { return String(s).replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(); }

// --- views -----------------------------------------------------------------
function show(view) {
  for (const s of document.querySelectorAll("section.view")) s.hidden = s.id !== view;
}
for (const a of document.querySelectorAll("nav a")) {
  a.addEventListener("click", (e) => { e.preventDefault(); show(a.dataset.view); history.replaceState(null, "", "#" + a.dataset.view); });
}
show((location.hash || "#overview").slice(1));

// --- rendering -----------------------------------------------------------
// A symbol's feed in words: the gateway's report, the core's staleness and
// the age of the last data, in event time (the core's clock, so a replayed
// or fast market reads the same as a live one).
function feed(f, nowNs) {
  if (!f.last_data_ns) return "no data yet";
  const age = Math.max(0, (nowNs - f.last_data_ns) / 1e9);
  const ago = age < 10 ? age.toFixed(1) + " s ago" : Math.round(age) + " s ago";
  if (f.stale) return "STALE: last data " + ago;
  if (f.health !== "Healthy") return snake(f.health).replace("_", " ") + ", last data " + ago;
  return "live, last data " + ago;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c;
    tr.appendChild(td);
  }
  return tr;
}

// A table is rebuilt only when what it shows changed, so a button under
// the operator's pointer is not replaced between press and release.
const shown = new Map();
function fill(tbodyOf, rows, key) {
  const k = key === undefined ? null : JSON.stringify(key);
  if (k !== null && shown.get(tbodyOf) === k) return;
  shown.set(tbodyOf, k);
  const body = document.querySelector(tbodyOf + " tbody");
  body.replaceChildren(...rows());
}

function bar(id, used, limit) {
  const e = $(id);
  const share = limit > 0 ? Math.min(1, Math.max(0, used / limit)) : 0;
  e.style.width = (share * 100).toFixed(1) + "%";
  e.classList.toggle("near", share >= 0.8);
}

function render(frame) {
  const s = frame.status;
  last = s;
  const a = s.account;
  const state = snake(s.state);
  const st = $("state");
  st.textContent = state.toUpperCase();
  st.className = "big state-" + state;
  text("mode", snake(s.mode).replace("_", "-"));
  text("kill", s.kill_switch ? "ENGAGED" : "off");
  text("equity", fmt(a.equity) + " USDT");
  text("balance", fmt(a.balance));
  text("unrealized", fmt(a.unrealized));
  text("daily-pnl", fmt(a.daily_pnl));
  const dayLimit = num(info.daily_loss_limit) * num(a.start);
  text("daily-limit", "−" + fmt(dayLimit));
  bar("daily-bar", -num(a.daily_pnl), dayLimit);
  text("drawdown", pct(num(a.drawdown)));
  text("dd-limit", pct(num(info.max_drawdown)));
  bar("dd-bar", num(a.drawdown), num(info.max_drawdown));
  text("seq", s.last_seq === null ? "none" : String(s.last_seq));
  text("events", String(s.events));
  text("digest", s.digest + " (" + s.outputs + " outputs)");
  for (const k of ["orders", "fills", "vetoes", "alerts"]) text(k, String(s[k]));
  text("open-orders", String(s.open_orders));
  text("stale-feeds", s.stale_feeds ? s.stale_feeds + " (SAFE_MODE until fresh)" : "none");
  const why = {
    held: "held: no new risk (state, mode, kill switch)", shadowed: "another instance owns the symbol",
    off_regime: "off-regime", below_cost: "expected move below k × round-trip cost", repeated: "repeated after a veto",
    too_small: "sized below one lot step", disabled: "instance disabled", high_vol: "high volatility",
  };
  const nt = Object.entries(s.not_taken).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  fill("#not-taken-table", () => nt.map(([k, n]) => row([why[k] ?? k, String(n)])), nt);
  text("open-orders-2", String(s.open_orders));
  const symSel = $("order-symbol");
  if (symSel.options.length !== s.symbol_names.length + 1) {
    for (const n of s.symbol_names) { const o = document.createElement("option"); o.textContent = n; symSel.appendChild(o); }
  }

  const names = s.symbol_names;
  fill("#regimes", () => s.symbols.map((y, i) => {
    const tr = row([names[i], y.regime, feed(y.feed, s.now_ns), y.mark ?? "–", y.position, fmt(y.realized)]);
    tr.id = "feed-" + names[i];
    tr.cells[2].className = y.feed.stale || y.feed.health !== "Healthy" ? "feed-bad" : "feed-ok";
    return tr;
  }));
  fill("#positions-table", () => s.symbols.map((y, i) => {
    const flatten = document.createElement("button");
    flatten.textContent = "Flatten";
    flatten.id = "flatten-" + names[i];
    flatten.addEventListener("click", () => ask("/flatten?symbol=" + encodeURIComponent(names[i]), "close the " + names[i] + " position"));
    const dist = y.liquidation && y.mark ? pct(Math.abs(num(y.mark) - num(y.liquidation)) / num(y.mark)) : "–";
    const owner = y.holder === null ? (num(y.position) !== 0 ? "operator" : "–") : s.strategy_names[y.holder] ?? String(y.holder);
    const both = (core, exch) => (core ?? "–") + " / " + (exch ?? "–");
    return row([names[i], y.position, y.entry ?? "–", y.mark ?? "–", fmt(y.unrealized), y.liquidation ?? "–", dist,
      both(y.stop, y.exchange_stop), both(y.take, y.exchange_take), owner, flatten]);
  }), s.symbols);

  text("pending-count", s.pending.length ? "(" + s.pending.length + ")" : "");
  $("no-pending").hidden = s.pending.length > 0;
  fill("#pending-table", () => s.pending.map((p) => {
    const box = document.createElement("span");
    for (const [verb, path] of [["Approve", "/approve"], ["Reject", "/reject"]]) {
      const b = document.createElement("button");
      b.textContent = verb;
      b.id = verb.toLowerCase() + "-" + p.id;
      b.addEventListener("click", () => send(path + "?id=" + p.id));
      box.appendChild(b);
    }
    const left = document.createElement("span");
    left.className = "countdown";
    left.dataset.id = String(p.id);
    return row([String(p.id), names[p.symbol] ?? String(p.symbol), p.side, p.qty, left, box]);
  }), s.pending.map((p) => p.id));
  // The countdown moves with every frame without rebuilding the rows.
  for (const p of s.pending) {
    const e = document.querySelector(`.countdown[data-id="${p.id}"]`);
    if (e) e.textContent = Math.max(0, (p.expires_ns - s.now_ns) / 1e9).toFixed(1) + " s";
  }

  const sel = $("strategy-select");
  if (sel.options.length !== s.strategy_names.length) {
    sel.replaceChildren(...s.strategy_names.map((n) => { const o = document.createElement("option"); o.textContent = n; return o; }));
  }

  if (Array.isArray(frame.latency)) {
    const us = (ns) => (ns === null || ns === undefined ? "–" : (ns / 1000).toFixed(1) + " µs");
    fill("#latency-table", () => frame.latency.map((l) => row([l.stage, String(l.count), us(l.p50_ns), us(l.p99_ns), us(l.p999_ns), us(l.max_ns)])));
  }

  if (!readOnly) equity.push({ t: frame.t, equity: num(a.equity) });
  if (equity.length > MAX_POINTS) equity.shift();
  draw();
}

function draw() {
  const c = $("equity-chart");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  if (equity.length < 2) return;
  const ys = equity.map((p) => p.equity);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const t0 = equity[0].t, t1 = equity[equity.length - 1].t;
  const x = (t) => 40 + ((t - t0) / Math.max(1, t1 - t0)) * (c.width - 50);
  const y = (v) => 10 + (1 - (v - lo) / (hi - lo)) * (c.height - 30);
  g.strokeStyle = "#2c343d";
  g.fillStyle = "#8a949e";
  g.font = "11px system-ui";
  g.fillText(hi.toFixed(2), 2, 14);
  g.fillText(lo.toFixed(2), 2, c.height - 20);
  g.beginPath();
  g.strokeStyle = "#58a6ff";
  g.lineWidth = 1.5;
  equity.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.equity)) : g.moveTo(x(p.t), y(p.equity))));
  g.stroke();
}

// --- commands ------------------------------------------------------------
async function send(path) {
  const out = $("answer");
  out.textContent = "sent " + path + " …";
  out.classList.remove("refused");
  delete out.dataset.state;
  delete out.dataset.orders;
  try {
    const r = await fetch(path, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
    const body = await r.json().catch(() => ({ error: "HTTP " + r.status }));
    const refused = !r.ok || body.refused === true;
    const summary = body.error
      ? "refused (" + r.status + "): " + body.error
      : (refused ? "REFUSED" : "done") + ": " + body.command + (body.reason ? " — " + body.reason : "") +
        (body.orders_sent ? " · orders sent " + body.orders_sent : "") + (body.vetoed ? " · vetoed " + body.vetoed : "");
    out.textContent = summary;
    out.classList.toggle("refused", refused);
    out.dataset.state = refused ? "refused" : "done";
    out.dataset.orders = String(body.orders_sent || 0);
  } catch (e) {
    out.textContent = "not sent: " + e;
    out.dataset.state = "error";
  }
}

let pending = null;
function ask(path, what) {
  pending = path;
  text("confirm-text", "Confirm: " + what + "?");
  $("confirm").hidden = false;
  show("controls");
}
$("confirm-yes").addEventListener("click", () => { $("confirm").hidden = true; if (pending) send(pending); pending = null; });
$("confirm-no").addEventListener("click", () => { $("confirm").hidden = true; pending = null; });
for (const b of document.querySelectorAll("button[data-cmd]")) {
  b.addEventListener("click", () => ask(b.dataset.cmd, b.dataset.what));
}
$("mode-btn").addEventListener("click", () => {
  const to = $("mode-select").value;
  ask("/mode?to=" + encodeURIComponent(to), "change the control mode to " + to);
});
for (const [id, to] of [["disable-btn", "disable"], ["enable-btn", "enable"]]) {
  $(id).addEventListener("click", () => {
    const name = $("strategy-select").value;
    ask("/strategy?name=" + encodeURIComponent(name) + "&to=" + to, to + " strategy " + name);
  });
}

$("logout").addEventListener("click", async () => {
  await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" }).catch(() => {});
  location.assign("/login");
});

// --- decisions and orders (the endpoint's read model, polled) -------------
const clock = (ms) => (ms ? new Date(ms).toISOString().slice(11, 19) : "–");
let decisions = null;
function renderDecisions() {
  const d = decisions;
  if (!d) return;
  fill("#rules-table", () => d.vetoes_by_rule.map(([rule, level, n]) => row([rule, String(level), String(n)])), d.vetoes_by_rule);
  const verdict = $("audit-what").value;
  const audits = d.audits.filter((a) => !verdict || a.what === verdict).slice(-50).reverse();
  fill("#audits-table", () => audits.map((a) => row([clock(a.t_ms), String(a.seq), a.symbol, a.what, a.text])), [verdict, audits.map((a) => a.seq)]);
  const signals = d.signals.slice(-50).reverse();
  fill("#signals-table", () => signals.map((g) => row([clock(g.t_ms), String(g.seq), g.symbol, g.by, g.text])), signals.map((g) => g.seq));
  const sym = $("order-symbol").value, what = $("order-what").value, q = $("order-text").value.toLowerCase();
  const orders = d.orders.filter((o) => (!sym || o.symbol === sym) && (!what || o.what === what) && (!q || o.text.toLowerCase().includes(q))).slice(-100).reverse();
  fill("#orders-table", () => orders.map((o) => row([clock(o.t_ms), String(o.seq), o.symbol, o.what, o.text])), [sym, what, q, orders.map((o) => o.seq + o.text)]);
  text("decisions-dropped", d.dropped ? d.dropped + " records were dropped while the dashboard was behind." : "");
  const bySel = $("fill-by");
  const bys = [...new Set(d.fills.map((f) => f.by))].sort();
  if (bySel.options.length !== bys.length + 1) {
    const keep = bySel.value;
    bySel.replaceChildren(new Option("all", ""), ...bys.map((b) => new Option(b, b)));
    bySel.value = keep;
  }
  const side = $("fill-side").value, by = bySel.value, since = $("fill-since").value.trim();
  const sinceMs = /^\d\d:\d\d$/.test(since) ? (Number(since.slice(0, 2)) * 60 + Number(since.slice(3))) * 60000 : null;
  const inDay = (ms) => ms % 86400000;
  const fills = d.fills.filter((f) => (!sym || f.symbol === sym) && (!side || f.side === side) && (!by || f.by === by) &&
    (sinceMs === null || inDay(f.t_ms) >= sinceMs)).slice(-100).reverse();
  fill("#fills-table", () => fills.map((f) => row([clock(f.t_ms), f.symbol, f.side, f.qty, f.price, f.fee, f.liquidity, "#" + f.order, f.by])),
    [sym, side, by, since, fills.map((f) => f.order + f.qty)]);
  const trips = d.trips.filter((t) => (!sym || t.symbol === sym) && (!by || t.by === by)).slice(-100).reverse();
  fill("#trips-table", () => trips.map((t) => row([clock(t.opened_ms), clock(t.closed_ms), t.symbol, t.side, t.size.toPrecision(4),
    t.gross.toFixed(4), t.fees.toFixed(4), t.net.toFixed(4), t.by])), [sym, by, trips.map((t) => t.closed_ms + t.symbol)]);
}
for (const id of ["audit-what", "order-symbol", "order-what", "fill-side", "fill-by"]) $(id).addEventListener("change", renderDecisions);
for (const id of ["order-text", "fill-since"]) $(id).addEventListener("input", renderDecisions);
async function pollDecisions() {
  try {
    const r = await fetch("/decisions", { credentials: "same-origin" });
    if (r.ok) { decisions = await r.json(); renderDecisions(); }
  } catch (e) { /* next time */ }
  setTimeout(pollDecisions, 1000);
}

// --- history (the run's trade store, paged) --------------------------------
async function loadStore(before) {
  const table = $("store-table").value;
  const q = "/store?table=" + encodeURIComponent(table) + "&limit=100" + (before === null ? "" : "&before=" + before);
  try {
    const r = await fetch(q, { credentials: "same-origin" });
    const p = await r.json();
    if (!r.ok) { text("store-status", p.error || ("HTTP " + r.status)); return; }
    const head = document.querySelector("#store-rows thead tr");
    head.replaceChildren(...p.columns.map((c) => { const th = document.createElement("th"); th.textContent = c; return th; }));
    // Times in UTC, as the rest of the dashboard reads them.
    const cell = (c, i) => (c === null ? "" : p.columns[i] === "time_ms" ? new Date(c).toISOString().replace("T", " ").slice(0, 23) : String(c));
    document.querySelector("#store-rows tbody").replaceChildren(...p.rows.map((cells) => row(cells.map(cell))));
    $("store-older").disabled = p.next === null;
    $("store-older").dataset.before = p.next === null ? "" : String(p.next);
    text("store-status", p.rows.length + " rows of " + table + " · the store has every input up to " +
      (p.last_seq === null ? "–" : p.last_seq) + (p.complete ? " (the whole run)" : " (kept current as the run goes)"));
  } catch (e) { text("store-status", "the store could not be read: " + e); }
}
$("store-table").addEventListener("change", () => loadStore(null));
$("store-newest").addEventListener("click", () => loadStore(null));
$("store-older").addEventListener("click", () => loadStore($("store-older").dataset.before || null));
for (const a of document.querySelectorAll('nav a[data-view="store"]')) a.addEventListener("click", () => loadStore(null));
if (location.hash === "#store") loadStore(null);

// --- data ----------------------------------------------------------------
async function start() {
  try {
    info = await (await fetch("/info", { credentials: "same-origin" })).json();
    const links = (info.reports || []).map(([name, path]) => name + ": " + path);
    if (links.length) text("reports", links.join(" · "));
    const past = await (await fetch("/history", { credentials: "same-origin" })).json();
    for (const p of past) equity.push({ t: p.t, equity: p.equity });
  } catch (e) { /* the stream still runs */ }
  const live = $("live");
  const es = new EventSource("/events");
  es.addEventListener("status", (e) => {
    render(JSON.parse(e.data));
    live.textContent = "live";
    live.className = "badge live";
  });
  es.onerror = () => { live.textContent = "reconnecting…"; live.className = "badge stale"; };
}
start();
pollDecisions();
