// notification-center.js: the <fbdi-notification-center> custom element, a
// drop-in notification centre for the FBDI notifications API. No framework,
// no build step; it needs only notifications.js (and feed.js, which keeps its
// data). Shadow DOM with its own styles.
//
//   <script type="module" src="/lib/notification-center.js"></script>
//   <fbdi-notification-center open></fbdi-notification-center>
//   <script type="module">
//     document.querySelector("fbdi-notification-center").service = myNotificationService;
//   </script>
//
// or, letting the element create and connect its own service:
//
//   <fbdi-notification-center url="wss://…/prod" token-url="/api/notifications/token"></fbdi-notification-center>
//
// It shows a bell button with the unread count, and a panel listing
// notifications (newest first, unread ones marked) with Mark read, Archive
// and Mark all read; a transaction is one item with a progress bar
// (role=progressbar, aria-valuenow = steps completed, aria-valuetext naming
// the step) and its step names. Filters (All, Unread, one per category) narrow
// the list and load the matching history; Preferences shows a switch per
// category and channel. New items are announced through an aria-live region;
// every control is a button or a checkbox, so the keyboard works; Escape
// closes the panel.

import { NotificationService } from "./notifications.js";
import { NotificationFeed } from "./feed.js";

const STYLE = `
:host { display: inline-block; position: relative; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; }
:host([hidden]) { display: none; }
button { font: inherit; cursor: pointer; }
button:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
.bell { position: relative; border: 1px solid #d1d5db; background: #fff; border-radius: 999px; padding: .3rem .7rem; }
.bell svg { width: 1.1em; height: 1.1em; vertical-align: -.2em; }
.badge { display: inline-block; min-width: 1.3em; padding: 0 .35em; margin-left: .3em; border-radius: 999px; background: #b91c1c; color: #fff; font-size: .8em; text-align: center; }
.badge[data-count="0"] { background: #9ca3af; }
.panel { margin-top: .4rem; width: min(32rem, 92vw); background: #fff; border: 1px solid #e5e7eb; border-radius: .5rem; box-shadow: 0 4px 16px #0002; }
.panel[hidden] { display: none; }
.head { display: flex; align-items: center; gap: .5rem; padding: .5rem .75rem; border-bottom: 1px solid #e5e7eb; }
.head h2 { flex: 1; font-size: .95rem; margin: 0; }
.conn { font-size: .75rem; padding: .05rem .5rem; border-radius: 999px; background: #6b7280; color: #fff; }
.conn[data-state="open"] { background: #15803d; }
.conn[data-state="connecting"], .conn[data-state="reconnecting"] { background: #b45309; }
.link { border: 0; background: none; color: #1d4ed8; padding: .1rem .2rem; }
.link:disabled { color: #9ca3af; cursor: default; }
ul { list-style: none; margin: 0; padding: 0; max-height: 28rem; overflow: auto; }
li.item { display: grid; grid-template-columns: .6rem 1fr auto; gap: .5rem; padding: .55rem .75rem; border-bottom: 1px solid #f1f5f9; }
li.item .dot { width: .5rem; height: .5rem; margin-top: .4rem; border-radius: 50%; }
li.item[data-read="false"] { background: #eff6ff; }
li.item:focus-visible { outline: 2px solid #2563eb; outline-offset: -2px; }
li.item[data-read="false"] .dot { background: #2563eb; }
.title { font-weight: 600; }
.msg { color: #374151; overflow-wrap: anywhere; }
.time { color: #6b7280; font-size: .75rem; }
.empty { padding: 1rem .75rem; color: #6b7280; }
.bar { height: .5rem; margin: .35rem 0 .25rem; border-radius: .25rem; background: #e5e7eb; overflow: hidden; }
.bar > span { display: block; height: 100%; width: 0; background: #2563eb; transition: width .2s; }
.upload[data-outcome="completed"] .bar > span { background: #15803d; }
.upload[data-outcome="failed"] .bar > span { background: #b91c1c; }
ol.steps { margin: 0; padding-left: 1.2rem; font-size: .8rem; color: #6b7280; }
ol.steps li[data-status="processing"] { color: #1d2330; font-weight: 600; }
ol.steps li[data-status="processing"]::after { content: " …"; }
ol.steps li[data-status="completed"] { color: #15803d; }
ol.steps li[data-status="failed"] { color: #b91c1c; }
.outcome[data-outcome="completed"] { color: #15803d; font-weight: 600; }
.outcome[data-outcome="failed"] { color: #b91c1c; font-weight: 600; white-space: pre-wrap; }
.filters { display: flex; flex-wrap: wrap; gap: .3rem; padding: .4rem .75rem; border-bottom: 1px solid #e5e7eb; }
.chip { border: 1px solid #d1d5db; background: #fff; border-radius: 999px; padding: .05rem .6rem; font-size: .8rem; }
.chip[aria-pressed="true"] { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
.filters .sep { width: 1px; background: #e5e7eb; margin: 0 .2rem; }
.actions { display: flex; flex-direction: column; align-items: flex-end; }
.cat { color: #6b7280; font-size: .75rem; }
.crit { color: #b91c1c; font-size: .75rem; font-weight: 600; }
.prefs { padding: .5rem .75rem; border-bottom: 1px solid #e5e7eb; }
.prefs[hidden] { display: none; }
.prefs table { border-collapse: collapse; width: 100%; }
.prefs th, .prefs td { text-align: left; padding: .2rem .4rem; font-size: .85rem; }
.prefs td.ch { text-align: center; }
.note, .prefs-status { color: #6b7280; font-size: .75rem; margin: .3rem 0 0; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const BELL = `<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2"><path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/></svg>`;

const STATE_TEXT = { idle: "not connected", connecting: "connecting", open: "connected", reconnecting: "reconnecting", closed: "disconnected" };

let instances = 0;

/**
 * NotificationCenter is the <fbdi-notification-center> element. Give it a
 * NotificationService through its service property, or the attributes url
 * (default: this origin's ws:// or wss:// root), token-url (GET, answering
 * {"token": "..."}) and token-in ("protocol" or "query") to let it create,
 * connect and, when removed, disconnect its own. The attribute open shows the
 * panel; history-on-connect is how many history items it loads for their read
 * state after each resume (default 20).
 */
export class NotificationCenter extends HTMLElement {
  static get observedAttributes() { return ["open"]; }

  constructor() {
    super();
    this._n = ++instances;
    this._service = null;
    this._own = false; // the element created the service
    this._feed = null;
    this._off = null;
    this._rows = new Map(); // item key -> li
    this._announced = new Set();
    this._drawn = null;
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${STYLE}</style>
<button class="bell" part="bell" aria-haspopup="true" aria-expanded="false" aria-controls="panel-${this._n}">${BELL}<span class="sr">Notifications</span><span class="badge" data-count="0" aria-label="0 unread">0</span></button>
<div class="panel" id="panel-${this._n}" part="panel" role="region" aria-label="Notifications" hidden>
  <div class="head"><h2>Notifications</h2><span class="conn" data-state="idle">not connected</span>
    <button class="link prefs-toggle" type="button" aria-expanded="false" aria-controls="prefs-${this._n}" disabled>Preferences</button>
    <button class="link mark-all" type="button" disabled>Mark all read</button></div>
  <div class="prefs" id="prefs-${this._n}" role="region" aria-label="Notification preferences" hidden>
    <table><thead><tr><th scope="col">Category</th><th scope="col">In app</th><th scope="col">E-mail</th></tr></thead><tbody></tbody></table>
    <p class="note">Critical notifications (a failed upload) are always shown, even in a muted category.</p>
    <p class="prefs-status" role="status"></p>
  </div>
  <div class="filters" role="group" aria-label="Filter notifications">
    <button class="chip" type="button" data-filter="all" aria-pressed="true">All</button>
    <button class="chip" type="button" data-filter="unread" aria-pressed="false">Unread</button>
    <span class="sep" aria-hidden="true"></span><span class="cats"></span>
  </div>
  <ul aria-label="Notifications"></ul>
  <p class="empty">No notifications yet.</p>
</div>
<div class="sr live" role="status" aria-live="polite" aria-atomic="true"></div>`;
    this._bell = root.querySelector(".bell");
    this._badge = root.querySelector(".badge");
    this._panel = root.querySelector(".panel");
    this._conn = root.querySelector(".conn");
    this._markAll = root.querySelector(".mark-all");
    this._list = root.querySelector("ul");
    this._empty = root.querySelector(".empty");
    this._live = root.querySelector(".live");
    this._filters = root.querySelector(".filters");
    this._cats = root.querySelector(".cats");
    this._prefsToggle = root.querySelector(".prefs-toggle");
    this._prefs = root.querySelector(".prefs");
    this._prefsBody = root.querySelector(".prefs tbody");
    this._prefsStatus = root.querySelector(".prefs-status");
    this._filter = { unread: false, category: "" };
    this._filters.addEventListener("click", (ev) => {
      const b = ev.target.closest("button.chip");
      if (!b) return;
      if (b.dataset.filter === "all") this._filter.unread = false;
      else if (b.dataset.filter === "unread") this._filter.unread = true;
      else this._filter.category = this._filter.category === b.dataset.category ? "" : b.dataset.category;
      this._filterChanged();
    });
    this._prefsToggle.addEventListener("click", () => {
      const show = this._prefs.hidden;
      this._prefs.hidden = !show;
      this._prefsToggle.setAttribute("aria-expanded", String(show));
      if (show) this._loadPreferences();
    });
    this._prefsBody.addEventListener("change", (ev) => {
      const box = ev.target.closest("input[type=checkbox]");
      if (box) this._setChannel(box);
    });
    this._bell.addEventListener("click", () => { this.open = !this.open; });
    this.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.open) { this.open = false; this._bell.focus(); }
    });
    this._markAll.addEventListener("click", () => this._feed?.markRead("all").catch(() => {}));
    this._list.addEventListener("click", (ev) => {
      const b = ev.target.closest("button.mark-one, button.archive");
      if (!b) return;
      const li = b.closest("li");
      const focused = b.getRootNode().activeElement === b;
      if (b.classList.contains("archive")) {
        // The item goes: the focus moves to the next one, else the previous, else the bell.
        if (focused) (li.nextElementSibling || li.previousElementSibling || this._bell).focus();
        this._feed?.archive(b.dataset.key).catch(() => {});
        return;
      }
      // The button goes once the item is read: keep the focus on its item,
      // or, when Unread is shown (the item goes too), move it as archive does.
      if (focused) (this._filter.unread ? li.nextElementSibling || li.previousElementSibling || this._bell : li).focus();
      this._feed?.markRead(b.dataset.key).catch(() => {});
    });
  }

  /** service is the NotificationService shown; setting it follows that one (the element never connects a service it was given). */
  get service() { return this._service; }
  set service(s) {
    if (s === this._service) return;
    this._release();
    this._service = s || null;
    this._own = false;
    if (this._service) this._follow();
  }

  /** feed is the NotificationFeed the element draws (null without a service). */
  get feed() { return this._feed; }

  /** open says whether the panel is shown (the attribute open). */
  get open() { return this.hasAttribute("open"); }
  set open(v) { this.toggleAttribute("open", Boolean(v)); }

  connectedCallback() {
    if (!this._service && this.hasAttribute("token-url")) {
      this._service = new NotificationService({
        url: this.getAttribute("url") || `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/`,
        tokenIn: this.getAttribute("token-in") || undefined,
        getToken: async () => {
          const r = await fetch(this.getAttribute("token-url"), { credentials: "same-origin" });
          if (!r.ok) throw new Error(`token: HTTP ${r.status}`);
          return (await r.json()).token;
        },
      });
      this._own = true;
      this._follow();
    }
    if (this._own) this._service.connect();
  }

  disconnectedCallback() {
    if (this._own) this._service.disconnect();
  }

  attributeChangedCallback(name) {
    if (name !== "open") return;
    this._panel.hidden = !this.open;
    this._bell.setAttribute("aria-expanded", String(this.open));
  }

  _follow() {
    const limit = Number(this.getAttribute("history-on-connect") ?? 20);
    this._feed = new NotificationFeed(this._service, { historyOnConnect: Number.isFinite(limit) ? limit : 20 });
    this._off = this._feed.subscribe(() => this._draw());
    this._draw();
  }

  _release() {
    this._off?.();
    this._feed?.detach();
    if (this._own) this._service?.disconnect();
    this._feed = this._off = null;
    this._rows.clear();
    this._list.textContent = "";
    this._prefsBody.textContent = "";
  }

  // _draw brings the shadow DOM up to date with the feed's snapshot, in
  // place: rows are kept by key, so focus and scroll survive updates.
  _draw(force = false) {
    if (!this._feed) return;
    const snap = this._feed.snapshot();
    if (snap === this._drawn && !force) return;
    const first = this._drawn === null;
    this._drawn = snap;
    this._badge.textContent = String(snap.unreadCount);
    this._badge.dataset.count = String(snap.unreadCount);
    this._badge.setAttribute("aria-label", `${snap.unreadCount} unread`);
    this._conn.dataset.state = snap.state;
    this._conn.textContent = STATE_TEXT[snap.state] || snap.state;
    this._markAll.disabled = snap.state !== "open" || snap.unreadCount === 0;
    this._drawFilters(snap);
    this._drawPreferences(snap);
    const f = this._filter;
    const shown = snap.notifications.filter((it) => (!f.unread || !it.read) && (!f.category || it.category === f.category));
    this._empty.hidden = shown.length > 0;
    this._empty.textContent = snap.notifications.length ? "Nothing matches this filter." : "No notifications yet.";

    const uploads = new Map(snap.uploads.map((u) => [u.transactionId, u]));
    const keep = new Set();
    let ref = this._list.firstChild; // the row that should follow the next one
    for (const it of shown) {
      keep.add(it.key);
      let li = this._rows.get(it.key);
      if (!li) {
        li = this._row(it);
        this._rows.set(it.key, li);
        if (!first && !it.replayed && !this._announced.has(it.key)) this._announce(it);
      }
      this._announced.add(it.key);
      this._update(li, it, it.transactionId ? uploads.get(it.transactionId) : null);
      if (li === ref) ref = ref.nextSibling;
      else this._list.insertBefore(li, ref);
    }
    for (const [key, li] of this._rows) {
      if (!keep.has(key)) { li.remove(); this._rows.delete(key); }
    }
  }

  // _filterChanged draws the list anew and loads the history that matches the filter.
  _filterChanged() {
    this._draw(true);
    const f = this._filter;
    if (this._service?.state === "open") {
      this._feed?.history({ limit: 20, category: f.category || undefined, unreadOnly: f.unread }).catch(() => {});
    }
  }

  _drawFilters(snap) {
    const f = this._filter;
    if (f.category && !snap.categories.includes(f.category)) f.category = "";
    setAttr(this._filters.querySelector('[data-filter="all"]'), "aria-pressed", String(!f.unread));
    setAttr(this._filters.querySelector('[data-filter="unread"]'), "aria-pressed", String(f.unread));
    const have = [...this._cats.children].map((b) => b.dataset.category);
    if (have.join("\n") !== snap.categories.join("\n")) {
      // Rebuilt only when the categories change, keeping the focused chip focused.
      const focused = this.shadowRoot.activeElement?.dataset?.category;
      this._cats.textContent = "";
      for (const c of snap.categories) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "chip";
        b.dataset.filter = "category";
        b.dataset.category = c;
        b.textContent = c;
        this._cats.append(b);
        if (c === focused) b.focus();
      }
    }
    for (const b of this._cats.children) setAttr(b, "aria-pressed", String(b.dataset.category === f.category));
  }

  async _loadPreferences() {
    if (!this._feed) return;
    this._prefsStatus.textContent = "Loading…";
    try {
      await this._feed.preferences();
      this._prefsStatus.textContent = "";
    } catch {
      this._prefsStatus.textContent = "Preferences are not available.";
    }
  }

  // _drawPreferences keeps a row per category with a checkbox per channel, in place.
  _drawPreferences(snap) {
    const p = snap.preferences;
    this._prefsToggle.disabled = snap.state !== "open" && !p;
    if (!p) return;
    const rows = new Map([...this._prefsBody.children].map((tr) => [tr.dataset.category, tr]));
    let ref = this._prefsBody.firstChild;
    for (const c of snap.categories) {
      let tr = rows.get(c);
      if (!tr) {
        tr = document.createElement("tr");
        tr.dataset.category = c;
        tr.innerHTML = `<th scope="row"></th><td class="ch"><input type="checkbox" data-channel="in_app"></td><td class="ch"><input type="checkbox" data-channel="email"></td>`;
        tr.firstChild.textContent = c;
        for (const box of tr.querySelectorAll("input")) {
          box.dataset.category = c;
          box.setAttribute("aria-label", `${c}: ${box.dataset.channel === "email" ? "e-mail" : "in app"}`);
        }
      }
      rows.delete(c);
      const channels = p.categories[c] || p.defaults[c] || p.defaults["*"] || { in_app: true, email: false };
      for (const box of tr.querySelectorAll("input")) {
        if (!box.disabled) box.checked = channels[box.dataset.channel] === true;
      }
      if (tr === ref) ref = ref.nextSibling;
      else this._prefsBody.insertBefore(tr, ref);
    }
    for (const tr of rows.values()) tr.remove();
  }

  async _setChannel(box) {
    const { category, channel } = box.dataset;
    const want = box.checked;
    box.disabled = true;
    this._prefsStatus.textContent = "Saving…";
    try {
      await this._feed?.setPreferences({ [category]: { [channel]: want } });
      this._prefsStatus.textContent = "Saved.";
    } catch {
      box.checked = !want;
      this._prefsStatus.textContent = "Not saved: try again.";
    } finally {
      box.disabled = false;
      this._draw(true);
    }
  }

  _row(it) {
    const li = document.createElement("li");
    li.className = it.transactionId ? "item upload" : "item";
    li.dataset.key = it.key;
    li.tabIndex = -1; // focusable by script, not a Tab stop
    if (it.transactionId) li.dataset.transaction = it.transactionId;
    li.dataset.category = it.category;
    li.innerHTML = `<span class="dot" aria-hidden="true"></span><div class="body"><div class="title"></div><div class="msg"></div><span class="cat"></span> <span class="crit"></span></div>
<div class="actions"><button class="link mark-one" type="button">Mark read</button><button class="link archive" type="button">Archive</button></div>`;
    li.querySelector(".mark-one").dataset.key = it.key;
    li.querySelector(".archive").dataset.key = it.key;
    li.querySelector(".cat").textContent = it.category;
    if (it.transactionId) {
      const body = li.querySelector(".body");
      body.insertAdjacentHTML("beforeend", `<div class="bar" role="progressbar" aria-valuemin="0"><span></span></div><ol class="steps"></ol><div class="outcome"></div>`);
    }
    body(li).querySelector(".title").textContent = it.transactionId ? `Transaction ${it.transactionId}` : "Notification";
    return li;
  }

  _update(li, it, u) {
    li.dataset.read = String(it.read);
    li.setAttribute("aria-label", `${it.read ? "" : "Unread: "}${it.transactionId ? `Transaction ${it.transactionId}` : it.message}`);
    setText(li.querySelector(".msg"), u ? "" : it.message);
    const mark = li.querySelector(".mark-one");
    mark.hidden = it.read;
    const what = it.transactionId ? `transaction ${it.transactionId}` : it.message;
    mark.setAttribute("aria-label", `Mark read: ${what}`);
    setAttr(li.querySelector(".archive"), "aria-label", `Archive: ${what}`);
    setText(li.querySelector(".crit"), it.critical ? "critical" : "");
    if (!u) return;
    li.dataset.outcome = u.outcome || "running";
    const bar = li.querySelector(".bar");
    const total = u.totalSteps;
    setAttr(bar, "aria-valuemax", String(total));
    setAttr(bar, "aria-valuenow", String(u.completed));
    setAttr(bar, "aria-label", `Transaction ${u.transactionId}`);
    const text = u.outcome === "completed" ? `Completed: all ${total} steps`
      : u.outcome === "failed" ? `Failed${u.current ? ` at step ${u.current} of ${total}: ${u.currentStep}` : ""}`
      : u.current ? `Step ${u.current} of ${total}: ${u.currentStep} (${u.currentStatus})` : "Started";
    setAttr(bar, "aria-valuetext", text);
    setAttr(bar, "data-step", String(u.current));
    bar.firstElementChild.style.width = `${(100 * u.completed) / total}%`;
    const ol = li.querySelector("ol.steps");
    while (ol.children.length < u.steps.length) ol.append(document.createElement("li"));
    u.steps.forEach((s, i) => {
      const sli = ol.children[i];
      setAttr(sli, "data-step", String(s.number));
      setAttr(sli, "data-status", s.status);
      setText(sli, s.status === "pending" ? s.name : `${s.name} — ${s.status}${s.message ? `: ${s.message}` : ""}`);
    });
    const out = li.querySelector(".outcome");
    if (u.outcome) {
      setAttr(out, "data-outcome", u.outcome);
      setText(out, u.outcome === "failed" ? `${u.message}\n${u.error || ""}`.trim() : u.message);
    }
  }

  _announce(it) {
    this._live.textContent = it.transactionId ? `Transaction ${it.transactionId}: ${it.message}` : `New notification: ${it.message}`;
  }
}

function body(li) { return li.querySelector(".body"); }

function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

function setAttr(el, name, value) { if (el.getAttribute(name) !== value) el.setAttribute(name, value); }

if (globalThis.customElements && !customElements.get("fbdi-notification-center")) {
  customElements.define("fbdi-notification-center", NotificationCenter);
}
