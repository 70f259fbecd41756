// Real-browser tests of the local test page (web/index.html + web/app.js),
// driven as a user would drive it: Debian's chromium through playwright-core.
//
// The stack must already be running; STACK_URL names it, e.g.
//
//	STACK_URL=http://127.0.0.1:3001 node --test test/
//
// infra/local/browser_test.go starts a fresh stack and runs this file.
//
// What goes over the wire is read from the browser itself through a CDP
// session (Network.webSocket* events): the handshake request and response
// headers, the status code, and every frame sent and received. Every wait is
// an auto-waiting locator or a bounded poll; the timeouts only guard against
// a hang and are never asserted on.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  RUN, STACK_URL, TEST_TIMEOUT, WAIT, WS_URL, connect, connected, header, jwtClaims, logEntries, openPage, poll, sendSample, sqsSend, useBrowser,
} from "./helpers.mjs";

useBrowser();

// ------------------------------------------------------------------ tests

test("the page loads and connects as user 123 with the token in Sec-WebSocket-Protocol (bearer, token)", { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, wire } = await openPage(t);
  assert.equal(await page.locator("h1").textContent(), "FBDI notifications");
  assert.equal(await page.locator("#ping").isDisabled(), true, "ping is disabled before connecting");

  const token = await connect(page, "123");
  await connected(page, "123");

  // The handshake on the wire: the token as the subprotocol, echoed back.
  const [ws, ...others] = wire.list();
  assert.equal(others.length, 0, "one WebSocket");
  assert.equal(ws.url, WS_URL, "no token in the URL");
  assert.equal(jwtClaims(token).user_id, "123");
  assert.equal(header(ws.request.headers, "Sec-WebSocket-Protocol"), `bearer, ${token}`);
  assert.equal(ws.response.status, 101);
  assert.equal(header(ws.response.headers, "Sec-WebSocket-Protocol"), "bearer", "bearer is echoed back, never the token");

  // connection_established, shown in the log, names this user and connection.
  const established = (await logEntries(page)).filter((e) => e.type === "connection_established");
  assert.equal(established.length, 1);
  const m = established[0].msg;
  assert.equal(m.user_id, "123");
  assert.ok(m.connection_id, "connection_id");
  assert.ok(m.message, "message");
  assert.ok(m.id && m.timestamp, "id and timestamp");
  assert.ok(!Number.isNaN(Date.parse(m.timestamp)), `timestamp ${m.timestamp} is RFC 3339`);

  // The page resumed after connecting (nothing seen yet on this profile).
  const resume = wire.sent().find((f) => f.type === "resume");
  assert.deepEqual(resume, { type: "resume", after: "", limit: 100 });
  assert.equal(await page.locator("#ping").isEnabled(), true, "ping is enabled once open");
});

test("ping shows a pong with the same timestamp", { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, wire } = await openPage(t);
  await connect(page, "123");
  await connected(page, "123");

  await page.locator("#ping").click();
  const pong = page.locator('#log li[data-type="pong"]');
  await pong.waitFor({ timeout: WAIT });
  const ping = wire.sent().find((f) => f.type === "ping");
  assert.ok(ping, "a ping frame went out");
  assert.equal(typeof ping.timestamp, "number");
  assert.deepEqual(JSON.parse(await pong.textContent()), { type: "pong", timestamp: ping.timestamp });
});

test("a second page as user 456 receives none of user 123's upload messages", { timeout: TEST_TIMEOUT }, async (t) => {
  const alice = await openPage(t);
  const bob = await openPage(t);
  await connect(alice.page, "123");
  await connect(bob.page, "456");
  await connected(alice.page, "123");
  await connected(bob.page, "456");
  const bobEstablished = (await logEntries(bob.page)).find((e) => e.type === "connection_established");
  assert.equal(bobEstablished.msg.user_id, "456");

  const tx = `bt-${RUN}-4`;
  const { outcome, text } = await sendSample(alice.page, tx);
  assert.equal(outcome, "completed", `outcome: ${text}`);

  // Bob's own pong is the synchronisation point: it comes after anything
  // that could have been posted to him during Alice's upload.
  await bob.page.locator("#ping").click();
  await bob.page.locator('#log li[data-type="pong"]').waitFor({ timeout: WAIT });
  const bobLog = await logEntries(bob.page);
  assert.deepEqual(bobLog.filter((e) => e.type.startsWith("oracle_upload_")), [], "user 456 saw upload messages");
  assert.equal(await bob.page.locator("#center .upload").count(), 0, "user 456 has no upload in the notification centre");
  const leaked = bob.wire.received().filter((f) => JSON.stringify(f).includes(tx));
  assert.deepEqual(leaked, [], "user 456 received frames about user 123's transaction");
  assert.equal(await bob.page.locator('#state[data-state="open"]').count(), 1, "user 456 is still connected");
});

test("reconnect resumes: a notification sent while disconnected shows once, marked replayed", { timeout: TEST_TIMEOUT }, async (t) => {
  const isNote = (message) => (e) => e.type === "notification" && e.msg?.message === message && e.msg?.data?.run === RUN;
  const data = { run: RUN };
  const away = await openPage(t);
  await connect(away.page, "123");
  await connected(away.page, "123");
  // One notification seen live, so that the tab has a last id to resume after.
  await sqsSend("notifications", { user_id: "123", type: "notification", message: "before leaving", data });
  const before = await poll(async () => (await logEntries(away.page)).find(isNote("before leaving")), "the tab got a notification live");
  assert.equal(before.replayed, false);
  await away.page.locator("#disconnect").click();
  await away.page.locator('#state[data-state="closed"]').waitFor({ timeout: WAIT });
  await poll(() => away.wire.list().every((s) => s.closed), "the WebSocket closed");

  // Another tab of the same user stays connected: it receiving the
  // notification live proves the notification is stored (stored, then posted).
  const other = await openPage(t);
  await connect(other.page, "123");
  await connected(other.page, "123");

  await sqsSend("notifications", { user_id: "123", type: "notification", message: "while away", data });
  const isIt = isNote("while away");
  const live = await poll(async () => (await logEntries(other.page)).find(isIt), "the other tab got the notification live");
  assert.equal(live.replayed, false, "live, not replayed, in the connected tab");
  assert.ok(live.msg.id, "the notification has an id");

  // The disconnected tab saw nothing; now it connects again.
  assert.equal((await logEntries(away.page)).filter(isIt).length, 0);
  await away.page.locator("#connect").click();
  await connected(away.page, "123", 2);

  const seen = (await logEntries(away.page)).filter(isIt);
  assert.equal(seen.length, 1, `"while away" shows exactly once: ${JSON.stringify(seen)}`);
  assert.equal(seen[0].replayed, true, "marked replayed");
  assert.equal(seen[0].msg.replayed, true);
  assert.equal(seen[0].msg.id, live.msg.id, "the same notification");
  const replayedLi = away.page.locator("#log li.replayed").filter({ hasText: '"message":"while away"' }).filter({ hasText: RUN });
  assert.equal(await replayedLi.count(), 1, "one li.replayed");

  // The second resume asked only for what came after the last id seen.
  const sockets = away.wire.list();
  assert.equal(sockets.length, 2, "two connections");
  const resumes = sockets[1].sent.filter((f) => f.type === "resume");
  assert.equal(resumes.length, 1, "one resume page");
  assert.equal(resumes[0].after, before.msg.cursor, "the second connection resumes after the cursor of the last notification seen");
  assert.notEqual(resumes[0].after, live.msg.cursor);
  const completes = sockets[1].received.filter((f) => f.type === "resume_complete");
  assert.deepEqual(completes, [{ type: "resume_complete", count: 1, has_more: false, cursor: live.msg.cursor }],
    "the reconnect replayed only the missed notification");
});

test("the ?token= query option also connects", { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, wire } = await openPage(t);
  const token = await connect(page, "123", "query");
  await connected(page, "123");
  const [ws, ...others] = wire.list();
  assert.equal(others.length, 0, "one WebSocket");
  assert.equal(new URL(ws.url).searchParams.get("token"), token);
  assert.equal(header(ws.request.headers, "Sec-WebSocket-Protocol"), undefined, "no subprotocol");
  assert.equal(ws.response.status, 101);
  const m = (await logEntries(page)).find((e) => e.type === "connection_established").msg;
  assert.equal(m.user_id, "123");
});

test("a bad token is refused: the WebSocket fails and the page is not open", { timeout: TEST_TIMEOUT }, async (t) => {
  const route = {
    url: (u) => u.pathname === "/dev/token",
    handler: (r) => r.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ token: "not-a-jwt" }) }),
  };
  const { page, wire } = await openPage(t, { route });
  const token = await connect(page, "123");
  assert.equal(token, "not-a-jwt");

  // The page reacts to the refused handshake by backing off to reconnect.
  await page.locator('#state[data-state="connecting"]', { hasText: /^reconnecting/ }).waitFor({ timeout: WAIT });
  const [ws] = wire.list();
  assert.equal(header(ws.request.headers, "Sec-WebSocket-Protocol"), "bearer, not-a-jwt");
  await poll(() => ws.response || ws.errors.length, "the handshake ended");
  // Chromium reports a 401 to a WebSocket handshake as an authentication
  // failure rather than as a response (it has no credentials to retry with).
  if (ws.response) assert.equal(ws.response.status, 401, "the server answers 401");
  else assert.match(ws.errors.join(" "), /HTTP Authentication failed/, "the handshake failed with 401");
  assert.equal(ws.received.length, 0, "no frame received");
  assert.ok(wire.list().every((s) => s.response?.status !== 101), "no handshake succeeded");
  assert.equal((await logEntries(page)).filter((e) => e.type === "connection_established").length, 0);
  assert.notEqual(await page.locator("#state").getAttribute("data-state"), "open");
  assert.equal(await page.locator("#ping").isDisabled(), true);
});

test("a connection closed by the server reconnects by itself and resumes after the last cursor seen", { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, wire } = await openPage(t);
  await connect(page, "123");
  await connected(page, "123");
  await sqsSend("notifications", { user_id: "123", type: "notification", message: "before the cut", data: { run: RUN } });
  const seen = await poll(async () => (await logEntries(page))
    .find((e) => e.msg?.message === "before the cut" && e.msg?.data?.run === RUN), "the page got the notification live");

  // The backend drops the connection, as API Gateway does at its idle or
  // two-hour limit, through the management API.
  const first = (await logEntries(page)).find((e) => e.type === "connection_established").msg.connection_id;
  const res = await fetch(`${STACK_URL}/@connections/${encodeURIComponent(first)}`, { method: "DELETE", signal: AbortSignal.timeout(WAIT) });
  assert.equal(res.status, 204, "DELETE @connections");

  // A second WebSocket exists only once the page has handled the close.
  await poll(() => wire.list().length === 2, "the page opened a new WebSocket");
  await connected(page, "123", 2);
  const established = (await logEntries(page)).filter((e) => e.type === "connection_established").map((e) => e.msg);
  assert.equal(established.length, 2);
  assert.notEqual(established[1].connection_id, first, "a new connection");
  const sockets = wire.list();
  assert.equal(sockets.length, 2, "one reconnection");
  const resume = sockets[1].sent.find((f) => f.type === "resume");
  assert.equal(resume?.after, seen.msg.cursor, "resumed after the cursor of the last notification seen");
  assert.equal(await page.locator("#disconnect").isEnabled(), true);
});

test("resume pages through more than 100 missed notifications without losing any to a live one", { timeout: TEST_TIMEOUT }, async (t) => {
  // A user of this run only, so that the counts are exact.
  const user = `pager-${RUN}`;
  const BULK = 105; // more than the page's resume limit of 100
  const isBulk = (e) => e.type === "notification" && e.msg?.message === "missed" && e.msg?.data?.run === RUN;
  const isLive = (e) => e.type === "notification" && e.msg?.message === "live during resume" && e.msg?.data?.run === RUN;

  // A watcher tab proves the notifications are stored before the page connects.
  const watcher = await openPage(t);
  await connect(watcher.page, user);
  await connected(watcher.page, user);
  for (let i = 0; i < BULK; i += 15) {
    await Promise.all(Array.from({ length: Math.min(15, BULK - i) }, (_, j) =>
      sqsSend("notifications", { user_id: user, type: "notification", message: "missed", data: { run: RUN, n: i + j } })));
  }
  await poll(async () => (await logEntries(watcher.page)).filter(isBulk).length === BULK, `the watcher got ${BULK} notifications`);

  // The page under test: its first resume page ends with has_more; a live
  // notification reaches it before that resume_complete does (held back here
  // until the live one has been delivered), as can happen on a busy stream.
  const { page } = await openPage(t);
  let held = null;
  let liveSent = false;
  await page.routeWebSocket((u) => u.href.startsWith(WS_URL), (ws) => {
    const server = ws.connectToServer();
    server.onMessage((raw) => {
      let msg = {};
      try { msg = JSON.parse(raw); } catch { /* forwarded as is */ }
      if (msg.type === "resume_complete" && msg.has_more && !liveSent) {
        held = raw;
        liveSent = true;
        sqsSend("notifications", { user_id: user, type: "notification", message: "live during resume", data: { run: RUN } })
          .catch((e) => { ws.send(JSON.stringify({ type: "test-error", message: String(e) })); });
        return;
      }
      ws.send(raw);
      if (held && msg.type === "notification" && msg.message === "live during resume" && !msg.replayed) {
        ws.send(held);
        held = null;
      }
    });
  });
  await connect(page, user, "query");
  await page.locator('#state[data-state="open"]').waitFor({ timeout: WAIT });
  await poll(async () => {
    const log = await logEntries(page);
    const last = log.filter((e) => e.type === "resume_complete").at(-1);
    return log.some(isLive) && last && !last.msg.has_more;
  }, "the page finished resuming after the live notification");

  assert.ok(liveSent, "the first resume page said has_more, and the live notification was sent during the resume");
  const log = await logEntries(page);
  assert.equal(log.filter((e) => e.type === "test-error").length, 0, JSON.stringify(log.filter((e) => e.type === "test-error")));
  const bulk = log.filter(isBulk);
  const missing = Array.from({ length: BULK }, (_, n) => n).filter((n) => !bulk.some((e) => e.msg.data.n === n));
  assert.deepEqual(missing, [], "every missed notification is shown");
  assert.equal(bulk.length, BULK, "each exactly once");
  assert.ok(bulk.every((e) => e.replayed), "all marked replayed");
  assert.equal(log.filter(isLive).length, 1, "the live one exactly once");
});

test("the unread badge counts live notifications; Mark all read and History agree with the server", { timeout: TEST_TIMEOUT }, async (t) => {
  const user = `reader-${RUN}`;
  const { page } = await openPage(t);
  await connect(page, user);
  await connected(page, user);
  const unread = page.locator("#unread");
  await page.locator('#log li[data-type="history"]').waitFor({ timeout: WAIT }); // the count after resuming
  assert.equal(await unread.textContent(), "0", "a new user has nothing unread");

  for (const [i, message] of ["first", "second"].entries()) {
    await sqsSend("notifications", { user_id: user, type: "notification", message, data: { run: RUN } });
    await page.locator("#log li", { hasText: `"message":"${message}"` }).waitFor({ timeout: WAIT });
    await page.locator("#unread", { hasText: new RegExp(`^${i + 1}$`) }).waitFor({ timeout: WAIT });
  }

  // The server agrees with the badge.
  await page.locator("#history").click();
  const history = page.locator('#log li[data-type="history"]').first(); // newest first
  await page.locator('#log li[data-type="history"]').nth(1).waitFor({ timeout: WAIT });
  const reply = JSON.parse(await history.textContent());
  assert.equal(reply.unread_count, 2);
  assert.deepEqual(reply.items.map((it) => [it.message, it.read]), [["second", false], ["first", false]], "newest first, unread");
  assert.equal(await unread.textContent(), "2");

  await page.locator("#mark-all").click();
  await page.locator('#log li[data-type="read_state"]').waitFor({ timeout: WAIT });
  assert.deepEqual(JSON.parse(await page.locator('#log li[data-type="read_state"]').textContent()), { type: "read_state", unread_count: 0 });
  assert.equal(await unread.textContent(), "0");
  await page.locator("#history").click();
  await page.locator('#log li[data-type="history"]').nth(2).waitFor({ timeout: WAIT });
  const after = JSON.parse(await page.locator('#log li[data-type="history"]').first().textContent());
  assert.deepEqual(after.items.map((it) => [it.message, it.read]), [["second", true], ["first", true]], "read after Mark all read");
  assert.equal(after.unread_count, 0);
});
