// Real-browser tests of the inbox on the local test page: the preferences
// and the filters of <fbdi-notification-center>, and archive. Each test is a
// user of its own, so that what it counts is exact. See page.test.mjs for how
// these run.

import { test } from "node:test";
import assert from "node:assert/strict";
import { RUN, TEST_TIMEOUT, WAIT, connect, connected, devSend, logEntries, openPage, poll, useBrowser } from "./helpers.mjs";

useBrowser();

// item is the element's list item whose text has text.
const item = (page, text) => page.locator("#center li.item", { hasText: text });

// notify sends a general notification (or one of category) to user through the notification queue.
function notify(user, message, category) {
  return devSend("notifications", { user_id: user, type: "notification", message, data: { run: RUN }, ...(category ? { category } : {}) });
}

test("a muted category is not shown live but is in history, read; a critical one still shows; Unread hides read items", { timeout: TEST_TIMEOUT }, async (t) => {
  const user = `mute-${RUN}`;
  const { page, wire } = await openPage(t);
  await connect(page, user);
  await connected(page, user);

  // A general notification and a failure (category fbdi, critical) arrive live.
  const failure = (tx) => devSend("notifications", { user_id: user, type: "oracle_upload_failed", transaction_id: tx, message: `failed ${RUN}`, error: "ORA-1" });
  await notify(user, `heard ${RUN}`);
  await failure(`crit1-${RUN}`);
  await item(page, `heard ${RUN}`).waitFor({ timeout: WAIT });
  await page.locator(`#center .upload[data-transaction="crit1-${RUN}"]`).waitFor({ timeout: WAIT });

  // Preferences, through the element: both categories are on in app; switch them off.
  await page.locator("#center button.prefs-toggle").click();
  assert.equal(await page.locator("#center button.prefs-toggle").getAttribute("aria-expanded"), "true");
  assert.ok(await page.locator("#center .prefs .note", { hasText: /critical/i }).isVisible(), "the panel says critical ones are never muted");
  for (const [n, category] of ["general", "fbdi"].entries()) {
    const inApp = page.locator(`#center input[type="checkbox"][aria-label="${category}: in app"]`);
    await inApp.waitFor({ timeout: WAIT });
    assert.equal(await inApp.isChecked(), true, `${category} is shown in app by default`);
    await inApp.uncheck();
    await poll(() => wire.received().filter((f) => f.type === "preferences").length === n + 2, `the ${category} change was saved`);
    await page.locator("#center .prefs-status", { hasText: "Saved." }).waitFor({ timeout: WAIT });
    assert.equal(await inApp.isChecked(), false);
  }
  assert.deepEqual(wire.sent().filter((f) => f.type === "set_preferences"), [
    { type: "set_preferences", categories: { general: { in_app: false } } },
    { type: "set_preferences", categories: { fbdi: { in_app: false } } },
  ]);
  const saved = wire.received().filter((f) => f.type === "preferences").at(-1);
  assert.deepEqual([saved.categories.general.in_app, saved.categories.fbdi.in_app], [false, false], "the server's reply");

  // A general notification now is stored but not posted; a critical one of a muted category is posted all the same.
  await notify(user, `muted ${RUN}`);
  const tx = `crit2-${RUN}`;
  await failure(tx);
  await page.locator(`#center .upload[data-transaction="${tx}"]`).waitFor({ timeout: WAIT });
  const failed = wire.received().find((f) => f.type === "oracle_upload_failed" && f.transaction_id === tx);
  assert.deepEqual([failed.critical, failed.category, failed.replayed], [true, "fbdi", undefined], "live, critical, of the muted category");

  // History has the muted one, read; it was never received live.
  await page.locator("#history").click();
  const page1 = await poll(() => wire.received().filter((f) => f.type === "history" && f.items.length > 1)
    .find((h) => h.items.some((i) => i.message === `muted ${RUN}`)), "history lists the muted notification");
  const muted = page1.items.find((i) => i.message === `muted ${RUN}`);
  assert.equal(muted.read, true, "stored read");
  assert.equal(muted.category, "general");
  assert.deepEqual(wire.received().filter((f) => f.message === `muted ${RUN}` && f.type === "notification"), [], "not posted live");
  assert.deepEqual((await logEntries(page)).filter((e) => e.type === "notification" && e.msg?.message === `muted ${RUN}`), []);
  await page.locator('#center li.item[data-read="true"]', { hasText: `muted ${RUN}` }).waitFor({ timeout: WAIT });
  assert.equal(await page.locator("#unread").textContent(), "3", "the heard one and the two failures; not the muted one");

  // Unread: the read item goes, the unread ones stay; All brings it back.
  const unreadChip = page.locator('#center button.chip[data-filter="unread"]');
  const before = wire.sent().length;
  await unreadChip.click();
  assert.equal(await unreadChip.getAttribute("aria-pressed"), "true");
  await poll(() => wire.sent().slice(before).find((f) => f.type === "history" && f.unread_only === true), "Unread asked the server for unread items");
  await item(page, `muted ${RUN}`).waitFor({ state: "detached", timeout: WAIT });
  assert.equal(await item(page, `heard ${RUN}`).count(), 1);
  assert.equal(await page.locator(`#center .upload[data-transaction="${tx}"]`).count(), 1);
  await page.locator('#center button.chip[data-filter="all"]').click();
  await item(page, `muted ${RUN}`).waitFor({ timeout: WAIT });
  assert.equal(await unreadChip.getAttribute("aria-pressed"), "false");
});

test("archive hides an item for good: after a reload, in All and in Unread, and in another tab", { timeout: TEST_TIMEOUT }, async (t) => {
  const user = `archive-${RUN}`;
  const { page, wire } = await openPage(t);
  await connect(page, user);
  await connected(page, user);
  await notify(user, `keep ${RUN}`);
  await notify(user, `drop ${RUN}`);
  await item(page, `keep ${RUN}`).waitFor({ timeout: WAIT });
  await item(page, `drop ${RUN}`).waitFor({ timeout: WAIT });
  await page.locator("#unread", { hasText: /^2$/ }).waitFor({ timeout: WAIT });

  const drop = item(page, `drop ${RUN}`);
  const id = await drop.evaluate((li) => li.dataset.key);
  assert.equal(await drop.locator("button.archive").getAttribute("aria-label"), `Archive: drop ${RUN}`);
  await drop.locator("button.archive").click();
  await drop.waitFor({ state: "detached", timeout: WAIT });
  assert.deepEqual(wire.sent().filter((f) => f.type === "archive"), [{ type: "archive", ids: [id] }]);
  await page.locator("#unread", { hasText: /^1$/ }).waitFor({ timeout: WAIT });

  // After a reload, and in another tab of the same user, history no longer has it.
  const other = await openPage(t);
  for (const [name, p] of [["reloaded", page], ["other tab", other.page]]) {
    if (p === page) {
      await page.reload();
      await page.locator('#state[data-state="closed"]').waitFor({ timeout: WAIT });
    }
    await connect(p, user);
    await connected(p, user);
    await p.locator("#history").click();
    await item(p, `keep ${RUN}`).waitFor({ timeout: WAIT });
    assert.equal(await item(p, `drop ${RUN}`).count(), 0, `${name}: All`);
    await p.locator('#center button.chip[data-filter="unread"]').click();
    // Three history replies: the unread count's after resuming, History's, and Unread's.
    await p.locator('#log li[data-type="history"]').nth(2).waitFor({ timeout: WAIT });
    const replies = (await logEntries(p)).filter((e) => e.type === "history").map((e) => e.msg);
    assert.deepEqual(replies.map((r) => r.items.map((i) => i.message)), [[`keep ${RUN}`], [`keep ${RUN}`], [`keep ${RUN}`]], name);
    assert.equal(await p.locator('#center button.chip[data-filter="unread"]').getAttribute("aria-pressed"), "true");
    assert.equal(await item(p, `drop ${RUN}`).count(), 0, `${name}: Unread`);
    assert.equal(await p.locator("#unread").textContent(), "1", name);
  }
});

test("a category chip shows only that category's notifications and asks history for it", { timeout: TEST_TIMEOUT }, async (t) => {
  const user = `cats-${RUN}`;
  const { page, wire } = await openPage(t);
  await connect(page, user);
  await connected(page, user);
  await notify(user, `alpha one ${RUN}`, "alpha");
  await notify(user, `beta one ${RUN}`, "beta");
  await item(page, `alpha one ${RUN}`).waitFor({ timeout: WAIT });
  await item(page, `beta one ${RUN}`).waitFor({ timeout: WAIT });

  const chips = page.locator('#center button.chip[data-filter="category"]');
  assert.deepEqual(await chips.allTextContents(), ["alpha", "beta"]);
  const alpha = page.locator('#center button.chip[data-category="alpha"]');
  const before = wire.sent().length;
  await alpha.click();
  assert.equal(await alpha.getAttribute("aria-pressed"), "true");
  await item(page, `beta one ${RUN}`).waitFor({ state: "detached", timeout: WAIT });
  assert.equal(await item(page, `alpha one ${RUN}`).count(), 1);
  await poll(() => wire.sent().slice(before).find((f) => f.type === "history" && f.category === "alpha"), "the chip asked history for alpha");
  assert.deepEqual(await page.locator("#center li.item").evaluateAll((lis) => lis.map((li) => li.dataset.category)), ["alpha"]);

  // A notification of another category arrives while filtered: counted, not listed.
  await notify(user, `beta two ${RUN}`, "beta");
  await page.locator("#unread", { hasText: /^3$/ }).waitFor({ timeout: WAIT });
  assert.equal(await item(page, `beta two ${RUN}`).count(), 0);

  // Pressing the pressed chip clears it.
  await alpha.click();
  assert.equal(await alpha.getAttribute("aria-pressed"), "false");
  await item(page, `beta two ${RUN}`).waitFor({ timeout: WAIT });
  assert.equal(await page.locator("#center li.item").count(), 3);
});
