// Unit tests of web/lib/notifications.js, in node with a fake WebSocket,
// clock and window (fakes.mjs): node --test web/test/unit/

import { test } from "node:test";
import assert from "node:assert/strict";
import { NotificationService, RequestError, UNREAD_TYPES, backoffDelay, createMemoryStorage } from "../../lib/notifications.js";
import { harness, catchUp, established, note, flush } from "./fakes.mjs";

test("backoffDelay grows exponentially with full jitter and is capped", () => {
  const cases = [
    { name: "first attempt, top of the jitter", attempt: 0, random: 1, want: 1000 },
    { name: "third attempt, top", attempt: 2, random: 1, want: 4000 },
    { name: "third attempt, a quarter", attempt: 2, random: 0.25, want: 1000 },
    { name: "jitter reaches zero", attempt: 3, random: 0, want: 0 },
    { name: "capped", attempt: 10, random: 1, want: 30_000 },
    { name: "capped, then jittered", attempt: 40, random: 0.5, want: 15_000 },
  ];
  for (const c of cases) {
    assert.equal(backoffDelay(c.attempt, { base: 1000, cap: 30_000, random: () => c.random }), c.want, c.name);
  }
});

test("reconnects after each close with growing, capped, jittered delays", async () => {
  const randoms = [1, 1, 1, 1, 1, 1, 1, 0.5];
  let i = 0;
  const h = harness({ backoffBase: 1000, backoffCap: 10_000, random: () => randoms[i++], pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  await flush();
  const delays = [];
  for (let n = 0; n < 8; n++) {
    h.ws().serverClose(1006, "");
    assert.equal(h.svc.state, "connecting", `after failure ${n + 1}`);
    assert.equal(h.clock.pending().length, 1, "one retry timer");
    const [delay] = h.clock.pending();
    delays.push(delay);
    await h.clock.advance(delay);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 5000]);
  assert.equal(h.sockets.length, 9);
});

test("maxReconnectAttempts: no limit by default, reconnect_failed at a set limit", async () => {
  const cases = [
    { name: "default: never gives up", options: {}, failures: 60, wantFailed: [], wantState: "connecting" },
    { name: "limit 3", options: { maxReconnectAttempts: 3 }, failures: 4, wantFailed: [{ attempts: 3 }], wantState: "closed" },
    { name: "limit 0: the first failure ends it", options: { maxReconnectAttempts: 0 }, failures: 1, wantFailed: [{ attempts: 0 }], wantState: "closed" },
  ];
  for (const c of cases) {
    const h = harness({ pingInterval: 0, maxConnectionAge: 0, backoffCap: 1000, ...c.options });
    h.svc.connect();
    await flush();
    for (let n = 0; n < c.failures; n++) {
      h.ws().serverClose(1006, "");
      await h.clock.advance(1000);
    }
    assert.deepEqual(h.eventsOf("reconnect_failed"), c.wantFailed, c.name);
    assert.equal(h.eventsOf("disconnected").at(-1).willReconnect, c.wantFailed.length === 0, `${c.name}: willReconnect`);
    assert.equal(h.svc.state, c.wantState, c.name);
    assert.equal(h.sockets.length, c.failures + (c.wantFailed.length ? 0 : 1), `${c.name}: sockets opened`);
    await h.clock.advance(3_600_000);
    assert.equal(h.sockets.length, c.failures + (c.wantFailed.length ? 0 : 1), `${c.name}: none after giving up`);
  }
});

test("the backoff starts afresh after a connection caught up", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0, maxReconnectAttempts: 2 });
  h.svc.connect();
  for (let round = 0; round < 3; round++) {
    await catchUp(h);
    h.ws().serverClose();
    assert.deepEqual(h.clock.pending(), [1000], `round ${round}: first delay again`);
    await h.clock.advance(1000);
    h.ws().serverClose(1006);
    assert.deepEqual(h.clock.pending(), [2000], `round ${round}: then it grows`);
    await h.clock.advance(2000);
  }
  assert.deepEqual(h.eventsOf("reconnect_failed"), []);
});

test("getToken is called before every connect and its token is used", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  await catchUp(h);
  for (let n = 0; n < 3; n++) {
    h.ws().serverClose();
    await h.clock.advance(60_000);
    await catchUp(h);
  }
  assert.equal(h.tokenCalls, 4);
  assert.deepEqual(h.sockets.map((ws) => ws.protocols[1]), ["token-1", "token-2", "token-3", "token-4"]);
});

test("a failing getToken is retried with backoff", async () => {
  let calls = 0;
  const h = harness({
    pingInterval: 0, maxConnectionAge: 0,
    getToken: async () => { if (++calls < 3) throw new Error("token service down"); return "good"; },
  });
  h.svc.connect();
  await flush();
  assert.equal(h.sockets.length, 0);
  assert.equal(h.eventsOf("error")[0].message, "token service down");
  await h.clock.advance(1000);
  await h.clock.advance(2000);
  assert.equal(calls, 3);
  assert.deepEqual(h.sockets.map((ws) => ws.protocols), [["bearer", "good"]]);
});

test("the token goes in the subprotocol by default, or in the query", async () => {
  const cases = [
    { name: "protocol (default)", options: {}, wantURL: "wss://example.test/prod", wantProtocols: ["bearer", "a.b+c/d"] },
    { name: "protocol", options: { tokenIn: "protocol" }, wantURL: "wss://example.test/prod", wantProtocols: ["bearer", "a.b+c/d"] },
    { name: "query", options: { tokenIn: "query" }, wantURL: "wss://example.test/prod?token=a.b%2Bc%2Fd", wantProtocols: undefined },
    { name: "query after a query", options: { tokenIn: "query", url: "ws://h:3001/?x=1" }, wantURL: "ws://h:3001/?x=1&token=a.b%2Bc%2Fd", wantProtocols: undefined },
  ];
  for (const c of cases) {
    const h = harness({ getToken: () => "a.b+c/d", ...c.options });
    h.svc.connect();
    await flush();
    assert.equal(h.ws().url, c.wantURL, c.name);
    assert.deepEqual(h.ws().protocols, c.wantProtocols, c.name);
  }
  assert.throws(() => new NotificationService({ url: "ws://h/", token: "t", tokenIn: "header" }), TypeError);
});

test("resume is sent with the last cursor after a reconnect, and the cursor survives in storage per user", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  const first = await catchUp(h, { user: "123" });
  assert.deepEqual(first.sentOf("resume"), [{ type: "resume", after: "", limit: 100 }]);
  first.receive(note("N1", "c1"));
  first.receive(note("N2", "c2"));
  first.serverClose();
  await h.clock.advance(1000);
  const second = await catchUp(h, { user: "123" });
  assert.deepEqual(second.sentOf("resume"), [{ type: "resume", after: "c2", limit: 100 }]);
  assert.equal(h.storage.getItem("fbdi:cursor:123"), "c2");

  // A page opened later by the same user starts from the stored cursor; another user from their own.
  const cases = [
    { name: "same user", user: 123, wantAfter: "c2" },
    { name: "another user", user: "456", wantAfter: "" },
  ];
  for (const c of cases) {
    const later = harness({ storage: h.storage, pingInterval: 0, maxConnectionAge: 0 });
    later.svc.connect();
    await flush();
    later.ws().open();
    later.ws().receive(established(c.user));
    assert.deepEqual(later.ws().sentOf("resume"), [{ type: "resume", after: c.wantAfter, limit: 100 }], c.name);
  }
});

test("duplicates are dropped, live and across a replay", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  const ws = await catchUp(h);
  ws.receive(note("N1", "c1"));
  ws.receive(note("N1", "c1")); // an SQS redelivery
  ws.serverClose();
  await h.clock.advance(1000);
  // The replay repeats N1 (a resume after an id the user no longer has replays from the oldest).
  await catchUp(h, { replay: [note("N1", "c1"), note("N2", "c2")] });
  h.ws().receive(note("N2", "c2"));
  assert.deepEqual(h.eventsOf("notification").map((m) => [m.id, Boolean(m.replayed)]), [["N1", false], ["N2", true]]);
});

test("a live notification during a resume does not move the cursor past unreplayed ones", async () => {
  const cases = [
    {
      name: "live one not replayed: the cursor takes it once the resume completes",
      pages: [[note("N2", "c2")], [note("N3", "c3"), note("N4", "c4")]],
      wantAfter: ["c1", "c2"], wantCursor: "c5",
    },
    {
      name: "live one replayed too: the cursor stays at the replay's end",
      pages: [[note("N2", "c2")], [note("N5", "c5"), note("N6", "c6")]],
      wantAfter: ["c1", "c2"], wantCursor: "c6",
    },
  ];
  for (const c of cases) {
    const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
    h.storage.setItem("fbdi:cursor:123", "c1");
    h.svc.connect();
    await flush();
    const ws = h.ws();
    ws.open();
    ws.receive(established("123"));
    ws.receive(note("N5", "c5")); // live, while the first page is on its way
    for (const [i, page] of c.pages.entries()) {
      for (const m of page) ws.receive({ ...m, replayed: true });
      const last = i === c.pages.length - 1;
      ws.receive({ type: "resume_complete", count: page.length, has_more: !last, cursor: page.at(-1).cursor });
      await flush();
      if (!last) assert.equal(h.svc.cursor, page.at(-1).cursor, `${c.name}: page ${i}`);
    }
    assert.deepEqual(ws.sentOf("resume").map((m) => m.after), c.wantAfter, c.name);
    assert.equal(h.svc.cursor, c.wantCursor, c.name);
    assert.equal(h.storage.getItem("fbdi:cursor:123"), c.wantCursor, c.name);
    assert.deepEqual(h.eventsOf("caughtUp"), [{ replayed: c.pages.flat().length }], c.name);
    assert.equal(new Set(h.eventsOf("notification").map((m) => m.id)).size, h.eventsOf("notification").length,
      `${c.name}: no notification twice`);
  }
});

test("a failed resume reconnects and resumes from the same cursor", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.storage.setItem("fbdi:cursor:123", "c7");
  h.svc.connect();
  await flush();
  const ws = h.ws();
  ws.open();
  ws.receive(established("123"));
  ws.receive(note("N9", "c9")); // live during the resume
  ws.receive({ type: "error", code: "internal_error", message: "internal error" });
  await flush();
  assert.equal(ws.closed?.code, 1000);
  assert.equal(h.eventsOf("error")[0].code, "internal_error");
  await h.clock.advance(1000);
  h.ws().open();
  h.ws().receive(established("123"));
  assert.deepEqual(h.ws().sentOf("resume").map((m) => m.after), ["c7"]);
});

test("a keep-alive ping is sent at the interval while open", async () => {
  const h = harness({ pingInterval: 300_000, maxConnectionAge: 0 });
  h.svc.connect();
  const ws = await catchUp(h);
  await h.clock.advance(299_999);
  assert.deepEqual(ws.sentOf("ping"), []);
  await h.clock.advance(1);
  assert.deepEqual(ws.sentOf("ping"), [{ type: "ping", timestamp: h.clock.time }]);
  ws.receive({ type: "pong", timestamp: h.clock.time });
  await h.clock.advance(300_000);
  assert.equal(ws.sentOf("ping").length, 2);
  ws.serverClose();
  await h.clock.advance(900_000);
  assert.equal(ws.sentOf("ping").length, 2, "no ping on a closed socket");
});

test("the connection is replaced before the 2-hour limit, resuming after its cursor", async () => {
  const h = harness({ pingInterval: 0 }); // maxConnectionAge: the default
  h.svc.connect();
  const ws = await catchUp(h);
  ws.receive(note("N1", "c1"));
  await h.clock.advance(110 * 60_000 - 1);
  assert.equal(ws.closed, null);
  assert.equal(h.sockets.length, 1);
  await h.clock.advance(1);
  assert.deepEqual(ws.closed, { code: 1000, reason: "planned reconnect" });
  assert.equal(h.sockets.length, 2, "the new socket is opened at once");
  assert.equal(h.svc.state, "reconnecting");
  await catchUp(h);
  assert.deepEqual(h.ws().sentOf("resume").map((m) => m.after), ["c1"]);
  assert.equal(h.svc.state, "open");
  assert.deepEqual(h.eventsOf("connected"), [{ reconnected: false }, { reconnected: true }]);
});

test("offline closes the socket and online reconnects at once", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  const ws = await catchUp(h);
  h.win.goOffline();
  assert.deepEqual(ws.closed, { code: 1000, reason: "offline" });
  assert.equal(h.svc.state, "reconnecting");
  assert.deepEqual(h.eventsOf("disconnected").at(-1), { code: 1000, reason: "offline", wasClean: true, willReconnect: true });
  await h.clock.advance(3_600_000);
  assert.equal(h.sockets.length, 1, "no attempt while offline");
  h.win.goOnline();
  await flush();
  assert.equal(h.sockets.length, 2, "reconnected without waiting");
  // The socket may die before the browser says it is offline: no retry timer either.
  h.ws().open();
  h.win.navigator.onLine = false;
  h.ws().serverClose(1006);
  assert.deepEqual(h.clock.pending(), []);
  h.win.goOnline();
  await flush();
  assert.equal(h.sockets.length, 3);
  h.svc.disconnect();
  h.win.goOffline();
  h.win.goOnline();
  await flush();
  assert.equal(h.sockets.length, 3, "a disconnected service ignores the window");
});

test("a page becoming visible reconnects instead of waiting for the backoff", async () => {
  const cases = [
    { name: "visible", visibility: "visible", wantSockets: 2 },
    { name: "hidden", visibility: "hidden", wantSockets: 1 },
  ];
  for (const c of cases) {
    const h = harness({ pingInterval: 0, maxConnectionAge: 0, backoffBase: 60_000, backoffCap: 60_000 });
    h.svc.connect();
    await catchUp(h);
    h.win.setVisibility("hidden");
    h.ws().serverClose(1001);
    assert.deepEqual(h.clock.pending(), [60_000]);
    h.win.setVisibility(c.visibility);
    await flush();
    assert.equal(h.sockets.length, c.wantSockets, c.name);
  }
  // Visible again while the socket is open: nothing happens.
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  await catchUp(h);
  h.win.setVisibility("visible");
  await flush();
  assert.equal(h.sockets.length, 1);
});

test("unreadCount follows the server, live notifications and markRead", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  const ws = await catchUp(h, { unread: 3, replay: [note("R1", "c1")] });
  assert.deepEqual(ws.sentOf("history"), [{ type: "history", limit: 1 }]);
  assert.equal(h.svc.unreadCount, 3, "from the server after the resume; the replayed one is not added");
  ws.receive(note("N1", "c2"));
  ws.receive(note("N1", "c2"));
  ws.receive({ id: "P1", type: "oracle_upload_progress", transaction_id: "602", step: "Upload to UCM", step_number: 2,
    total_steps: 5, status: "processing", cursor: "c3" });
  assert.equal(h.svc.unreadCount, 4, "one new stored notification: a progress step does not count");

  const cases = [
    { name: "some", ids: ["N1"], wantSent: [{ type: "mark_read", ids: ["N1"] }], reply: 3 },
    { name: "all", ids: "all", wantSent: [{ type: "mark_read", all: true }], reply: 0 },
    { name: "none", ids: [], wantSent: [], reply: null },
  ];
  for (const c of cases) {
    const before = ws.sent.length;
    const p = h.svc.markRead(c.ids);
    if (c.reply !== null) ws.receive({ type: "read_state", unread_count: c.reply });
    const got = await p;
    assert.deepEqual(ws.sent.slice(before), c.wantSent, c.name);
    assert.equal(got, h.svc.unreadCount, c.name);
    if (c.reply !== null) assert.equal(got, c.reply, c.name);
  }

  // More than the server's 100 at a time: sent in batches.
  const ids = Array.from({ length: 150 }, (_, i) => `ID${i}`);
  const p = h.svc.markRead(ids);
  ws.receive({ type: "read_state", unread_count: 50 });
  await flush();
  ws.receive({ type: "read_state", unread_count: 0 });
  assert.equal(await p, 0);
  assert.deepEqual(ws.sentOf("mark_read").slice(-2).map((m) => m.ids.length), [100, 50]);
  assert.deepEqual(h.eventsOf("unreadCountChange"), [3, 4, 3, 0, 50, 0]);
});

test("server messages are emitted as the old module's events", async () => {
  const cases = [
    { name: "notification", msg: note("A1", "c1"), want: "notification" },
    { name: "started", msg: { id: "A2", type: "oracle_upload_started", transaction_id: "602", cursor: "c2" }, want: "uploadStarted" },
    { name: "progress", msg: { id: "A3", type: "oracle_upload_progress", transaction_id: "602", cursor: "c3" }, want: "uploadProgress" },
    { name: "completed", msg: { id: "A4", type: "oracle_upload_completed", transaction_id: "602", cursor: "c4" }, want: "uploadCompleted" },
    { name: "failed", msg: { id: "A5", type: "oracle_upload_failed", transaction_id: "602", cursor: "c5" }, want: "uploadFailed" },
    { name: "a push of a type added later", msg: { id: "A6", type: "digest", cursor: "c6" }, want: "unknown" },
    { name: "a reply", msg: { type: "pong", timestamp: 1 }, want: "unknown" },
    { name: "an error reply", msg: { type: "error", code: "unknown_type", message: "unsupported type" }, want: "unknown" },
    { name: "not JSON", msg: "not json", want: "unknown" },
  ];
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  const ws = await catchUp(h);
  assert.deepEqual(h.eventsOf("connectionEstablished").map((m) => m.user_id), ["123"]);
  for (const c of cases) {
    const before = h.events.length;
    ws.receive(c.msg);
    const got = h.events.slice(before).filter(([e]) => e !== "unreadCountChange");
    assert.deepEqual(got, [[c.want, c.msg]], c.name);
  }
});

test("on returns an unsubscriber; off stops a listener; listeners are independent", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  const a = [];
  const b = [];
  const fa = (m) => a.push(m.id);
  const unsubscribeB = h.svc.on("notification", (m) => b.push(m.id));
  h.svc.on("notification", fa);
  h.svc.connect();
  const ws = await catchUp(h);
  ws.receive(note("N1", "c1"));
  h.svc.off("notification", fa);
  ws.receive(note("N2", "c2"));
  unsubscribeB();
  ws.receive(note("N3", "c3"));
  h.svc.off("notification", fa); // again: harmless
  h.svc.off("never-subscribed", fa);
  assert.deepEqual(a, ["N1"]);
  assert.deepEqual(b, ["N1", "N2"]);
});

test("state moves idle, connecting, open, reconnecting, open, closed", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  assert.equal(h.svc.state, "idle");
  h.svc.connect();
  assert.equal(h.svc.state, "connecting");
  await catchUp(h);
  h.ws().serverClose();
  await h.clock.advance(1000);
  await catchUp(h);
  h.svc.disconnect();
  assert.deepEqual(h.eventsOf("stateChange").map((s) => s.state), ["connecting", "open", "reconnecting", "open", "closed"]);
  assert.deepEqual(h.ws().closed, { code: 1000, reason: "client disconnect" });
  assert.deepEqual(h.eventsOf("disconnected").map((d) => d.willReconnect), [true, false]);
  await h.clock.advance(3_600_000);
  assert.equal(h.sockets.length, 2, "no reconnect after disconnect()");
});

test("request matches replies by type, errors to the oldest, and rejects when it cannot be answered", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0, requestTimeout: 10_000, replyTypes: { preferences: "preferences" } });
  await assert.rejects(h.svc.history(), (e) => e instanceof RequestError && e.code === "not_open");
  h.svc.connect();
  const ws = await catchUp(h);

  const status = h.svc.status(602);
  const history = h.svc.history({ before: "c9", limit: 20 });
  const prefs = h.svc.request("preferences");
  assert.deepEqual(ws.sent.slice(-3), [
    { type: "status", transaction_id: "602" },
    { type: "history", before: "c9", limit: 20 },
    { type: "preferences" },
  ]);
  const page = { type: "history", items: [], unread_count: 7, has_more: false };
  ws.receive(page);
  ws.receive({ type: "error", code: "not_found", message: "no such transaction" });
  ws.receive({ type: "preferences", categories: {} });
  assert.deepEqual(await history, page);
  await assert.rejects(status, (e) => e instanceof RequestError && e.code === "not_found" && e.reply.message === "no such transaction");
  assert.deepEqual(await prefs, { type: "preferences", categories: {} });
  assert.equal(h.svc.unreadCount, 7);

  const late = assert.rejects(h.svc.status("603"), (e) => e.code === "timeout");
  await h.clock.advance(10_000);
  await late;
  const cut = assert.rejects(h.svc.status("604"), (e) => e.code === "disconnected");
  ws.serverClose();
  await cut;
  await assert.rejects(h.svc.request("snooze", {}), TypeError);
});

test("send: objects as JSON, strings as they are, nothing when not open", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  assert.equal(h.svc.send({ type: "ping" }), false);
  h.svc.connect();
  const ws = await catchUp(h);
  assert.equal(h.svc.send({ type: "ping", timestamp: 1 }), true);
  assert.equal(h.svc.send('{"type":"ping","timestamp":2}'), true);
  assert.deepEqual(ws.sentOf("ping"), [{ type: "ping", timestamp: 1 }, { type: "ping", timestamp: 2 }]);
});

test("the old module's constructor form and a fixed token still work", async () => {
  const log = [];
  const svc = new NotificationService("wss://example.test/prod", {
    token: "fixed",
    WebSocket: class { constructor(url, protocols) { log.push([url, protocols]); } close() {} },
    window: null,
    storage: createMemoryStorage(),
  });
  svc.connect();
  await flush();
  svc.disconnect();
  assert.deepEqual(log, [["wss://example.test/prod", ["bearer", "fixed"]]]);
  assert.throws(() => new NotificationService({ url: "ws://h/" }), TypeError);
});

test("loading the module sets globalThis.FbdiNotifications", () => {
  assert.equal(globalThis.FbdiNotifications.NotificationService, NotificationService);
});

test("the unread count follows the server's default rule: progress steps do not count, critical ones always do", async () => {
  assert.deepEqual(UNREAD_TYPES, ["notification", "oracle_upload_started", "oracle_upload_completed", "oracle_upload_failed"]);
  const push = (type, extra = {}) => ({ id: `${type}-${JSON.stringify(extra)}`, type, cursor: "c", transaction_id: "602", ...extra });
  const cases = [
    { name: "a general notification", msg: note("G1", "c1"), want: true },
    { name: "a workflow's start", msg: push("oracle_upload_started"), want: true },
    { name: "a progress step", msg: push("oracle_upload_progress", { step_number: 2, status: "processing" }), want: false },
    { name: "a critical progress step", msg: push("oracle_upload_progress", { step_number: 2, critical: true }), want: true },
    { name: "a workflow's end", msg: push("oracle_upload_completed"), want: true },
    { name: "a failure", msg: push("oracle_upload_failed", { critical: true }), want: true },
    { name: "a type the server may add", msg: push("reminder"), want: false },
    { name: "a critical one of such a type", msg: push("reminder", { critical: true }), want: true },
    { name: "not stored (no cursor)", msg: { ...note("G2", ""), cursor: undefined }, want: false },
  ];
  for (const c of cases) {
    const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
    h.svc.connect();
    const ws = await catchUp(h, { unread: 2 });
    assert.equal(h.svc.countsAsUnread(c.msg), c.want, `${c.name}: countsAsUnread`);
    ws.receive(c.msg);
    assert.equal(h.svc.unreadCount, c.want ? 3 : 2, c.name);
    ws.receive({ ...c.msg, id: `${c.msg.id}-again`, replayed: true });
    assert.equal(h.svc.unreadCount, c.want ? 3 : 2, `${c.name}: a replayed one is never added`);
  }
  // The option replaces the rule.
  const h = harness({ pingInterval: 0, maxConnectionAge: 0, countsAsUnread: (m) => m.type === "oracle_upload_progress" });
  assert.equal(h.svc.countsAsUnread(push("oracle_upload_progress")), true);
  assert.equal(h.svc.countsAsUnread(note("G3", "c3")), false);
});

test("history filters, markRead by category, archive and preferences send what the protocol says and resolve with the replies", async () => {
  const h = harness({ pingInterval: 0, maxConnectionAge: 0 });
  h.svc.connect();
  const ws = await catchUp(h, { unread: 5 });
  const prefsReply = { type: "preferences", categories: { general: { in_app: false, email: false } }, defaults: { "*": { in_app: true, email: false } } };
  const cases = [
    { name: "history, every filter", call: () => h.svc.history({ before: "c9", limit: 20, category: "fbdi", unreadOnly: true }),
      wantSent: [{ type: "history", before: "c9", limit: 20, category: "fbdi", unread_only: true }],
      replies: [{ type: "history", items: [], unread_count: 5, has_more: true, cursor: "c4" }],
      want: { type: "history", items: [], unread_count: 5, has_more: true, cursor: "c4" } },
    { name: "history, unreadOnly false is left out", call: () => h.svc.history({ unreadOnly: false, category: "" }),
      wantSent: [{ type: "history" }], replies: [{ type: "history", items: [], unread_count: 5, has_more: false }],
      want: { type: "history", items: [], unread_count: 5, has_more: false } },
    { name: "markRead of a category", call: () => h.svc.markRead({ category: "general" }),
      wantSent: [{ type: "mark_read", category: "general" }], replies: [{ type: "read_state", unread_count: 3 }], want: 3 },
    { name: "archive", call: () => h.svc.archive(["A1", "A2"]),
      wantSent: [{ type: "archive", ids: ["A1", "A2"] }], replies: [{ type: "read_state", unread_count: 2 }], want: 2 },
    { name: "archive, 100 at a time", call: () => h.svc.archive(Array.from({ length: 101 }, (_, i) => `B${i}`)),
      wantSent: [{ type: "archive", ids: Array.from({ length: 100 }, (_, i) => `B${i}`) }, { type: "archive", ids: ["B100"] }],
      replies: [{ type: "read_state", unread_count: 1 }, { type: "read_state", unread_count: 1 }], want: 1 },
    { name: "archive of none", call: () => h.svc.archive([]), wantSent: [], replies: [], want: 1 },
    { name: "preferences", call: () => h.svc.preferences(), wantSent: [{ type: "preferences" }], replies: [prefsReply], want: prefsReply },
    { name: "setPreferences", call: () => h.svc.setPreferences({ general: { in_app: false } }),
      wantSent: [{ type: "set_preferences", categories: { general: { in_app: false } } }], replies: [prefsReply], want: prefsReply },
  ];
  for (const c of cases) {
    const before = ws.sent.length;
    const p = c.call();
    for (const r of c.replies) {
      await flush();
      ws.receive(r);
    }
    assert.deepEqual(await p, c.want, c.name);
    assert.deepEqual(ws.sent.slice(before), c.wantSent, c.name);
  }
  assert.equal(h.svc.unreadCount, 1, "archive's read_state sets the count");
  const refused = h.svc.setPreferences({ general: { email: "yes" } });
  ws.receive({ type: "error", code: "invalid_request", message: "email must be true or false" });
  await assert.rejects(refused, (e) => e instanceof RequestError && e.code === "invalid_request");
});
