// Fakes for the unit tests of web/lib/notifications.js: a WebSocket the test
// plays the server of, a clock whose time moves only when told, and a window
// with online/offline and visibility. No test here is timed: time is the
// fake clock's.

import { NotificationService, createMemoryStorage } from "../../lib/notifications.js";

// FakeClock runs timers when advance() moves its time past them.
export class FakeClock {
  constructor() {
    this.time = 1_764_149_400_000;
    this.timers = new Map(); // handle -> {at, fn, ms}
    this.next = 1;
    this.setTimeout = (fn, ms) => {
      const h = this.next++;
      this.timers.set(h, { at: this.time + ms, fn, ms });
      return h;
    };
    this.clearTimeout = (h) => { this.timers.delete(h); };
    this.now = () => this.time;
  }

  // advance moves time forward by ms, running each timer that falls due, in order.
  async advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let due = null;
      for (const [h, t] of this.timers) if (t.at <= end && (!due || t.at < due[1].at)) due = [h, t];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
      await flush();
    }
    this.time = end;
  }

  // pending returns the delays of the timers not yet run.
  pending() {
    return [...this.timers.values()].map((t) => t.ms);
  }
}

// FakeWebSocket is one connection; the test plays the server: it opens,
// feeds and closes it. Each instance is appended to log.
export class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;

  constructor(url, protocols, log) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = FakeWebSocket.CONNECTING;
    this.sent = [];
    this.closed = null; // {code, reason} once the client closed it
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    log?.push(this);
  }

  send(data) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data));
  }

  close(code, reason) {
    this.closed = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  // The server's side.
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  receive(msg) {
    this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) });
  }

  serverClose(code = 1001, reason = "Going away") {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason, wasClean: true });
  }

  // sentOf returns the messages of this type the client sent.
  sentOf(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

// FakeWindow is an EventTarget with navigator.onLine and document.visibilityState.
export class FakeWindow extends EventTarget {
  constructor() {
    super();
    this.navigator = { onLine: true };
    this.document = { visibilityState: "visible" };
  }

  goOffline() {
    this.navigator.onLine = false;
    this.dispatchEvent(new Event("offline"));
  }

  goOnline() {
    this.navigator.onLine = true;
    this.dispatchEvent(new Event("online"));
  }

  setVisibility(v) {
    this.document.visibilityState = v;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}

// flush lets pending promise callbacks (a token, a reply) run.
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

// harness builds a service on the fakes. Every socket it opens is in
// h.sockets; h.ws() is the newest. Options override the test defaults.
export function harness(options = {}) {
  const log = [];
  const Ctor = class extends FakeWebSocket {
    constructor(url, protocols) { super(url, protocols, log); }
  };
  const clock = new FakeClock();
  const win = new FakeWindow();
  const storage = createMemoryStorage();
  let tokens = 0;
  const h = {
    clock, win, storage, sockets: log,
    tokenCalls: 0,
    ws: () => log[log.length - 1],
    events: [], // [name, arg] of every event, in order
  };
  const svc = new NotificationService({
    url: "wss://example.test/prod",
    getToken: async () => { h.tokenCalls++; return `token-${++tokens}`; },
    WebSocket: Ctor,
    clock,
    random: () => 1,
    storage,
    window: win,
    ...options,
  });
  h.svc = svc;
  for (const e of ["connected", "disconnected", "error", "connectionEstablished", "uploadStarted", "uploadProgress",
    "uploadCompleted", "uploadFailed", "notification", "unknown", "reconnect_failed", "caughtUp", "stateChange",
    "unreadCountChange"]) {
    svc.on(e, (arg) => h.events.push([e, arg]));
  }
  h.eventsOf = (name) => h.events.filter(([e]) => e === name).map(([, a]) => a);
  return h;
}

// catchUp takes the socket the service is opening, opens it, plays connection_established and an empty resume, and answers
// the unread count sync with unread. It returns the socket.
export async function catchUp(h, { user = "123", unread = 0, replay = [] } = {}) {
  await flush();
  const ws = h.ws();
  ws.open();
  ws.receive(established(user));
  const resume = ws.sentOf("resume").at(-1);
  for (const m of replay) ws.receive({ ...m, replayed: true });
  ws.receive({ type: "resume_complete", count: replay.length, has_more: false,
    cursor: replay.length ? replay.at(-1).cursor : resume.after });
  await flush();
  ws.receive({ type: "history", items: [], unread_count: unread, has_more: unread > 0 });
  await flush();
  return ws;
}

let seq = 0;

// established returns a connection_established message for user.
export function established(user = "123") {
  return { id: `EST${++seq}`, type: "connection_established", timestamp: "2026-11-26T09:30:00.123Z",
    message: "WebSocket connection established", user_id: user, connection_id: `conn${seq}` };
}

// note returns a notification with this id and cursor.
export function note(id, cursor, extra = {}) {
  return { id, type: "notification", timestamp: "2026-11-26T09:30:00.123Z", message: `note ${id}`, data: {},
    cursor, ...extra };
}
