// Unit tests of web/lib/feed.js, the data behind the notification centre and
// the React and Vue bindings, with a fake service: node --test web/test/unit/

import { test } from "node:test";
import assert from "node:assert/strict";
import { NotificationFeed, STEP_NAMES } from "../../lib/feed.js";

// FakeService emits what a NotificationService emits and records requests.
class FakeService {
  constructor() {
    this.state = "open";
    this.unreadCount = 0;
    this.userId = "123";
    this.listeners = new Map();
    this.calls = [];
    this.historyPage = { type: "history", items: [], unread_count: 0, has_more: false };
  }
  on(ev, fn) { (this.listeners.get(ev) || this.listeners.set(ev, new Set()).get(ev)).add(fn); return () => this.listeners.get(ev).delete(fn); }
  emit(ev, arg) { for (const fn of this.listeners.get(ev) || []) fn(arg); }
  async markRead(ids) { this.calls.push(["markRead", ids]); return 0; }
  async history(o) { this.calls.push(["history", o]); return this.historyPage; }
  async status(tx) { this.calls.push(["status", tx]); return this.statusReply; }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

let n = 0;
const push = (type, fields = {}) => ({ id: `id${++n}`, cursor: `c${n}`, timestamp: "2026-11-26T09:30:00.000Z", type, ...fields });
const progress = (tx, step, name, status) => push("oracle_upload_progress", { transaction_id: tx, step_number: step, step: name, total_steps: 5, status, message: `${name} ${status}` });
const transfer = (tx, names) => [
  push("oracle_upload_started", { transaction_id: tx, message: `Transfer ${tx} started` }),
  ...names.flatMap((name, i) => [progress(tx, i + 1, name, "processing"), progress(tx, i + 1, name, "completed")]),
  push("oracle_upload_completed", { transaction_id: tx, success: true, message: "done" }),
];

test("a transfer's messages make one item and one upload, whatever their order and however often they arrive", async () => {
  const budget = transfer("602", STEP_NAMES.budget_transfer);
  const journal = transfer("700", STEP_NAMES.journal_import);
  const cases = [
    { name: "in order", msgs: budget, tx: "602", kind: "budget_transfer", names: STEP_NAMES.budget_transfer },
    { name: "reversed: a completed step never goes back to processing", msgs: [...budget].reverse(), tx: "602", kind: "budget_transfer", names: STEP_NAMES.budget_transfer },
    { name: "each twice (a replay after a reconnect)", msgs: budget.flatMap((m) => [m, { ...m, replayed: true }]), tx: "602", kind: "budget_transfer", names: STEP_NAMES.budget_transfer },
    { name: "a journal import: its kind from its step names", msgs: journal, tx: "700", kind: "journal_import", names: STEP_NAMES.journal_import },
  ];
  for (const c of cases) {
    const svc = new FakeService();
    const feed = new NotificationFeed(svc);
    for (const m of c.msgs) svc.emit("message", m);
    const snap = feed.snapshot();
    assert.equal(snap.notifications.length, 1, `${c.name}: one item`);
    assert.equal(snap.notifications[0].key, `tx:${c.tx}`, c.name);
    assert.equal(snap.notifications[0].ids.length, 12, `${c.name}: the item holds every id once`);
    const [u] = snap.uploads;
    assert.equal(u.kind, c.kind, c.name);
    assert.deepEqual(u.steps.map((s) => [s.name, s.status]), c.names.map((name) => [name, "completed"]), c.name);
    assert.equal(u.completed, 5, c.name);
    assert.equal(u.outcome, "completed", c.name);
    assert.equal(u.events.length, 12, `${c.name}: each event once`);
  }
});

test("a running upload reports its current step; pending steps carry the kind's names", () => {
  const svc = new FakeService();
  const feed = new NotificationFeed(svc);
  for (const m of transfer("9", STEP_NAMES.budget_transfer).slice(0, 4)) svc.emit("message", m); // started, 1 p, 1 c, 2 p
  const u = feed.upload("9");
  assert.deepEqual([u.completed, u.current, u.currentStep, u.currentStatus, u.running], [1, 2, "Upload to UCM", "processing", true]);
  assert.deepEqual(u.steps.map((s) => s.status), ["completed", "processing", "pending", "pending", "pending"]);
  assert.deepEqual(u.steps.map((s) => s.name), STEP_NAMES.budget_transfer);
});

test("read state: history marks items read, markRead of an upload item marks all its ids, all marks everything", async () => {
  const svc = new FakeService();
  const feed = new NotificationFeed(svc, { historyOnConnect: 5 });
  const note = push("notification", { message: "hello", data: {} });
  const msgs = transfer("602", STEP_NAMES.budget_transfer);
  for (const m of [note, ...msgs]) svc.emit("message", m);
  assert.deepEqual(feed.snapshot().notifications.map((i) => [i.key, i.read]), [["tx:602", false], [note.id, false]], "newest first, unread");

  svc.historyPage = { type: "history", items: [{ ...note, read: true }], unread_count: 12, has_more: false };
  svc.emit("caughtUp", { replayed: 0 });
  await tick();
  assert.deepEqual(svc.calls.shift(), ["history", { limit: 5 }], "history after each resume");
  assert.equal(feed.snapshot().notifications.find((i) => i.key === note.id).read, true, "read as the server says");

  await feed.markRead("tx:602");
  assert.deepEqual(svc.calls.shift(), ["markRead", msgs.map((m) => m.id)], "every id of the transaction");
  assert.equal(feed.snapshot().notifications.find((i) => i.key === "tx:602").read, true);

  const later = push("notification", { message: "later", data: {} });
  svc.emit("message", later);
  await feed.markRead("all");
  assert.deepEqual(svc.calls.shift(), ["markRead", "all"]);
  assert.ok(feed.snapshot().notifications.every((i) => i.read));
});

test("listeners are called once per batch of changes, and the snapshot changes only then", async () => {
  const svc = new FakeService();
  const feed = new NotificationFeed(svc);
  let calls = 0;
  feed.subscribe(() => { calls++; });
  const before = feed.snapshot();
  assert.equal(feed.snapshot(), before, "the same snapshot while nothing changes");
  for (const m of transfer("1", STEP_NAMES.budget_transfer)) svc.emit("message", m);
  await tick();
  assert.equal(calls, 1, "one call for the batch");
  const after = feed.snapshot();
  assert.notEqual(after, before);
  assert.ok(Object.isFrozen(after) && Object.isFrozen(after.uploads[0]), "snapshots are frozen");
  svc.emit("message", { type: "pong", timestamp: 1 }); // a reply: nothing to show
  await tick();
  assert.equal(calls, 1);
  svc.emit("message", { id: "e1", type: "connection_established", connection_id: "abc=", user_id: "123" });
  await tick();
  assert.equal(feed.snapshot().connectionId, "abc=");
  feed.detach();
  svc.emit("message", push("notification", { message: "after detach", data: {} }));
  await tick();
  assert.equal(feed.snapshot().notifications.length, 1, "a detached feed stops following");
});

test("items loaded by history are not news (the element announces only news); a live message makes them news", async () => {
  const svc = new FakeService();
  const feed = new NotificationFeed(svc, { historyOnConnect: 5 });
  const old = push("notification", { message: "from yesterday", data: {} });
  const live = push("notification", { message: "just now", data: {} });
  svc.historyPage = { type: "history", items: [old], unread_count: 1, has_more: false };
  svc.emit("caughtUp", { replayed: 0 });
  await tick();
  svc.emit("message", live);
  const byKey = new Map(feed.snapshot().notifications.map((i) => [i.key, i]));
  assert.equal(byKey.get(old.id).replayed, true, "an item loaded by history is not news");
  assert.equal(byKey.get(live.id).replayed, false, "a live message is news");
});

test("inbox: categories, critical, what counts as unread, archive, preferences and filters pass through to the service", async () => {
  const svc = new FakeService();
  svc.countsAsUnread = (m) => m.type !== "oracle_upload_progress";
  svc.archive = async (ids) => { svc.calls.push(["archive", ids]); return 0; };
  const prefs = { type: "preferences", categories: { general: { in_app: true, email: false }, payroll: { in_app: false, email: true } }, defaults: { "*": { in_app: true, email: false } } };
  svc.preferences = async () => { svc.calls.push(["preferences"]); return prefs; };
  svc.setPreferences = async (c) => { svc.calls.push(["setPreferences", c]); return prefs; };
  const feed = new NotificationFeed(svc, { historyOnConnect: 0 });
  const g = push("notification", { message: "hello" });
  const f = push("notification", { message: "closing", category: "finance", critical: true });
  const [started, step] = transfer("900", STEP_NAMES.budget_transfer);
  for (const m of [g, f, started, step]) svc.emit("message", m);

  let snap = feed.snapshot();
  const byKey = Object.fromEntries(snap.notifications.map((it) => [it.key, it]));
  assert.deepEqual([byKey[g.id].category, byKey[f.id].category, byKey["tx:900"].category], ["general", "finance", "fbdi"], "categories, defaulted");
  assert.deepEqual([byKey[g.id].critical, byKey[f.id].critical], [false, true]);
  assert.deepEqual(snap.categories, ["fbdi", "finance", "general"]);
  assert.equal(snap.preferences, null);
  assert.equal(byKey["tx:900"].read, false, "the start counts as unread");
  await feed.markRead(started.id);
  assert.equal(feed.snapshot().notifications.find((it) => it.key === "tx:900").read, true,
    "read once its start is: its progress step was stored read");

  // Preferences: kept, and their categories added; a reply that arrives on its own too.
  assert.deepEqual(await feed.preferences(), prefs);
  snap = feed.snapshot();
  assert.deepEqual(snap.preferences.categories, prefs.categories);
  assert.deepEqual(snap.categories, ["fbdi", "finance", "general", "payroll"]);
  await feed.setPreferences({ payroll: { in_app: true } });
  svc.emit("message", { type: "preferences", categories: { quiet: { in_app: false, email: false } }, defaults: {} });
  assert.deepEqual(feed.snapshot().categories, ["fbdi", "finance", "general", "quiet"]);

  // markRead of a category marks its items read here too.
  await feed.markRead({ category: "finance" });
  assert.equal(feed.snapshot().notifications.find((it) => it.key === f.id).read, true);
  assert.equal(feed.snapshot().notifications.find((it) => it.key === g.id).read, false);

  // Archive removes the item, for good: history and a replay do not bring it back.
  await feed.archive(g.id);
  await feed.archive("tx:900");
  assert.deepEqual(feed.snapshot().notifications.map((it) => it.key), [f.id]);
  assert.deepEqual(feed.snapshot().uploads, []);
  svc.historyPage = { type: "history", items: [{ ...g, read: false }], unread_count: 0, has_more: false };
  await feed.history({ category: "general", unreadOnly: true, limit: 5 });
  svc.emit("message", { ...started, replayed: true });
  assert.deepEqual(feed.snapshot().notifications.map((it) => it.key), [f.id]);

  assert.deepEqual(svc.calls, [
    ["markRead", [started.id]],
    ["preferences"],
    ["setPreferences", { payroll: { in_app: true } }],
    ["markRead", { category: "finance" }],
    ["archive", [g.id]],
    ["archive", [started.id, step.id]],
    ["history", { category: "general", unreadOnly: true, limit: 5 }],
  ]);
});

test("a replayed message the server says is read stays read (a muted category's, or one read in another tab)", () => {
  const svc = new FakeService();
  const feed = new NotificationFeed(svc);
  const muted = push("notification", { message: "muted", data: {}, category: "hr" });
  const unread = push("notification", { message: "still unread", data: {} });
  svc.emit("message", { ...muted, replayed: true, read: true });
  svc.emit("message", { ...unread, replayed: true, read: false });
  const byKey = new Map(feed.snapshot().notifications.map((i) => [i.key, i]));
  assert.equal(byKey.get(muted.id).read, true, "read as the replay says");
  assert.equal(byKey.get(unread.id).read, false);
});
