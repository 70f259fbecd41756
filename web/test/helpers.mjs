// Shared helpers of the real-browser tests of the local test page: the
// stack's URL, the browser, a page with its WebSocket wire log, and the steps
// a user takes. See page.test.mjs.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { chromium } from "playwright-core";

export const STACK_URL = (process.env.STACK_URL || "").replace(/\/+$/, "");
if (!STACK_URL) {
  throw new Error("STACK_URL is not set: start the stack (make run) and run STACK_URL=http://127.0.0.1:3001 node --test test/");
}
export const WS_URL = STACK_URL.replace(/^http/, "ws") + "/";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// Guards against a hang; never asserted on.
export const WAIT = 30_000; // a connection, a reply
export const UPLOAD_WAIT = 120_000; // a whole five-step upload against the Oracle simulator
export const TEST_TIMEOUT = 240_000;

export const SCREENSHOT = process.env.SCREENSHOT || "/tmp/page.png";
export const BUDGET_STEPS = ["Preparing Data", "Upload to UCM", "Interface Loader", "Budget Import", "Verify Results"];

// Unique per test run, so that transactions and notifications of earlier runs
// against the same long-running stack never match.
export const RUN = randomUUID().slice(0, 8);

let browser;

// useBrowser launches chromium before a test file's tests and closes it after.
export function useBrowser() {
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  after(async () => {
    await browser?.close();
  });
}

// ---------------------------------------------------------------- helpers

// poll waits until fn returns a truthy value and returns it, failing with
// message after timeout. It is for conditions on data recorded in node (the
// CDP wire log); conditions on the page use Playwright's auto-waiting locators.
export async function poll(fn, message, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms: ${message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function header(headers, name) {
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

export function jwtClaims(token) {
  const [, payload] = token.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

// Wire records every WebSocket of one page as the browser saw it.
export class Wire {
  sockets = new Map(); // requestId -> {url, request, response, sent[], received[], errors[], closed}

  static async attach(page) {
    const w = new Wire();
    const cdp = await page.context().newCDPSession(page);
    const sock = (id) => {
      if (!w.sockets.has(id)) w.sockets.set(id, { url: "", request: null, response: null, sent: [], received: [], errors: [], closed: false });
      return w.sockets.get(id);
    };
    const frame = (payload) => { try { return JSON.parse(payload); } catch { return { unparsable: payload }; } };
    cdp.on("Network.webSocketCreated", (e) => { sock(e.requestId).url = e.url; });
    cdp.on("Network.webSocketWillSendHandshakeRequest", (e) => { sock(e.requestId).request = e.request; });
    cdp.on("Network.webSocketHandshakeResponseReceived", (e) => { sock(e.requestId).response = e.response; });
    cdp.on("Network.webSocketFrameSent", (e) => { sock(e.requestId).sent.push(frame(e.response.payloadData)); });
    cdp.on("Network.webSocketFrameReceived", (e) => { sock(e.requestId).received.push(frame(e.response.payloadData)); });
    cdp.on("Network.webSocketFrameError", (e) => { sock(e.requestId).errors.push(e.errorMessage); });
    cdp.on("Network.webSocketClosed", (e) => { sock(e.requestId).closed = true; });
    await cdp.send("Network.enable");
    return w;
  }

  list() { return [...this.sockets.values()]; }
  received() { return this.list().flatMap((s) => s.received); }
  sent() { return this.list().flatMap((s) => s.sent); }
}

// newPage opens a page in a fresh browser context (its own localStorage,
// like another browser profile) that records its WebSockets; the test fails
// if the page throws.
export async function newPage(t, { route } = {}) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  t.after(() => assert.deepEqual(errors.map(String), [], "the page threw"));
  if (route) await page.route(route.url, route.handler);
  const wire = await Wire.attach(page);
  return { page, wire };
}

// openPage opens the test page with newPage.
export async function openPage(t, { route, base = STACK_URL } = {}) {
  const { page, wire } = await newPage(t, { route });
  const resp = await page.goto(base + "/");
  assert.equal(resp.status(), 200, "GET /");
  await page.locator('#state[data-state="closed"]').waitFor({ timeout: WAIT });
  return { page, wire };
}

// connect fills the connection form as a user would and clicks Connect. It
// returns the token the page fetched from /dev/token.
export async function connect(page, user, tokenSource = "protocol") {
  await page.locator("#user-id").fill(user);
  await page.locator("#token-source").selectOption(tokenSource);
  const tokenResponse = page.waitForResponse((r) => r.url().includes("/dev/token?"), { timeout: WAIT });
  await page.locator("#connect").click();
  return (await (await tokenResponse).json()).token;
}

// connected waits until the page says it is open and has caught up: its nth
// connection got connection_established and its resume finished (the last
// resume_complete, with has_more false, after that connection_established).
export async function connected(page, user, n = 1) {
  await page.locator('#state[data-state="open"]').waitFor({ timeout: WAIT });
  assert.equal(await page.locator("#state").textContent(), `connected as ${user}`);
  await page.locator('#log li[data-type="connection_established"]').nth(n - 1).waitFor({ timeout: WAIT });
  await poll(async () => {
    const log = await logEntries(page);
    const at = log.map((e, i) => [e, i]).filter(([e]) => e.type === "connection_established")[n - 1]?.[1];
    return log.slice(at).some((e) => e.type === "resume_complete" && e.msg?.has_more === false);
  }, `connection ${n} of user ${user} finished resuming`);
}

// logEntries is the page's message log, oldest first, each line parsed.
export async function logEntries(page) {
  const lines = await page.locator("#log li").evaluateAll((lis) =>
    lis.map((li) => ({ type: li.dataset.type, replayed: li.classList.contains("replayed"), text: li.textContent })));
  return lines.reverse().map((l) => {
    let msg = null;
    try { msg = JSON.parse(l.text); } catch { /* a plain text line */ }
    return { ...l, msg };
  });
}

// sqsSend sends one message the way upstream systems do (AWS JSON protocol).
export async function sqsSend(queue, body) {
  const res = await fetch(STACK_URL + "/", {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage" },
    body: JSON.stringify({ QueueUrl: `${STACK_URL}/000000000000/${queue}`, MessageBody: JSON.stringify(body) }),
    signal: AbortSignal.timeout(WAIT),
  });
  const out = await res.json();
  assert.equal(res.status, 200, `SendMessage to ${queue}: ${JSON.stringify(out)}`);
  assert.ok(out.MessageId, `SendMessage to ${queue} returned no MessageId: ${JSON.stringify(out)}`);
  return out.MessageId;
}

// sendSample submits the budget transfer sample from the page's form and
// waits until the notification centre's item of the transaction shows an
// outcome, which it returns with that item (the card).
export async function sendSample(page, tx) {
  await page.locator("#transaction-id").fill(tx);
  await page.locator("#kind").selectOption("budget_transfer");
  await page.locator("#submit").click();
  await page.locator("#submit-result", { hasText: /^queued as \S+/ }).waitFor({ timeout: WAIT });
  const card = page.locator(`#center .upload[data-transaction="${tx}"]`);
  const outcome = card.locator(".outcome[data-outcome]");
  await outcome.waitFor({ timeout: UPLOAD_WAIT });
  return { card, outcome: await outcome.getAttribute("data-outcome"), text: await outcome.textContent() };
}

// devSend sends body (an object) to a queue through the stack's POST
// /dev/send, which works whether the queues are the stack's own or on an AWS
// API.
export async function devSend(queue, body) {
  const res = await fetch(STACK_URL + "/dev/send", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ queue, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(WAIT),
  });
  const out = await res.json();
  assert.equal(res.status, 200, `/dev/send to ${queue}: ${JSON.stringify(out)}`);
  return out.MessageId;
}

// sendTransfer queues the budget transfer sample as transaction tx of user.
export async function sendTransfer(user, tx) {
  const res = await fetch(STACK_URL + "/dev/sample?kind=budget_transfer", { signal: AbortSignal.timeout(WAIT) });
  assert.equal(res.status, 200, "/dev/sample");
  const body = await res.json();
  return devSend("workflow", { ...body, transaction_id: tx, user_id: user });
}
