// FBDI notifications: the browser client of the WebSocket API described in
// docs/protocol.md. One ES module, no build step, no dependency.
//
//   import { NotificationService } from "/lib/notifications.js";
//   const n = new NotificationService({ url: "wss://…/prod", getToken: async () => fetchAccessToken() });
//   n.on("uploadProgress", (msg) => draw(msg));
//   n.connect();
//
// Loaded as a module it also sets globalThis.FbdiNotifications (the same
// exports), for classic scripts that run after it (see README.md).
//
// What it does beyond sending and receiving: a fresh token before every
// connect; reconnects with exponential backoff and full jitter; resumes after
// the cursor of the last notification seen (docs/protocol.md#order-and-replay),
// keeping that cursor in storage per user; drops duplicates by id; pings under
// API Gateway's 10-minute idle timeout; reconnects on its own terms before the
// 2-hour connection limit; follows the browser's online/offline and page
// visibility; matches request replies to promises.

/** Server push types and the event each one is emitted as. Others are emitted as "unknown". */
export const EVENTS = Object.freeze({
  connection_established: "connectionEstablished",
  notification: "notification",
  oracle_upload_started: "uploadStarted",
  oracle_upload_progress: "uploadProgress",
  oracle_upload_completed: "uploadCompleted",
  oracle_upload_failed: "uploadFailed",
});

/** Request types and the reply type that answers each (docs/protocol.md#client-to-server). */
export const REPLY_TYPES = Object.freeze({
  ping: "pong",
  resume: "resume_complete",
  history: "history",
  mark_read: "read_state",
  archive: "read_state",
  status: "workflow_status",
  preferences: "preferences",
  set_preferences: "preferences",
});

/**
 * The types that count as unread when stored, as the server's default rule
 * (UNREAD_TYPES unset): a workflow's start and end and general
 * notifications, not its progress steps. A critical notification always
 * counts.
 */
export const UNREAD_TYPES = Object.freeze(["notification", "oracle_upload_started", "oracle_upload_completed", "oracle_upload_failed"]);


/** The values of the options a caller leaves out (times in milliseconds). */
export const DEFAULTS = Object.freeze({
  tokenIn: "protocol",
  backoffBase: 1000,
  backoffCap: 30_000,
  maxReconnectAttempts: Infinity,
  pingInterval: 5 * 60_000, // API Gateway closes a connection idle for 10 minutes
  maxConnectionAge: 110 * 60_000, // and one open for 2 hours
  requestTimeout: 30_000,
  resumeLimit: 100,
  storageKeyPrefix: "fbdi:cursor:", // the test page's key, so a cursor survives the switch
  maxSeenIds: 5000,
});

const MAX_IDS = 100; // the server's limit per mark_read or archive

/**
 * RequestError is how a request() promise is rejected. code is the server's
 * error code (invalid_request, not_found, rate_limited, …) or one of the
 * library's: "not_open" (no open connection), "disconnected" (the connection
 * closed before the reply), "timeout".
 */
export class RequestError extends Error {
  constructor(code, message, reply) {
    super(message);
    this.name = "RequestError";
    /** The error code. */
    this.code = code;
    /** The server's error reply, when there is one ({type: "error", code, message, retry_after?}). */
    this.reply = reply;
  }
}

/**
 * backoffDelay returns the wait before reconnect attempt number attempt (0 for
 * the first): exponential backoff with full jitter, random() times
 * min(cap, base * 2^attempt).
 */
export function backoffDelay(attempt, { base = DEFAULTS.backoffBase, cap = DEFAULTS.backoffCap, random = Math.random } = {}) {
  return random() * Math.min(cap, base * 2 ** attempt);
}

/** createMemoryStorage returns a Storage-like object that keeps its items in memory. */
export function createMemoryStorage() {
  const items = new Map();
  return {
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => { items.set(k, String(v)); },
    removeItem: (k) => { items.delete(k); },
  };
}

function defaultStorage() {
  try {
    const s = globalThis.localStorage; // throws where storage is blocked
    if (s && typeof s.getItem === "function") return s;
  } catch { /* fall through */ }
  return createMemoryStorage();
}

function defaultWindow() {
  const w = globalThis.window;
  return w && typeof w.addEventListener === "function" ? w : null;
}

/**
 * NotificationService is one user's connection to the notifications API. It
 * stays connected from connect() until disconnect() (or until a set
 * maxReconnectAttempts is used up), and emits the server's messages as events.
 */
export class NotificationService {
  /**
   * @param {object|string} options the options (see notifications.d.ts), or the URL
   * @param {object} [more] with a URL as first argument, the other options
   */
  constructor(options, more) {
    const o = typeof options === "string" ? { ...more, url: options } : { ...options };
    if (!o.url) throw new TypeError("NotificationService: url is required");
    if (typeof o.getToken !== "function") {
      if (o.token == null) throw new TypeError("NotificationService: getToken (or token) is required");
      const token = o.token;
      o.getToken = () => token;
    }
    if (o.tokenIn !== undefined && o.tokenIn !== "protocol" && o.tokenIn !== "query") {
      throw new TypeError(`NotificationService: tokenIn must be "protocol" or "query"`);
    }
    this._o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
    this._WebSocket = o.WebSocket || globalThis.WebSocket;
    const clock = o.clock || {};
    this._setTimeout = clock.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms));
    this._clearTimeout = clock.clearTimeout || ((t) => globalThis.clearTimeout(t));
    this._now = clock.now || (() => Date.now());
    this._random = o.random || Math.random;
    this._storage = o.storage || defaultStorage();
    this._window = o.window === undefined ? defaultWindow() : o.window;
    this._replyTypes = { ...REPLY_TYPES, ...o.replyTypes };
    this._countsAsUnread = o.countsAsUnread || defaultCountsAsUnread;

    this._listeners = new Map();
    this._listening = false; // to the window's online, offline and visibilitychange
    this._state = "idle";
    this._want = false; // between connect() and disconnect()
    this._ws = null;
    this._gen = 0; // bumped by every attempt and close, so stale callbacks are ignored
    this._attempt = 0; // reconnect attempts since the last healthy connection
    this._everOpened = false;
    this._timers = { retry: null, ping: null, age: null };
    this._pending = []; // requests waiting for their reply, oldest first
    this._unread = 0;
    this._userId = null;
    this._cursor = "";
    this._seen = new Set();
    this._resetCatchUp();

    this._onOnline = () => this._online();
    this._onOffline = () => this._offline();
    this._onVisibility = () => this._visibility();
  }

  /** The connection state: "idle", "connecting", "open", "reconnecting" or "closed". */
  get state() { return this._state; }

  /** The user's unread count as last known: the server's, plus live notifications since. */
  get unreadCount() { return this._unread; }

  /** The user id of the connection, from connection_established (null before). */
  get userId() { return this._userId; }

  /** The resume cursor: every notification stored up to it has been received. */
  get cursor() { return this._cursor; }

  /**
   * countsAsUnread reports whether a stored message counts as unread under
   * the service's rule (the countsAsUnread option, else the server's default:
   * critical, or of UNREAD_TYPES).
   */
  countsAsUnread(msg) {
    return Boolean(msg) && this._countsAsUnread(msg);
  }

  /** on subscribes fn to event and returns a function that unsubscribes it. */
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  /** off unsubscribes fn from event. */
  off(event, fn) {
    this._listeners.get(event)?.delete(fn);
  }

  /** connect opens the connection and keeps it open until disconnect(). It does nothing when already started. */
  connect() {
    if (this._want) return;
    this._want = true;
    this._attempt = 0;
    this._everOpened = false;
    this._listenToWindow(true);
    this._setState("connecting");
    this._open();
  }

  /** disconnect closes the connection and stops reconnecting; pending requests are rejected. */
  disconnect() {
    const was = this._want || this._ws;
    this._want = false;
    this._listenToWindow(false);
    this._clearTimer("retry");
    const had = this._drop(1000, "client disconnect");
    if (was) this._setState("closed");
    if (had) this._emit("disconnected", { code: 1000, reason: "client disconnect", wasClean: true, willReconnect: false });
  }

  /**
   * send sends msg (an object, sent as JSON, or a string, sent as is) when the
   * connection is open, and reports whether it did.
   */
  send(msg) {
    const ws = this._ws;
    if (!ws || this._state !== "open") return false;
    ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
    return true;
  }

  /**
   * request sends {type, ...body} and resolves with the reply of the type
   * replyTypes maps type to (REPLY_TYPES plus the replyTypes option). Replies
   * carry no request id: each goes to the oldest request waiting for its type,
   * and an error reply to the oldest request waiting for anything.
   */
  request(type, body = {}) {
    const replyType = this._replyTypes[type];
    if (!replyType) {
      return Promise.reject(new TypeError(`NotificationService: no reply type known for "${type}" (add it to replyTypes)`));
    }
    return new Promise((resolve, reject) => {
      const p = { replyType, resolve, reject, timer: null };
      this._pending.push(p);
      if (!this.send({ ...body, type })) {
        this._removePending(p);
        reject(new RequestError("not_open", `${type}: the connection is not open`));
        return;
      }
      p.timer = this._setTimeout(() => {
        this._removePending(p);
        reject(new RequestError("timeout", `${type}: no reply within ${this._o.requestTimeout} ms`));
      }, this._o.requestTimeout);
    });
  }

  /**
   * history resolves with a page of the user's notifications, newest first
   * ({items, unread_count, has_more, cursor?}): before a cursor, at most
   * limit, only of category, only unread ones with unreadOnly. With a filter,
   * a page may hold fewer items than limit and still say has_more: ask
   * again with before set to the reply's cursor.
   */
  async history({ before, limit, category, unreadOnly } = {}) {
    const body = {};
    if (before) body.before = before;
    if (limit) body.limit = limit;
    if (category) body.category = category;
    if (unreadOnly) body.unread_only = true;
    return this.request("history", body);
  }

  /**
   * markRead marks the notifications with these ids read (any number: sent
   * 100 at a time), all of them with "all", or those of one category with
   * {category}, and resolves with the unread count afterwards.
   */
  async markRead(ids) {
    if (ids === "all") {
      await this.request("mark_read", { all: true });
      return this._unread;
    }
    if (ids && typeof ids === "object" && typeof ids.category === "string") {
      await this.request("mark_read", { category: ids.category });
      return this._unread;
    }
    return this._batches("mark_read", ids);
  }

  /**
   * archive hides the notifications with these ids from the user's history
   * and unread count, in every tab (any number: sent 100 at a time), and
   * resolves with the unread count afterwards.
   */
  async archive(ids) {
    return this._batches("archive", ids);
  }

  /**
   * preferences resolves with the user's preferences: {type: "preferences",
   * categories, defaults}, each a map from category to {in_app, email}.
   */
  preferences() {
    return this.request("preferences");
  }

  /**
   * setPreferences changes the channels named ({general: {in_app: false}};
   * what it leaves out is not changed) and resolves with the preferences
   * afterwards, as preferences() does.
   */
  setPreferences(categories) {
    return this.request("set_preferences", { categories });
  }

  /** status resolves with the state of one of the user's transactions (a workflow_status reply). */
  status(transactionId) {
    return this.request("status", { transaction_id: String(transactionId) });
  }

  // _batches sends ids to type 100 at a time and resolves with the unread count afterwards.
  async _batches(type, ids) {
    const list = Array.from(ids || []);
    for (let i = 0; i < list.length; i += MAX_IDS) {
      await this.request(type, { ids: list.slice(i, i + MAX_IDS) });
    }
    return this._unread;
  }

  // ------------------------------------------------------------ connection

  async _open() {
    const gen = ++this._gen;
    if (this._isOffline()) return; // "online" opens it
    let token;
    try {
      token = await this._o.getToken();
      if (!token) throw new Error("getToken returned no token");
    } catch (err) {
      if (gen !== this._gen) return;
      this._emit("error", err);
      this._retry();
      return;
    }
    if (gen !== this._gen || !this._want) return;
    let ws;
    try {
      ws = this._o.tokenIn === "query"
        ? new this._WebSocket(withQueryToken(this._o.url, token))
        : new this._WebSocket(this._o.url, ["bearer", token]);
    } catch (err) {
      this._emit("error", err);
      this._retry();
      return;
    }
    this._ws = ws;
    this._resetCatchUp();
    ws.onopen = () => this._opened(ws);
    ws.onmessage = (ev) => this._message(ws, ev);
    ws.onerror = (ev) => { if (ws === this._ws) this._emit("error", ev); };
    ws.onclose = (ev) => this._closed(ws, ev);
  }

  _opened(ws) {
    if (ws !== this._ws) return;
    const reconnected = this._everOpened;
    this._everOpened = true;
    this._setState("open");
    this._schedulePing();
    if (this._o.maxConnectionAge > 0) {
      this._timers.age = this._setTimeout(() => this._plannedReconnect(), this._o.maxConnectionAge);
    }
    this._emit("connected", { reconnected });
  }

  _closed(ws, ev) {
    if (ws !== this._ws) return;
    this._ws = null;
    this._stopConnectionTimers();
    this._rejectPending("disconnected", "the connection closed");
    const willReconnect = this._want && this._attempt < this._o.maxReconnectAttempts;
    this._emit("disconnected", { code: ev?.code, reason: ev?.reason, wasClean: ev?.wasClean, willReconnect });
    if (this._want) this._retry(); // or reconnect_failed
    else this._setState("closed");
  }

  // _retry schedules the next attempt with backoff, or gives up when the
  // caller's maxReconnectAttempts is used up.
  _retry() {
    if (!this._want) return;
    this._gen++;
    if (this._attempt >= this._o.maxReconnectAttempts) {
      const attempts = this._attempt;
      this._want = false;
      this._listenToWindow(false);
      this._setState("closed");
      this._emit("reconnect_failed", { attempts });
      return;
    }
    const delay = backoffDelay(this._attempt, { base: this._o.backoffBase, cap: this._o.backoffCap, random: this._random });
    this._attempt++;
    this._setState(this._waitingState());
    this._clearTimer("retry");
    if (this._isOffline()) return; // "online" reconnects at once
    this._timers.retry = this._setTimeout(() => { this._timers.retry = null; this._open(); }, delay);
  }

  // _reconnectNow drops the socket, if any, and opens a new one at once.
  _reconnectNow(reason) {
    if (!this._want) return;
    this._clearTimer("retry");
    const had = this._drop(1000, reason);
    this._setState(this._waitingState());
    if (had) this._emit("disconnected", { code: 1000, reason, wasClean: true, willReconnect: true });
    this._open();
  }

  // _plannedReconnect replaces the connection before API Gateway's 2-hour
  // limit closes it; the resume after the new connect fills any gap.
  _plannedReconnect() {
    this._timers.age = null;
    this._reconnectNow("planned reconnect");
  }

  // _drop closes the socket without its close event reaching the service, and reports whether there was one.
  _drop(code, reason) {
    this._gen++;
    this._stopConnectionTimers();
    this._rejectPending("disconnected", "the connection closed");
    const ws = this._ws;
    this._ws = null;
    if (!ws) return false;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try { ws.close(code, reason); } catch { /* already closing */ }
    return true;
  }

  _schedulePing() {
    if (!(this._o.pingInterval > 0)) return;
    this._timers.ping = this._setTimeout(() => {
      this._timers.ping = null;
      this.request("ping", { timestamp: this._now() }).catch(() => {}); // a lost pong is not an error
      this._schedulePing();
    }, this._o.pingInterval);
  }

  _stopConnectionTimers() {
    this._clearTimer("ping");
    this._clearTimer("age");
  }

  _clearTimer(name) {
    if (this._timers[name] != null) this._clearTimeout(this._timers[name]);
    this._timers[name] = null;
  }

  // ------------------------------------------------------------ browser

  _listenToWindow(on) {
    const w = this._window;
    if (!w || on === this._listening) return;
    this._listening = on;
    const f = on ? "addEventListener" : "removeEventListener";
    w[f]("online", this._onOnline);
    w[f]("offline", this._onOffline);
    w[f]("visibilitychange", this._onVisibility);
  }

  _isOffline() {
    return this._window?.navigator?.onLine === false;
  }

  _offline() {
    if (!this._want) return;
    this._clearTimer("retry");
    const had = this._drop(1000, "offline");
    this._setState(this._waitingState());
    if (had) this._emit("disconnected", { code: 1000, reason: "offline", wasClean: true, willReconnect: true });
  }

  _online() {
    if (!this._want || this._state === "open") return;
    this._reconnectNow("online");
  }

  _visibility() {
    if (this._window?.document?.visibilityState !== "visible") return;
    // Waiting for the backoff timer: try now. A socket or a token on its way
    // is left alone, and so is a browser that is offline ("online" reconnects).
    if (this._want && this._timers.retry != null) this._reconnectNow("visible");
  }

  // ------------------------------------------------------------ messages

  _message(ws, ev) {
    if (ws !== this._ws) return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { msg = null; }
    if (!msg || typeof msg !== "object") {
      this._emit("unknown", ev.data);
      return;
    }
    if (typeof msg.id === "string" && msg.id) this._push(msg);
    else this._reply(msg);
  }

  // _push handles a server push (anything with an id): moves the cursor,
  // drops duplicates, counts unread, emits.
  _push(msg) {
    const established = msg.type === "connection_established";
    if (established) this._established(msg);
    if (this._remember(msg)) { // else a duplicate: delivery is at least once
      if (!msg.replayed && this._countsAsUnread(msg)) this._setUnread(this._unread + 1);
      this._emit("message", msg);
      this._emit(EVENTS[msg.type] || "unknown", msg);
    }
    if (established && !this._catch.started) {
      this._catch.started = true;
      this._resume();
    }
  }

  _reply(msg) {
    if (typeof msg.unread_count === "number") this._setUnread(msg.unread_count); // history, read_state
    if (msg.type === "error") {
      const p = this._pending.shift();
      if (p) {
        this._clearTimeout(p.timer);
        p.reject(new RequestError(msg.code || "error", msg.message || "error", msg));
      }
    } else {
      const i = this._pending.findIndex((p) => p.replyType === msg.type);
      if (i >= 0) {
        const [p] = this._pending.splice(i, 1);
        this._clearTimeout(p.timer);
        p.resolve(msg);
      }
    }
    this._emit("message", msg);
    this._emit("unknown", msg);
  }

  // _established learns the connection's user: a tab that reconnects as the
  // same user keeps its own cursor; another user's starts from the stored one.
  _established(msg) {
    const user = msg.user_id == null ? "" : String(msg.user_id);
    if (user === this._userId) return;
    if (this._userId !== null) {
      this._seen = new Set();
      this._setUnread(0);
    }
    this._userId = user;
    this._cursor = this._load(user);
  }

  // _remember moves the resume cursor and reports whether msg is new.
  // Replayed notifications come in the order they were stored, so each one
  // moves the cursor (a duplicate too: a page of duplicates must not be asked
  // for again). A live one moves it only when no resume is in progress; one
  // that arrives during a resume is applied when the resume completes, and
  // only if that resume did not replay it (then the cursor is already past
  // it): otherwise the next resume page would start after it and skip what
  // was still to be replayed.
  _remember(msg) {
    if (msg.cursor) {
      if (msg.replayed) {
        this._catch.replayed.add(msg.id);
        this._setCursor(msg.cursor);
      } else if (this._catch.active) {
        this._catch.liveCursor = msg.cursor;
        this._catch.liveId = msg.id;
      } else {
        this._setCursor(msg.cursor);
      }
    }
    if (this._seen.has(msg.id)) return false;
    this._seen.add(msg.id);
    if (this._seen.size > this._o.maxSeenIds) this._seen.delete(this._seen.values().next().value);
    return true;
  }

  _resetCatchUp() {
    this._catch = { active: true, started: false, liveCursor: "", liveId: "", replayed: new Set(), count: 0 };
  }

  // _resume asks for what was stored after the cursor, page after page, then
  // syncs the unread count. A failed resume reconnects (with backoff), which
  // resumes again: the cursor never moves past what was not received.
  async _resume() {
    const gen = this._gen;
    try {
      for (;;) {
        const done = await this.request("resume", { after: this._cursor, limit: this._o.resumeLimit });
        if (gen !== this._gen) return;
        this._catch.count += done.count || 0;
        if (done.cursor) this._setCursor(done.cursor);
        if (!done.has_more) break;
      }
    } catch (err) {
      if (gen !== this._gen || !this._want) return;
      this._emit("error", err);
      this._retryAfterDrop("resume failed");
      return;
    }
    const c = this._catch;
    c.active = false;
    if (c.liveCursor && !c.replayed.has(c.liveId)) this._setCursor(c.liveCursor);
    c.liveCursor = c.liveId = "";
    c.replayed = new Set();
    this._attempt = 0; // a healthy connection: the next outage starts the backoff afresh
    this._emit("caughtUp", { replayed: c.count });
    this.history({ limit: 1 }).catch(() => {}); // the unread count, now that nothing is missing
  }

  _retryAfterDrop(reason) {
    const had = this._drop(1000, reason);
    if (had) this._emit("disconnected", { code: 1000, reason, wasClean: true, willReconnect: true });
    this._retry();
  }

  _load(user) {
    try { return this._storage.getItem(this._o.storageKeyPrefix + user) || ""; } catch { return ""; }
  }

  _setCursor(c) {
    if (!c || c === this._cursor) return;
    this._cursor = c;
    if (this._userId == null) return;
    try { this._storage.setItem(this._o.storageKeyPrefix + this._userId, c); } catch { /* full or blocked */ }
  }

  // ------------------------------------------------------------ bookkeeping

  // _waitingState is the state between connections: "connecting" until the
  // first connection opened, "reconnecting" after.
  _waitingState() {
    return this._everOpened ? "reconnecting" : "connecting";
  }

  _setState(s) {
    if (s === this._state) return;
    const previous = this._state;
    this._state = s;
    this._emit("stateChange", { state: s, previous });
  }

  _setUnread(n) {
    if (typeof n !== "number" || n === this._unread) return;
    this._unread = n;
    this._emit("unreadCountChange", n);
  }

  _removePending(p) {
    const i = this._pending.indexOf(p);
    if (i >= 0) this._pending.splice(i, 1);
  }

  _rejectPending(code, message) {
    const pending = this._pending;
    this._pending = [];
    for (const p of pending) {
      this._clearTimeout(p.timer);
      p.reject(new RequestError(code, message));
    }
  }

  _emit(event, arg) {
    const fns = this._listeners.get(event);
    if (!fns) return;
    for (const fn of [...fns]) {
      try {
        fn(arg);
      } catch (err) {
        // A listener's bug must not stop the others or the service: report it
        // the way an uncaught error in an event handler is reported.
        queueMicrotask(() => { throw err; });
      }
    }
  }
}

// defaultCountsAsUnread is the server's default rule: a stored push (it has
// a cursor) that is critical or of UNREAD_TYPES.
function defaultCountsAsUnread(msg) {
  return Boolean(msg.cursor) && (msg.critical === true || UNREAD_TYPES.includes(msg.type));
}

function withQueryToken(url, token) {
  const hash = url.indexOf("#");
  const base = hash >= 0 ? url.slice(0, hash) : url;
  return `${base}${base.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

globalThis.FbdiNotifications ??= Object.freeze({
  NotificationService, RequestError, backoffDelay, createMemoryStorage, EVENTS, REPLY_TYPES, UNREAD_TYPES, DEFAULTS,
});
