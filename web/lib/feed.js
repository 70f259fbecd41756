// feed.js: what a notification centre shows, kept up to date from a
// NotificationService (notifications.js): the connection state, the unread
// count, a list of notifications with their read state, and one entry per
// transaction with its five workflow steps (docs/protocol.md#workflow-steps).
// The custom element (notification-center.js), the React hook (react.js) and
// the Vue composable (vue.js) all read it. No dependency, no DOM.
//
//   const feed = new NotificationFeed(service);
//   feed.subscribe(() => draw(feed.snapshot()));
//   service.connect();

/** The step names of each workflow kind, in order (docs/protocol.md#workflow-steps). */
export const STEP_NAMES = Object.freeze({
  budget_transfer: Object.freeze(["Preparing Data", "Upload to UCM", "Interface Loader", "Budget Import", "Verify Results"]),
  journal_import: Object.freeze(["Preparing Data", "Upload to UCM", "Interface Loader", "Journal Import", "AutoPost"]),
});

// A step name that only one kind has tells the kind.
const KIND_OF_STEP = { "Budget Import": "budget_transfer", "Verify Results": "budget_transfer", "Journal Import": "journal_import", AutoPost: "journal_import" };

// How far a step has gone: a step never goes back (messages may arrive out of order, or again from a status reply).
const STATUS_RANK = { pending: 0, processing: 1, completed: 2, failed: 2 };

const UPLOAD_TYPES = new Set(["oracle_upload_started", "oracle_upload_progress", "oracle_upload_completed", "oracle_upload_failed"]);

/**
 * NotificationFeed follows one NotificationService and keeps what a
 * notification centre shows. Listeners of subscribe() are called once per
 * microtask in which something changed; snapshot() is a new frozen object
 * after each change and the same object otherwise (React's
 * useSyncExternalStore relies on that).
 */
export class NotificationFeed {
  /**
   * @param {import("./notifications.js").NotificationService} service the service to follow (not connected by the feed)
   * @param {{maxItems?: number, historyOnConnect?: number}} [options] maxItems: the newest items kept (default 100);
   *   historyOnConnect: how many history items to load for their read state after each resume (default 20; 0: none)
   */
  constructor(service, { maxItems = 100, historyOnConnect = 20 } = {}) {
    if (!service || typeof service.on !== "function") throw new TypeError("NotificationFeed: a NotificationService is required");
    this.service = service;
    this._maxItems = maxItems;
    this._historyOnConnect = historyOnConnect;
    this._items = new Map(); // key -> item (mutable inside; copied into snapshots)
    this._uploads = new Map(); // transaction id -> upload
    this._read = new Set(); // ids known read
    this._archived = new Set(); // ids archived here: never shown again
    this._preferences = null; // the last preferences reply
    this._categories = new Set(); // categories of the items seen
    this._seq = 0; // arrival order of items, newest highest
    this._oldest = 0; // for items loaded from history, older than anything seen
    this._connectionId = "";
    this._listeners = new Set();
    this._snapshot = null;
    this._scheduled = false;
    this._offs = [];
    this.attach();
  }

  /** attach follows the service's events (the constructor does; after detach() it does again). */
  attach() {
    if (this._offs.length) return;
    const s = this.service;
    this._offs = [
      s.on("message", (msg) => this._message(msg)),
      s.on("stateChange", () => this._changed()),
      s.on("unreadCountChange", () => this._changed()),
      s.on("caughtUp", () => this._caughtUp()),
    ];
  }

  /** detach stops following the service; the feed keeps what it has. */
  detach() {
    for (const off of this._offs) off();
    this._offs = [];
  }

  /** subscribe calls fn after changes and returns a function that unsubscribes it. */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /**
   * snapshot returns {state, unreadCount, connectionId, userId, notifications,
   * uploads, categories, preferences}: notifications newest first ({key, id,
   * ids, type, category, critical, message, timestamp, read, replayed,
   * transactionId, data}), uploads newest first (see upload()), the
   * categories seen or in the preferences (sorted), and the last preferences
   * reply (null before one).
   */
  snapshot() {
    if (this._snapshot) return this._snapshot;
    const items = [...this._items.values()].sort((a, b) => b.seq - a.seq);
    const notifications = items.map((it) => Object.freeze({ ...it, ids: Object.freeze([...it.ids]), read: this._isRead(it) }));
    const uploads = [...this._uploads.values()].sort((a, b) => b.seq - a.seq).map(freezeUpload);
    this._snapshot = Object.freeze({
      state: this.service.state,
      unreadCount: this.service.unreadCount,
      connectionId: this._connectionId,
      userId: this.service.userId,
      notifications: Object.freeze(notifications),
      uploads: Object.freeze(uploads),
      categories: Object.freeze(this._allCategories()),
      preferences: this._preferences,
    });
    return this._snapshot;
  }

  /** upload returns the upload of a transaction as in snapshot(), or undefined. */
  upload(transactionId) {
    const u = this._uploads.get(String(transactionId));
    return u && freezeUpload(u);
  }

  /**
   * markRead marks read the items with these keys or notification ids (an
   * upload item stands for every message of its transaction), all with
   * "all", or those of a category with {category}; it resolves with the
   * server's unread count afterwards.
   */
  async markRead(keys) {
    if (keys === "all" || typeof keys?.category === "string") {
      for (const it of this._items.values()) {
        if (keys === "all" || it.category === keys.category) for (const id of it.ids) this._read.add(id);
      }
      this._changed();
      return this.service.markRead(keys === "all" ? "all" : { category: keys.category });
    }
    const ids = this._ids(keys).filter((id) => !this._read.has(id));
    for (const id of ids) this._read.add(id);
    this._changed();
    return this.service.markRead(ids);
  }

  /**
   * archive removes the items with these keys or notification ids (an upload
   * item stands for every message of its transaction) and asks the server to
   * hide them from history, in every tab; it resolves with the server's
   * unread count afterwards.
   */
  async archive(keys) {
    const ids = this._ids(keys);
    for (const id of ids) this._archived.add(id);
    for (const it of [...this._items.values()]) {
      if (it.ids.some((id) => this._archived.has(id))) this._remove(it);
    }
    this._changed();
    return this.service.archive(ids);
  }

  /** preferences asks the service for the user's preferences, keeps them (snapshot().preferences) and resolves with the reply. */
  async preferences() {
    return this._keepPreferences(await this.service.preferences());
  }

  /** setPreferences changes the channels named ({general: {in_app: false}}), keeps the preferences afterwards and resolves with them. */
  async setPreferences(categories) {
    return this._keepPreferences(await this.service.setPreferences(categories));
  }

  /**
   * history asks the service for a page of history (options: before, limit,
   * category, unreadOnly), merges its items and read states, and resolves
   * with the reply.
   */
  async history(options) {
    const page = await this.service.history(options);
    // Newest first: the oldest is merged first, so that a transaction's messages apply in order.
    for (const item of [...(page.items || [])].reverse()) this._apply(item, { fromHistory: true });
    this._changed();
    return page;
  }

  /** status asks the service for a transaction's state, merges its steps into the upload, and resolves with the reply. */
  async status(transactionId) {
    const reply = await this.service.status(transactionId);
    const u = this._upload(reply.transaction_id);
    if (reply.kind) this._setKind(u, reply.kind);
    for (const s of reply.steps || []) this._step(u, s.step_number, s.step, s.status, s.message);
    if (reply.state === "succeeded") u.outcome = "completed";
    if (reply.state === "failed") { u.outcome = "failed"; u.error = reply.error || u.error; }
    this._changed();
    return reply;
  }

  // ------------------------------------------------------------ events

  _message(msg) {
    if (msg.type === "preferences" && !msg.id) {
      this._keepPreferences(msg);
      return;
    }
    if (msg.type === "connection_established") {
      this._connectionId = String(msg.connection_id || "");
      this._changed();
      return;
    }
    if (!msg.id || !msg.cursor) return; // replies, and pushes that are not stored
    this._apply(msg, { fromHistory: false });
    this._changed();
  }

  _caughtUp() {
    if (this._historyOnConnect > 0) this.history({ limit: this._historyOnConnect }).catch(() => {});
  }

  // _apply merges one stored message, live, replayed or from history.
  _apply(msg, { fromHistory }) {
    if (this._archived.has(msg.id)) return;
    // The server's read state: a history item's or a replayed message's
    // "read"; a message that does not count as unread (a progress step, a
    // muted category's) was stored read.
    if (msg.read === true || (!fromHistory && this.service.countsAsUnread?.(msg) === false)) this._read.add(msg.id);
    const upload = UPLOAD_TYPES.has(msg.type) && msg.transaction_id != null;
    const key = upload ? `tx:${msg.transaction_id}` : msg.id;
    const category = typeof msg.category === "string" && msg.category ? msg.category : upload ? "fbdi" : "general";
    let it = this._items.get(key);
    if (!it) {
      this._categories.add(category);
      it = { key, id: msg.id, ids: [], type: msg.type, category, critical: false, message: "", timestamp: msg.timestamp || "",
        // Not news: replayed by a resume, or loaded from history (the element announces only news).
        replayed: Boolean(msg.replayed) || fromHistory,
        transactionId: upload ? String(msg.transaction_id) : null, data: msg.data || null,
        seq: fromHistory ? --this._oldest : ++this._seq };
      this._items.set(key, it);
      this._trim();
    }
    if (msg.critical === true) it.critical = true;
    if (!it.ids.includes(msg.id)) {
      it.ids.push(msg.id);
      if (!fromHistory && !msg.replayed) it.replayed = false;
      if (!fromHistory && it.seq < 0) it.seq = ++this._seq; // news of an item loaded from history
    }
    if (!upload) {
      it.message = msg.message || "";
      return;
    }
    if (msg.type !== "oracle_upload_progress" || !it.message) it.message = msg.message || it.message;
    const u = this._upload(msg.transaction_id);
    u.seq = Math.max(u.seq, it.seq);
    if (!u.events.some((e) => e.id === msg.id)) {
      u.events.push(Object.freeze({ id: msg.id, type: msg.type, step: msg.step_number || 0, status: msg.status || "", replayed: Boolean(msg.replayed) }));
    }
    switch (msg.type) {
      case "oracle_upload_started":
        if (/^journal import/i.test(msg.message || "")) this._setKind(u, "journal_import");
        break;
      case "oracle_upload_progress":
        this._step(u, msg.step_number, msg.step, msg.status, msg.message);
        break;
      case "oracle_upload_completed":
        u.outcome = "completed";
        u.message = msg.message || "";
        break;
      case "oracle_upload_failed":
        u.outcome = "failed";
        u.message = msg.message || "";
        u.error = msg.error || "";
        break;
    }
  }

  _upload(transactionId) {
    const tx = String(transactionId);
    let u = this._uploads.get(tx);
    if (!u) {
      u = { transactionId: tx, kind: null, totalSteps: 5, steps: [], outcome: null, message: "", error: "", events: [], seq: this._seq };
      this._uploads.set(tx, u);
      this._setKind(u, null);
    }
    return u;
  }

  _setKind(u, kind) {
    u.kind = kind;
    const names = STEP_NAMES[kind] || STEP_NAMES.budget_transfer;
    for (let i = 0; i < Math.max(u.totalSteps, names.length); i++) {
      if (!u.steps[i]) u.steps[i] = { number: i + 1, name: names[i] || `Step ${i + 1}`, status: "pending", message: "", named: false };
      else if (!u.steps[i].named) u.steps[i].name = names[i] || u.steps[i].name;
    }
  }

  _step(u, number, name, status, message) {
    if (!(number >= 1)) return;
    if (!u.kind && KIND_OF_STEP[name]) this._setKind(u, KIND_OF_STEP[name]);
    while (u.steps.length < number) u.steps.push({ number: u.steps.length + 1, name: `Step ${u.steps.length + 1}`, status: "pending", message: "", named: false });
    const s = u.steps[number - 1];
    if (name) { s.name = name; s.named = true; }
    if ((STATUS_RANK[status] ?? 0) >= STATUS_RANK[s.status]) {
      s.status = status;
      if (message) s.message = message;
    }
  }

  _trim() {
    if (this._items.size <= this._maxItems) return;
    this._remove([...this._items.values()].sort((a, b) => a.seq - b.seq)[0]);
  }

  _remove(it) {
    this._items.delete(it.key);
    if (it.transactionId) this._uploads.delete(it.transactionId);
  }

  // _ids returns the notification ids of the items with these keys or ids.
  _ids(keys) {
    const ids = [];
    for (const k of Array.isArray(keys) ? keys : [keys]) {
      const it = this._items.get(k) || [...this._items.values()].find((i) => i.ids.includes(k));
      for (const id of it ? it.ids : [k]) if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  _keepPreferences(reply) {
    if (reply && typeof reply.categories === "object") {
      this._preferences = Object.freeze({ categories: reply.categories || {}, defaults: reply.defaults || {} });
      this._changed();
    }
    return reply;
  }

  _allCategories() {
    const all = new Set(this._categories);
    for (const c of Object.keys(this._preferences?.categories || {})) if (c !== "*") all.add(c);
    return [...all].sort();
  }

  _isRead(it) {
    return it.ids.every((id) => this._read.has(id));
  }

  _changed() {
    this._snapshot = null;
    if (this._scheduled) return;
    this._scheduled = true;
    queueMicrotask(() => {
      this._scheduled = false;
      for (const fn of [...this._listeners]) {
        try { fn(); } catch (err) { queueMicrotask(() => { throw err; }); }
      }
    });
  }
}

// freezeUpload copies an upload for a snapshot, with its progress: completed
// (steps completed), current (the step being worked on or that failed, 0 when
// none) and running (no outcome yet).
function freezeUpload(u) {
  const steps = u.steps.map((s) => Object.freeze({ number: s.number, name: s.name, status: s.status, message: s.message }));
  const completed = steps.filter((s) => s.status === "completed").length;
  const at = [...steps].reverse().find((s) => s.status !== "pending");
  return Object.freeze({
    transactionId: u.transactionId, kind: u.kind, totalSteps: Math.max(u.totalSteps, steps.length), steps: Object.freeze(steps),
    completed, current: at ? at.number : 0, currentStep: at ? at.name : "", currentStatus: at ? at.status : "",
    running: !u.outcome, outcome: u.outcome, message: u.message, error: u.error, events: Object.freeze([...u.events]),
  });
}
