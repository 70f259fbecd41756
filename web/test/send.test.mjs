// Real-browser tests of the page's Send sample, which upstream systems'
// messages stand in for: the upload goes through the queue to the worker and
// its five steps show on the page. infra/local/browser_test.go runs this file
// against the stack with its own queues and with the queues on an AWS API.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BUDGET_STEPS, RUN, SCREENSHOT, STACK_URL, TEST_TIMEOUT, WAIT, connect, connected, logEntries, openPage, sendSample, useBrowser,
} from "./helpers.mjs";

useBrowser();

test("Send sample works whatever name the page was opened under (localhost for 127.0.0.1)", { timeout: TEST_TIMEOUT }, async (t) => {
  const base = STACK_URL.replace("127.0.0.1", "localhost");
  assert.notEqual(base, STACK_URL, "the stack runs on 127.0.0.1");
  const { page } = await openPage(t, { base });
  await connect(page, "123");
  await connected(page, "123");
  const { outcome, text } = await sendSample(page, `bt-${RUN}-localhost`);
  assert.equal(outcome, "completed", `outcome: ${text}`);
});

test("Send sample: the notification centre shows steps 1-5 completed, a full progress bar and the outcome completed", { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, wire } = await openPage(t);
  await connect(page, "123");
  await connected(page, "123");

  const tx = `bt-${RUN}-3`;
  const { card, outcome, text } = await sendSample(page, tx);
  assert.equal(outcome, "completed", `outcome: ${text}`);
  assert.equal(await card.locator(".title").textContent(), `Transaction ${tx}`);
  const bar = card.locator('[role="progressbar"]');
  assert.deepEqual(await bar.evaluate((b) => ["aria-valuemin", "aria-valuenow", "aria-valuemax", "aria-valuetext"].map((a) => b.getAttribute(a))),
    ["0", "5", "5", "Completed: all 5 steps"]);
  const steps = await card.locator("ol.steps > li").evaluateAll((lis) =>
    lis.map((li) => ({ step: li.dataset.step, status: li.dataset.status, text: li.textContent })));
  assert.deepEqual(steps.map((s) => [s.step, s.status]), [1, 2, 3, 4, 5].map((n) => [String(n), "completed"]));
  steps.forEach((s, i) => assert.ok(s.text.startsWith(`${BUDGET_STEPS[i]} — completed`), `step ${i + 1} reads ${s.text}`));

  // Every message of the upload arrived once, in order, for this transaction.
  // (Replayed entries are earlier uploads of user 123 that the page resumed
  // on connecting, when the stack has run before.)
  const got = (await logEntries(page)).filter((e) => e.type.startsWith("oracle_upload_") && !e.replayed).map((e) => e.msg);
  assert.ok(got.every((m) => m.transaction_id === tx && m.id && m.timestamp), "for this transaction, with id and timestamp");
  const sequence = got.map((m) => m.type === "oracle_upload_progress" ? `${m.step_number} ${m.status}` : m.type);
  const want = ["oracle_upload_started"];
  for (let n = 1; n <= 5; n++) want.push(`${n} processing`, `${n} completed`);
  want.push("oracle_upload_completed");
  assert.deepEqual(sequence, want);
  assert.equal(got.at(-1).success, true);
  assert.equal(new Set(got.map((m) => m.id)).size, got.length, "no duplicate ids");

  // Status replays the audit trail into the same card.
  await page.locator("#status").click();
  const status = page.locator('#log li[data-type="workflow_status"]');
  await status.waitFor({ timeout: WAIT });
  const reply = JSON.parse(await status.textContent());
  assert.equal(reply.transaction_id, tx);
  assert.equal(reply.state, "succeeded");
  assert.deepEqual(reply.steps.map((s) => [s.step_number, s.step, s.status]), BUDGET_STEPS.map((name, i) => [i + 1, name, "completed"]));
  assert.equal(await page.locator(`#center .upload[data-transaction="${tx}"]`).count(), 1, "one item per transaction");
  assert.equal(await card.locator('ol.steps > li[data-status="completed"]').count(), 5);

  // The received frames and the log agree: the page dropped nothing.
  const onWire = wire.received().filter((f) => f.type?.startsWith("oracle_upload_") && !f.replayed).map((f) => f.id);
  assert.deepEqual(onWire, got.map((m) => m.id));

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

