// The local test page, built on the browser library: a NotificationService
// (/lib/notifications.js) for the connection, with its reconnects, resume
// after the last cursor and duplicate dropping (docs/protocol.md#order-and-replay),
// and <fbdi-notification-center> (/lib/notification-center.js) for the unread
// count, the notifications and each upload's five steps. The page adds the
// controls a tester wants (connect as any user, the token's place, ping,
// history, mark all read, status, send a sample to the workflow queue), a
// log of every message received and, when the stack serves GET /dev/mail, the
// e-mails it sent. The inbox filters and the preferences are the element's.

import { NotificationService } from "/lib/notifications.js";
import "/lib/notification-center.js";

const $ = (id) => document.getElementById(id);

let service = null;
let user = "";

function wsURL() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/`;
}

async function fetchToken(userId) {
  const r = await fetch(`/dev/token?user_id=${encodeURIComponent(userId)}`);
  if (!r.ok) throw new Error(`token: HTTP ${r.status}`);
  return (await r.json()).token;
}

// setState shows the connection state: data-state is "open", "connecting"
// (also while reconnecting) or "closed".
function setState(s, text) {
  $("state").dataset.state = s;
  $("state").textContent = text || s;
  const open = s === "open";
  for (const id of ["ping", "history", "mark-all", "status"]) $(id).disabled = !open;
  const active = Boolean(service) && !["idle", "closed"].includes(service.state);
  $("disconnect").disabled = !active;
  $("connect").disabled = active;
}

function log(msg, cls) {
  const li = document.createElement("li");
  li.textContent = typeof msg === "string" ? msg : JSON.stringify(msg);
  if (cls) li.className = cls;
  li.dataset.type = (typeof msg === "object" && msg?.type) || "";
  $("log").prepend(li);
}

function connect() {
  const u = $("user-id").value.trim();
  if (!u) return;
  if (service) service.disconnect();
  user = u;
  service = new NotificationService({ url: wsURL(), tokenIn: $("token-source").value, getToken: () => fetchToken(user) });
  service.on("message", (msg) => log(msg, msg.replayed ? "replayed" : ""));
  service.on("unknown", (raw) => { if (typeof raw === "string") log(`unparsable: ${raw}`); });
  service.on("error", (err) => { if (!(err instanceof Event)) log(String(err)); });
  service.on("unreadCountChange", (n) => { $("unread").textContent = n; });
  service.on("notification", () => { if (!$("mail-panel").hidden) loadMail(); });
  service.on("stateChange", ({ state }) => {
    if (state === "open") setState("open", `connected as ${user}`);
    else if (state === "connecting" || state === "reconnecting") setState("connecting", state);
    else setState("closed", "disconnected");
  });
  service.on("disconnected", ({ code, willReconnect }) => {
    if (willReconnect) setState("connecting", `reconnecting (close ${code ?? "?"})`);
  });
  $("unread").textContent = "0";
  $("center").service = service;
  service.connect();
}

// request sends a request through the service; its reply shows in the log
// like every message, and a failure too.
function request(p) {
  p.catch((e) => log(`${e.code || "error"}: ${e.message}`));
}

async function submitSample(ev) {
  ev.preventDefault();
  const kind = $("kind").value;
  const r = await fetch(`/dev/sample?kind=${encodeURIComponent(kind)}`);
  const body = await r.json();
  body.transaction_id = $("transaction-id").value.trim();
  body.user_id = user || $("user-id").value.trim();
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

// loadMail lists the e-mails the stack has sent, when it serves GET
// /dev/mail (a JSON list); otherwise the Mail panel stays hidden.
async function loadMail() {
  let mails;
  try {
    const r = await fetch("/dev/mail");
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    mails = await r.json();
    if (!Array.isArray(mails)) throw new Error("not a list");
  } catch {
    $("mail-panel").hidden = true;
    return;
  }
  $("mail-panel").hidden = false;
  $("mail").textContent = "";
  for (const m of mails) {
    const li = document.createElement("li");
    const to = m.to ?? m.To ?? "";
    const subject = m.subject ?? m.Subject ?? "";
    li.textContent = to || subject ? `${Array.isArray(to) ? to.join(", ") : to}: ${subject}` : JSON.stringify(m);
    li.title = JSON.stringify(m);
    $("mail").prepend(li);
  }
}

$("connect-form").addEventListener("submit", (ev) => { ev.preventDefault(); connect(); });
$("disconnect").addEventListener("click", () => { service?.disconnect(); setState("closed", "disconnected"); });
$("ping").addEventListener("click", () => request(service.request("ping", { timestamp: Date.now() })));
$("history").addEventListener("click", () => request($("center").feed.history({ limit: 50 })));
$("mark-all").addEventListener("click", () => request($("center").feed.markRead("all")));
$("status").addEventListener("click", () => request($("center").feed.status($("transaction-id").value.trim())));
$("submit-form").addEventListener("submit", (ev) => submitSample(ev).catch((e) => log(String(e))));
$("mail-refresh").addEventListener("click", () => loadMail());
setState("closed", "disconnected");
loadMail();
