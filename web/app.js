// Browser client for the local test page. It speaks the same protocol as the
// finance web app's client: a token on connect, {"type":"ping"}, and the
// server messages of docs/protocol.md#server-to-client. It also shows what a best-practice
// client does: reconnect with backoff, resume after the cursor of the last
// notification it saw (docs/protocol.md#order-and-replay), and drop
// duplicates by id.

const $ = (id) => document.getElementById(id);
const TOTAL_STEPS = 5;

const state = {
  ws: null,
  userId: "",
  token: "",
  wantOpen: false,
  retry: 0,
  seen: new Set(),
  uploads: new Map(),
  // While a resume is in progress, live notifications must not move the
  // resume cursor past notifications that are still to be replayed.
  catchingUp: false,
  liveCursor: "", // of the last live notification received while catching up
  liveID: "",
  replayedIDs: new Set(), // replayed by the current resume
};

function wsURL() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/`;
}

function cursorKey() { return `fbdi:cursor:${state.userId}`; }

// The resume cursor: every notification stored up to it has been seen.
// Cursors are opaque: the page only stores the one it last received.
function lastCursor() { return localStorage.getItem(cursorKey()) || ""; }
function setCursor(c) { if (c) localStorage.setItem(cursorKey(), c); }

function setState(s, text) {
  $("state").dataset.state = s;
  $("state").textContent = text || s;
  const open = s === "open";
  for (const id of ["ping", "history", "mark-all", "status", "disconnect"]) $(id).disabled = !open && id !== "disconnect";
  $("disconnect").disabled = !state.wantOpen;
  $("connect").disabled = state.wantOpen;
}

function log(msg, cls) {
  const li = document.createElement("li");
  li.textContent = typeof msg === "string" ? msg : JSON.stringify(msg);
  if (cls) li.className = cls;
  li.dataset.type = msg.type || "";
  $("log").prepend(li);
}

async function fetchToken(userId) {
  const r = await fetch(`/dev/token?user_id=${encodeURIComponent(userId)}`);
  if (!r.ok) throw new Error(`token: HTTP ${r.status}`);
  return (await r.json()).token;
}

async function connect() {
  state.userId = $("user-id").value.trim();
  if (!state.userId) return;
  state.wantOpen = true;
  state.token = await fetchToken(state.userId);
  open();
}

function open() {
  state.catchingUp = true;
  state.liveCursor = "";
  state.liveID = "";
  state.replayedIDs = new Set();
  setState("connecting");
  const viaQuery = $("token-source").value === "query";
  const ws = viaQuery
    ? new WebSocket(`${wsURL()}?token=${encodeURIComponent(state.token)}`)
    : new WebSocket(wsURL(), [state.token]);
  state.ws = ws;
  ws.onopen = () => { state.retry = 0; setState("open", `connected as ${state.userId}`); };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { log(`unparsable: ${ev.data}`); return; }
    handle(msg);
  };
  ws.onclose = (ev) => {
    state.ws = null;
    if (!state.wantOpen) { setState("closed", "disconnected"); return; }
    const delay = Math.min(30000, 500 * 2 ** state.retry++) * (0.5 + Math.random() / 2);
    setState("connecting", `reconnecting (close ${ev.code})`);
    // A fresh token for every attempt: the old one may have expired.
    setTimeout(() => {
      if (!state.wantOpen) return;
      fetchToken(state.userId).then((t) => { state.token = t; }).catch(() => {}).finally(() => { if (state.wantOpen) open(); });
    }, delay);
  };
}

function send(obj) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(obj));
}

// remember moves the resume cursor and reports whether msg is new. Replayed
// notifications come in the order they were stored, so each one moves the
// cursor (a duplicate too: a page of duplicates must not be asked for again).
// A live one moves it only once the page has caught up; one that arrives
// during a resume is applied when the resume completes, and only if that
// resume did not replay it (then the cursor is already past it), else the
// next resume page would start after it and skip what was still to be
// replayed.
function remember(msg) {
  if (!msg.id) return true;
  if (msg.cursor) {
    if (msg.replayed) state.replayedIDs.add(msg.id);
    if (msg.replayed || !state.catchingUp) setCursor(msg.cursor);
    else { state.liveCursor = msg.cursor; state.liveID = msg.id; }
  }
  if (state.seen.has(msg.id)) return false;
  state.seen.add(msg.id);
  return true;
}

function handle(msg) {
  if (!remember(msg)) return; // a duplicate: SQS and resume are at-least-once
  log(msg, msg.replayed ? "replayed" : "");
  // A new live notification is stored unread (connection_established is not
  // stored); replayed ones are already counted by the history reply that
  // follows the resume.
  if (msg.id && !msg.replayed && msg.type !== "connection_established") {
    $("unread").textContent = Number($("unread").textContent) + 1;
  }
  switch (msg.type) {
    case "connection_established":
      send({ type: "resume", after: lastCursor(), limit: 100 });
      break;
    case "resume_complete":
      setCursor(msg.cursor);
      if (msg.has_more) {
        send({ type: "resume", after: lastCursor(), limit: 100 });
        break;
      }
      state.catchingUp = false;
      if (state.liveCursor && !state.replayedIDs.has(state.liveID)) setCursor(state.liveCursor);
      state.liveCursor = "";
      state.replayedIDs = new Set();
      send({ type: "history", limit: 1 });
      break;
    case "history":
    case "read_state":
      $("unread").textContent = msg.unread_count;
      break;
    case "oracle_upload_started":
    case "oracle_upload_progress":
    case "oracle_upload_completed":
    case "oracle_upload_failed":
      upload(msg);
      break;
    case "workflow_status":
      status(msg);
      break;
  }
}

function uploadCard(txId) {
  let u = state.uploads.get(txId);
  if (u) return u;
  if (state.uploads.size === 0) $("uploads").textContent = "";
  const el = document.createElement("div");
  el.className = "upload";
  el.dataset.transaction = txId;
  el.innerHTML = `<h3></h3><ol></ol><div class="outcome"></div>`;
  el.querySelector("h3").textContent = `Transaction ${txId}`;
  const ol = el.querySelector("ol");
  for (let i = 1; i <= TOTAL_STEPS; i++) {
    const li = document.createElement("li");
    li.dataset.step = i;
    li.dataset.status = "pending";
    li.textContent = `step ${i}`;
    ol.append(li);
  }
  $("uploads").prepend(el);
  u = { el };
  state.uploads.set(txId, u);
  return u;
}

function setStep(el, n, name, status, message) {
  const li = el.querySelector(`li[data-step="${n}"]`);
  if (!li) return;
  li.dataset.status = status;
  li.textContent = `${name} — ${status}${message ? `: ${message}` : ""}`;
}

function upload(msg) {
  const { el } = uploadCard(msg.transaction_id);
  const out = el.querySelector(".outcome");
  if (msg.type === "oracle_upload_progress") setStep(el, msg.step_number, msg.step, msg.status, msg.message);
  if (msg.type === "oracle_upload_completed") { out.dataset.outcome = "completed"; out.textContent = msg.message; }
  if (msg.type === "oracle_upload_failed") { out.dataset.outcome = "failed"; out.textContent = `${msg.message}\n${msg.error || ""}`; }
}

function status(msg) {
  const { el } = uploadCard(msg.transaction_id);
  for (const s of msg.steps || []) setStep(el, s.step_number, s.step, s.status, s.message);
}

async function submitSample(ev) {
  ev.preventDefault();
  const kind = $("kind").value;
  const r = await fetch(`/dev/sample?kind=${encodeURIComponent(kind)}`);
  const body = await r.json();
  body.transaction_id = $("transaction-id").value.trim();
  body.user_id = state.userId || $("user-id").value.trim();
  // On the stack's own queues: sent the way upstream systems send, SendMessage
  // in the AWS JSON protocol, to this origin (whatever name the page was opened
  // under). On an AWS API (AWS_ENDPOINT_URL), which a browser cannot call
  // unsigned: through the stack's /dev/send, which sends with the AWS SDK.
  const queues = await (await fetch("/dev/queues")).json();
  const message = JSON.stringify(body);
  const res = queues.local
    ? await fetch("/", {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage" },
        body: JSON.stringify({ QueueUrl: location.origin + new URL(queues.workflow).pathname, MessageBody: message }),
      })
    : await fetch("/dev/send", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ queue: "workflow", body: message }),
      });
  const out = await res.json();
  $("submit-result").textContent = res.ok ? `queued as ${out.MessageId}` : `error: ${out.message}`;
}

$("connect-form").addEventListener("submit", (ev) => { ev.preventDefault(); connect().catch((e) => log(String(e))); });
$("disconnect").addEventListener("click", () => { state.wantOpen = false; if (state.ws) state.ws.close(1000); setState("closed", "disconnected"); });
$("ping").addEventListener("click", () => send({ type: "ping", timestamp: Date.now() }));
$("history").addEventListener("click", () => send({ type: "history", limit: 50 }));
$("mark-all").addEventListener("click", () => send({ type: "mark_read", all: true }));
$("status").addEventListener("click", () => send({ type: "status", transaction_id: $("transaction-id").value.trim() }));
$("submit-form").addEventListener("submit", (ev) => submitSample(ev).catch((e) => log(String(e))));
setState("closed", "disconnected");
