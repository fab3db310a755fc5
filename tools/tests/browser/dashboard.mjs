// Drives autobot's dashboard in Debian's headless Chromium, as an operator
// would, against a running paper run in semi-auto mode (tools/tests/dashboard.rs
// starts the run and this script; it fails with a message on the first
// step that does not hold). Screenshots of each page go to OUT_DIR.
//
// usage: node dashboard.mjs URL TOKEN OUT_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [url, token, out] = process.argv.slice(2);
if (!url || !token || !out) {
  console.error("usage: node dashboard.mjs URL TOKEN OUT_DIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const step = (what) => console.log("step: " + what);
const fail = (what) => { throw new Error(what); };

// Waits (polling, no fixed sleep) until `f()` is truthy, or fails.
async function until(what, f, secs = 60) {
  const end = Date.now() + secs * 1000;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) fail("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const text = (sel) => page.textContent(sel);
  const shot = (name) => page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
  const go = async (view) => { await page.click(`nav a[data-view="${view}"]`); };

  step("a wrong token is refused");
  await page.goto(url + "/");
  await page.fill("#token", "not-the-token");
  await page.click("#login");
  await page.waitForSelector("#login-error");
  if (!(await text("#login-error")).includes("not this run's")) fail("no refusal shown");
  await shot("login-refused");
  const cookiesAfterWrong = await page.context().cookies();
  if (cookiesAfterWrong.length) fail("a wrong token got a cookie");

  step("the right token opens a session (HttpOnly, SameSite=Strict)");
  await page.fill("#token", token);
  await page.click("#login");
  await page.waitForSelector("#equity-chart");
  const [cookie] = await page.context().cookies();
  if (!cookie || !cookie.httpOnly || cookie.sameSite !== "Strict") fail("cookie flags: " + JSON.stringify(cookie));
  if (page.url().includes(token)) fail("the token is in the URL");

  step("the overview updates live: sequence and equity samples");
  await until("the stream", async () => (await text("#live")) === "live");
  const seq0 = Number(await text("#seq"));
  const points0 = await page.evaluate(() => equity.length);
  await until("the sequence to move", async () => Number(await text("#seq")) > seq0);
  await until("new equity samples", async () => (await page.evaluate(() => equity.length)) > points0 + 2);
  if ((await text("#mode")) !== "semi-auto") fail("the run is not in semi-auto: " + (await text("#mode")));
  // Each symbol's feed, by name, in event time.
  for (const sym of ["BTCUSDT", "ETHUSDT"]) {
    await until(sym + "'s feed shown live", async () => /^live, last data \d/.test(await text("#feed-" + sym + " td:nth-child(3)")));
  }
  await shot("overview");

  step("an order waits for approval; approving it fills it");
  // A waiting order may be replaced or expire before the click lands: the
  // core then refuses the approval, as it would an operator's; try the
  // next one, a few times.
  let symbol = null;
  let refusals = [];
  for (let attempt = 0; attempt < 8 && !symbol; attempt++) {
    await go("approvals");
    const approve = await until("an order waiting", async () => page.$("button[id^=approve-]"), 90);
    const id = (await approve.getAttribute("id")).slice("approve-".length);
    const sym = await page.textContent(`#pending-table tr:has(#approve-${id}) td:nth-child(2)`).catch(() => null);
    if (attempt === 0) {
      const left = await page.textContent(`.countdown[data-id="${id}"]`).catch(() => "");
      if (left && !/^\d+\.\d s$/.test(left)) fail("the countdown reads " + JSON.stringify(left));
      await shot("approvals");
    }
    const fills0 = Number(await text("#fills"));
    if (!(await page.click(`#approve-${id}`, { timeout: 3000 }).then(() => true, () => false))) {
      refusals.push("order " + id + " left before the click");
      continue;
    }
    await until("the answer", async () => (await page.getAttribute("#answer", "data-state")) !== null, 30);
    const answer = await text("#answer");
    // Approval runs the veto chain again (the market moved): it may be
    // vetoed then, which the answer shows; only a sent order can fill.
    const sent = Number(await page.getAttribute("#answer", "data-orders")) > 0;
    if ((await page.getAttribute("#answer", "data-state")) === "done" && sent && sym) {
      await until("the fill", async () => Number(await text("#fills")) > fills0, 30);
      symbol = sym;
    } else {
      refusals.push(answer);
    }
  }
  if (!symbol) fail("no approval went through: " + refusals.join(" | "));

  step("the position shows; flattening it from its row closes it");
  await go("positions");
  const size = async () => Number(await page.textContent(`#positions-table tr:has(#flatten-${symbol}) td:nth-child(2)`));
  await until(symbol + " position", async () => (await size()) !== 0, 30);
  // The strategy's stop, the core's and the one resting at the exchange.
  const stops = () => page.textContent(`#positions-table tr:has(#flatten-${symbol}) td:nth-child(8)`);
  await until("both stops", async () => /^\d[\d.]* \/ \d[\d.]*$/.test((await stops()) ?? ""), 30);
  await shot("positions");
  await page.click(`#flatten-${symbol}`);
  await page.waitForSelector("#confirm:not([hidden])");
  await page.click("#confirm-yes");
  await until("flatten's answer", async () => (await text("#answer")).startsWith("done"), 30);
  await go("positions");
  await until(symbol + " flat", async () => (await size()) === 0, 60);

  step("kill: the kill switch and the emergency mode show, open orders are cancelled");
  await go("controls");
  await page.click("#kill-btn");
  await page.waitForSelector("#confirm:not([hidden])");
  await page.click("#confirm-yes");
  await until("the kill's answer", async () => (await text("#answer")).startsWith("done: Kill"), 30);
  await until("the kill switch shown", async () => (await text("#kill")) === "ENGAGED", 10);
  await until("no open orders", async () => (await text("#open-orders")) === "0", 30);
  // The kill switch puts the control mode in emergency (SPEC 6).
  await until("the emergency mode", async () => (await text("#mode")) === "emergency", 10);

  step("a mode change the core refuses is shown as refused");
  await page.selectOption("#mode-select", "full-auto");
  await page.click("#mode-btn");
  await page.click("#confirm-yes");
  await until("the refusal", async () => (await page.getAttribute("#answer", "data-state")) === "refused" &&
    (await text("#answer")).includes("SetMode"), 30);
  if (!(await page.$eval("#answer", (e) => e.classList.contains("refused")))) fail("refusal not marked");
  await shot("controls");

  step("orders and decisions: the approved order, its veto-chain record, the signals");
  await go("orders");
  await until("orders in the log", async () => (await page.$$("#orders-table tbody tr")).length > 0, 30);
  await page.selectOption("#order-what", "cancel");
  await until("the filter", async () => {
    const kinds = await page.$$eval("#orders-table tbody tr td:nth-child(4)", (tds) => tds.map((t) => t.textContent));
    return kinds.every((k) => k === "cancel");
  }, 10);
  await page.selectOption("#order-what", "");
  // The approved order's fill and the flattened position's round trip.
  await until("fills", async () => (await page.$$("#fills-table tbody tr")).length > 0, 30);
  await until("a round trip", async () => (await page.$$("#trips-table tbody tr")).length > 0, 30);
  await page.selectOption("#fill-side", "sell");
  await until("the side filter", async () => {
    const sides = await page.$$eval("#fills-table tbody tr td:nth-child(3)", (tds) => tds.map((t) => t.textContent));
    return sides.every((x) => x === "sell");
  }, 10);
  await page.selectOption("#fill-side", "");
  const by = await page.$$eval("#fills-table tbody tr td:nth-child(9)", (tds) => tds.map((t) => t.textContent));
  if (!by.includes("flatten")) fail("the flatten's fill is not attributed: " + by.join(", "));
  await shot("orders");
  await go("decisions");
  await until("audits", async () => (await page.$$("#audits-table tbody tr")).length > 0, 30);
  const audits = await page.$$eval("#audits-table tbody tr td:nth-child(5)", (tds) => tds.map((t) => t.textContent));
  if (!audits.some((t) => / by [A-Za-z]+ \(level \d+\)/.test(t))) fail("no audit in words: " + audits.slice(0, 3).join(" | "));
  // Each row in the event time of its cause (the core's clock), never blank.
  const times = await page.$$eval("#audits-table tbody tr td:nth-child(1)", (tds) => tds.map((t) => t.textContent));
  if (!times.every((t) => /^\d\d:\d\d:\d\d$/.test(t))) fail("decision times: " + times.slice(0, 5).join(" | "));
  await until("signals", async () => (await page.$$("#signals-table tbody tr")).length > 0, 30);
  // After the kill, strategy entries are held: the reasons are counted.
  await until("entries not taken", async () => (await page.$$("#not-taken-table tbody tr")).length > 0, 60);
  await shot("decisions");

  step("history: the run's trade store, every fill and the decisions, paged");
  await go("store");
  // The live store is a commit (200 ms) behind the core: poll for the fills.
  await until("fills in the store", async () => {
    await page.click("#store-newest");
    return (await page.$$("#store-rows tbody tr")).length >= 2;
  }, 30);
  const cols = await page.$$eval("#store-rows thead th", (ths) => ths.map((t) => t.textContent));
  if (!cols.includes("price") || !cols.includes("fee") || cols.includes("run")) fail("store fill columns: " + cols.join(", "));
  const storeStatus = await page.textContent("#store-status");
  if (!/rows of fills · the store has every input up to \d+/.test(storeStatus)) fail("store status: " + storeStatus);
  await page.selectOption("#store-table", "decisions");
  await until("decisions in the store", async () => {
    const c = await page.$$eval("#store-rows thead th", (ths) => ths.map((t) => t.textContent));
    return c.includes("verdict") && (await page.$$("#store-rows tbody tr")).length > 0;
  }, 30);
  const bad = await page.evaluate(async () => {
    const r = await fetch("/store?table=users", { credentials: "same-origin" });
    return [r.status, (await r.json()).error];
  });
  if (bad[0] !== 400 || !bad[1].includes("not a history table")) fail("a bad table answered " + bad.join(" "));
  await shot("history");

  step("latency per stage");
  await go("latency");
  await until("latency rows", async () => (await page.$$("#latency-table tbody tr")).length > 0, 30);
  await shot("latency");
  await go("overview");
  await shot("overview-after-kill");

  step("a state-changing request without the CSRF token is refused");
  const status = await page.evaluate(async () => (await fetch("/reset", { method: "POST", credentials: "same-origin" })).status);
  if (status !== 403) fail("a POST without the CSRF token answered " + status);

  step("logging out ends the session");
  await page.click("#logout");
  await page.waitForSelector("#token");
  const after = await page.evaluate(async () => (await fetch("/status")).status);
  if (after !== 401) fail("after logout /status answered " + after);
  console.log("ok: every step held; screenshots in " + out);
} finally {
  await browser.close();
}
