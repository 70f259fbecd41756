// Real-browser tests of the drop-in clients: the plain JavaScript, React and
// Vue examples (web/examples/), each built on notifications.js and showing
// <fbdi-notification-center>. Run like page.test.mjs (STACK_URL names a
// running stack; infra/local/browser_test.go starts one).
//
// Transfers are queued the way upstream systems queue them (through the
// stack's /dev/send); what a page shows is read from the element's shadow DOM
// (Playwright's CSS locators pierce open shadow roots), from the framework's
// own rendering, and from the page's NotificationFeed (window.example.feed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import {
  BUDGET_STEPS, RUN, STACK_URL, TEST_TIMEOUT, UPLOAD_WAIT, WAIT, devSend, newPage, poll, sendTransfer, useBrowser,
} from "./helpers.mjs";

useBrowser();

const EXAMPLES = ["vanilla", "react", "vue"];
// Relative to web/, where node --test runs; build/ is ignored by git.
const SCREENSHOTS = process.env.SCREENSHOTS || "../build/screenshots";

// What a user sees of one successful transfer, each once, in any order (live
// posts of messages stored close together may arrive in either order).
const WANT_EVENTS = ["oracle_upload_started", ...BUDGET_STEPS.flatMap((_, i) => [`${i + 1} processing`, `${i + 1} completed`]),
  "oracle_upload_completed"].sort();

const eventNames = (events) => events.map((e) => (e.type === "oracle_upload_progress" ? `${e.step} ${e.status}` : e.type));

// openExample opens an example as user and waits until it is connected and
// has caught up (its resume is complete). route, if given, is installed first
// (see newPage).
async function openExample(t, name, user, { route } = {}) {
  const { page, wire } = await newPage(t, { route });
  const resp = await page.goto(`${STACK_URL}/examples/${name}.html?user=${encodeURIComponent(user)}`);
  assert.equal(resp.status(), 200, `GET /examples/${name}.html`);
  await page.locator('#state[data-state="open"]').waitFor({ timeout: WAIT });
  await page.locator("#connection-id", { hasText: /\S/ }).waitFor({ timeout: WAIT });
  await poll(() => wire.received().some((f) => f.type === "resume_complete" && !f.has_more), `${name}: the resume completed`);
  return { page, wire, item: (tx) => page.locator(`fbdi-notification-center .upload[data-transaction="${tx}"]`) };
}

// upload is the page's NotificationFeed entry for tx (plain data), or null.
function upload(page, tx) {
  return page.evaluate((tx) => {
    const u = window.example.feed.upload(tx);
    return u ? JSON.parse(JSON.stringify(u)) : null;
  }, tx);
}

// assertFiveSteps checks what the page shows of a finished transfer: the
// element's progress bar and steps, the feed's events (each once), and the
// frames the browser received (the page dropped none).
async function assertFiveSteps(name, { page, wire, item }, tx) {
  const el = item(tx);
  await el.locator(".outcome[data-outcome]").waitFor({ timeout: UPLOAD_WAIT });
  assert.equal(await el.getAttribute("data-outcome"), "completed", `${name}: ${await el.locator(".outcome").textContent()}`);
  const bar = el.locator('[role="progressbar"]');
  assert.deepEqual(await bar.evaluate((b) => ["aria-valuemin", "aria-valuenow", "aria-valuemax", "aria-valuetext", "aria-label"].map((a) => b.getAttribute(a))),
    ["0", "5", "5", "Completed: all 5 steps", `Transaction ${tx}`], `${name}: the progress bar`);
  const steps = await el.locator("ol.steps > li").evaluateAll((lis) => lis.map((li) => [li.dataset.step, li.dataset.status, li.textContent]));
  assert.deepEqual(steps.map(([n, s]) => [n, s]), ["1", "2", "3", "4", "5"].map((n) => [n, "completed"]), `${name}: five steps, each once`);
  steps.forEach(([, , text], i) => assert.ok(text.startsWith(`${BUDGET_STEPS[i]} — completed`), `${name}: step ${i + 1} reads ${text}`));

  const u = await upload(page, tx);
  assert.deepEqual(eventNames(u.events).sort(), WANT_EVENTS, `${name}: every message of the transfer, none twice`);
  assert.equal(new Set(u.events.map((e) => e.id)).size, u.events.length, `${name}: no duplicate ids`);
  const onWire = new Set(wire.received().filter((f) => f.transaction_id === tx).map((f) => f.id));
  assert.deepEqual([...onWire].sort(), u.events.map((e) => e.id).sort(), `${name}: the feed holds every frame received`);
  return u;
}

// frameworkUpload is what the React or Vue component rendered from its hook's
// uploads for tx.
async function frameworkUpload(page, tx) {
  const li = page.locator(`#uploads li[data-transaction="${tx}"]`);
  await li.waitFor({ timeout: WAIT });
  return li.evaluate((l) => ({ completed: l.dataset.completed, outcome: l.dataset.outcome, events: JSON.parse(l.dataset.events) }));
}

for (const name of EXAMPLES) {
  test(`the ${name} example connects and shows a transfer's five steps; Mark all read clears the badge`, { timeout: TEST_TIMEOUT }, async (t) => {
    const user = `ex-${name}-${RUN}`;
    const ex = await openExample(t, name, user);
    const tx = `ex-${RUN}-${name}`;
    await sendTransfer(user, tx);
    await assertFiveSteps(name, ex, tx);

    if (name !== "vanilla") {
      // The hook's (composable's) own state, as the framework rendered it.
      const got = await frameworkUpload(ex.page, tx);
      assert.deepEqual({ ...got, events: got.events.sort() }, { completed: "5", outcome: "completed", events: WANT_EVENTS }, `${name}: the framework's uploads`);
    }
    // A new user: of the twelve stored messages the start and the end are unread (progress steps are not
    // counted), in the element's badge (and the framework's count).
    const badge = ex.page.locator("fbdi-notification-center .badge");
    await ex.page.locator("fbdi-notification-center .badge", { hasText: /^2$/ }).waitFor({ timeout: WAIT });
    if (name !== "vanilla") await ex.page.locator("#unread", { hasText: /^2$/ }).waitFor({ timeout: WAIT });
    assert.equal(await ex.item(tx).getAttribute("data-read"), "false");
    await ex.page.locator("fbdi-notification-center button.mark-all").click();
    await ex.page.locator("fbdi-notification-center .badge", { hasText: /^0$/ }).waitFor({ timeout: WAIT });
    assert.equal(await badge.getAttribute("aria-label"), "0 unread");
    await ex.page.locator(`fbdi-notification-center .upload[data-transaction="${tx}"][data-read="true"]`).waitFor({ timeout: WAIT });
    if (name !== "vanilla") await ex.page.locator("#unread", { hasText: /^0$/ }).waitFor({ timeout: WAIT });
  });
}

test("the notification centre is keyboard usable: Enter on the bell toggles the panel, Escape closes it and returns focus", { timeout: TEST_TIMEOUT }, async (t) => {
  const user = `kbd-${RUN}`;
  const { page } = await openExample(t, "vanilla", user);
  await devSend("notifications", { user_id: user, type: "notification", message: "keyboard", data: { run: RUN } });
  const item = page.locator("fbdi-notification-center li.item", { hasText: "keyboard" });
  await item.waitFor({ timeout: WAIT });
  assert.equal(await page.locator("fbdi-notification-center .live").textContent(), "New notification: keyboard", "announced through the live region");
  assert.equal(await page.locator("fbdi-notification-center .live").getAttribute("aria-live"), "polite");

  const bell = page.locator("fbdi-notification-center button.bell");
  const panel = page.locator("fbdi-notification-center .panel");
  assert.equal(await bell.getAttribute("aria-expanded"), "true");
  await bell.focus();
  await page.keyboard.press("Enter");
  assert.equal(await bell.getAttribute("aria-expanded"), "false");
  assert.equal(await panel.isHidden(), true);
  await page.keyboard.press("Enter");
  assert.equal(await panel.isVisible(), true);
  // Tab reaches the item's Mark read; Enter marks that one read.
  const markOne = item.locator("button.mark-one");
  for (let i = 0; i < 10 && !(await markOne.evaluate((b) => b.getRootNode().activeElement === b)); i++) await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.locator("fbdi-notification-center li.item[data-read=\"true\"]", { hasText: "keyboard" }).waitFor({ timeout: WAIT });
  assert.equal(await item.evaluate((li) => li.getRootNode().activeElement === li), true, "the focus stays on the item read");
  await page.locator("fbdi-notification-center .badge", { hasText: /^0$/ }).waitFor({ timeout: WAIT });
  await page.keyboard.press("Escape");
  assert.equal(await panel.isHidden(), true);
  assert.equal(await bell.evaluate((b) => b.getRootNode().activeElement === b), true, "focus back on the bell");
});

for (const name of EXAMPLES) {
  test(`${name}: the server drops the socket mid-workflow; after the reconnect no step is missing or shown twice`, { timeout: TEST_TIMEOUT }, async (t) => {
    const user = `drop-${name}-${RUN}`;
    // A second page of the same user sees what is stored while the page under test is away.
    const watcher = await openExample(t, "vanilla", user);
    // The page under test gets its next token only when released, so that its
    // reconnect surely misses messages, which its resume must replay.
    let hold = null;
    let release = () => {};
    const route = { url: (u) => u.pathname === "/dev/token", handler: async (r) => { await hold; await r.continue(); } };
    const ex = await openExample(t, name, user, { route });
    const first = await ex.page.locator("#connection-id").textContent();
    const tx = `drop-${RUN}-${name}`;
    await sendTransfer(user, tx);
    // Mid-workflow: step 2 or later reached, no outcome yet (steps 3-5 wait for simulated Oracle jobs).
    const mid = await poll(async () => { const u = await upload(ex.page, tx); return u && u.current >= 2 && u; }, `${name}: step 2 reached`, UPLOAD_WAIT);
    assert.equal(mid.outcome, null, `${name}: the transfer was still running when the socket was dropped`);
    if (name === "vanilla") {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const path = `${SCREENSHOTS}/notification-center-mid-workflow.png`;
      await ex.page.locator("fbdi-notification-center").screenshot({ path });
      t.diagnostic(`screenshot of the notification centre mid-workflow (step ${mid.current}, ${mid.currentStatus}): web/${path}`);
    }

    hold = new Promise((r) => { release = r; });
    const res = await fetch(`${STACK_URL}/@connections/${encodeURIComponent(first)}`, { method: "DELETE", signal: AbortSignal.timeout(WAIT) });
    assert.equal(res.status, 204, "DELETE @connections");
    const atDrop = (await upload(ex.page, tx)).events.length;
    await poll(async () => (await upload(watcher.page, tx))?.events.length > atDrop, `${name}: a message of the transfer stored while the page is away`, UPLOAD_WAIT);
    release();
    await poll(async () => { const id = await ex.page.locator("#connection-id").textContent(); return id && id !== first; }, `${name}: a new connection`);
    assert.equal(ex.wire.list().length, 2, `${name}: one reconnection`);

    const u = await assertFiveSteps(name, ex, tx);
    const resume = ex.wire.list()[1].sent.find((f) => f.type === "resume");
    assert.ok(resume?.after, `${name}: the new connection resumed after a cursor`);
    const replayed = u.events.filter((e) => e.replayed).length;
    assert.ok(replayed > 0, `${name}: the messages missed while away were replayed`);
    t.diagnostic(`${name}: ${atDrop} of the transfer's messages live before the drop, ${replayed} replayed after the reconnect`);
    if (name !== "vanilla") {
      const got = await frameworkUpload(ex.page, tx);
      assert.deepEqual(got.events.sort(), WANT_EVENTS, `${name}: the framework's uploads`);
    }
  });
}

test("two users' pages see only their own events", { timeout: TEST_TIMEOUT }, async (t) => {
  const alice = { user: `alice-${RUN}`, tx: `iso-${RUN}-a` };
  const bob = { user: `bob-${RUN}`, tx: `iso-${RUN}-b` };
  alice.ex = await openExample(t, "react", alice.user);
  bob.ex = await openExample(t, "vue", bob.user);
  await Promise.all([sendTransfer(alice.user, alice.tx), sendTransfer(bob.user, bob.tx),
    devSend("notifications", { user_id: alice.user, type: "notification", message: `for ${alice.user}`, data: { run: RUN } }),
    devSend("notifications", { user_id: bob.user, type: "notification", message: `for ${bob.user}`, data: { run: RUN } })]);
  for (const [me, other] of [[alice, bob], [bob, alice]]) {
    await assertFiveSteps(me.user, me.ex, me.tx);
    await me.ex.page.locator("fbdi-notification-center li.item", { hasText: `for ${me.user}` }).waitFor({ timeout: WAIT });
  }
  for (const [me, other] of [[alice, bob], [bob, alice]]) {
    const items = await me.ex.page.locator("fbdi-notification-center li.item").evaluateAll((lis) => lis.map((li) => li.textContent));
    assert.equal(items.length, 2, `${me.user}: one transfer and one notification: ${JSON.stringify(items)}`);
    assert.equal(await me.ex.page.locator("#uploads li").count(), 1, `${me.user}: one upload in the framework's state`);
    const leaked = me.ex.wire.received().filter((f) => JSON.stringify(f).includes(other.user) || JSON.stringify(f).includes(other.tx));
    assert.deepEqual(leaked, [], `${me.user} received frames about ${other.user}`);
  }
});

test("latency: from a queued transfer to the progress bar moving in Chromium (printed, not asserted)", { timeout: TEST_TIMEOUT }, async (t) => {
  const user = `lat-${RUN}`;
  const { page, item } = await openExample(t, "vanilla", user);
  const RUNS = 5;
  const started = [];
  const moved = [];
  for (let i = 0; i < RUNS; i++) {
    const tx = `lat-${RUN}-${i}`;
    // The page notes Date.now() when the transaction's row first appears, and
    // when its progress bar first names a step (the first oracle_upload_progress drawn).
    await page.evaluate((tx) => {
      const root = document.querySelector("fbdi-notification-center").shadowRoot;
      const seen = (window.latency ??= {})[tx] = {};
      const obs = new MutationObserver(() => {
        const bar = root.querySelector(`.upload[data-transaction="${tx}"] [role="progressbar"]`);
        if (bar && !seen.row) seen.row = Date.now();
        if (bar?.getAttribute("aria-valuetext")?.startsWith("Step ")) { seen.moved = Date.now(); obs.disconnect(); }
      });
      obs.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuetext"] });
    }, tx);
    const sent = Date.now();
    await sendTransfer(user, tx);
    const seen = await poll(() => page.evaluate((tx) => window.latency[tx].moved && window.latency[tx], tx), `run ${i}: the bar moved`, UPLOAD_WAIT);
    started.push(seen.row - sent);
    moved.push(seen.moved - sent);
    await item(tx).locator(".outcome[data-outcome]").waitFor({ timeout: UPLOAD_WAIT }); // one transfer at a time
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  t.diagnostic(`latency send -> transaction row shown (ms): ${started.join(", ")}; median ${median(started)}`);
  t.diagnostic(`latency send -> progress bar moved to step 1 (ms): ${moved.join(", ")}; median ${median(moved)}`);
  assert.equal(moved.length, RUNS);
});
