// Checks that each module of web/lib/ has TypeScript declarations beside it
// that declare everything the module exports, every public member of its
// exported classes, the events the service emits and the attributes the
// element reads, by parsing both. types.test.mjs compiles the declarations.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

// notification-center.js defines a class that extends HTMLElement, which node
// does not have; with no customElements it defines no element.
globalThis.HTMLElement ??= class HTMLElement {};

// A service the feed can follow without a connection.
const quietService = { on: () => () => {}, state: "idle", unreadCount: 0, userId: null };

// modules are the library's modules; instances builds an instance of an exported
// class, where one can be built in node, so that its own public properties are checked too.
const modules = [
  { name: "notifications", instances: { NotificationService: (lib) => new lib.NotificationService({ url: "ws://h/", token: "t", window: null }) } },
  { name: "feed", instances: { NotificationFeed: (lib) => new lib.NotificationFeed(quietService) } },
  { name: "notification-center", instances: {} },
  { name: "react", instances: {} },
  { name: "vue", instances: {} },
];

for (const m of modules) {
  const url = new URL(`../../lib/${m.name}.js`, import.meta.url);
  m.lib = await import(url);
  m.js = await readFile(url, "utf8");
  m.dts = await readFile(new URL(`../../lib/${m.name}.d.ts`, import.meta.url), "utf8");
}
const byName = Object.fromEntries(modules.map((m) => [m.name, m]));

// declared returns the names a .d.ts exports.
function declared(text) {
  return new Set([...text.matchAll(/^export\s+(?:declare\s+)?(?:const|let|function|class|interface|type)\s+(\w+)/gm)].map((m) => m[1]));
}

// block returns the text of the `{ … }` that follows the first occurrence of head in text.
function block(text, head) {
  const start = text.indexOf(head);
  assert.ok(start >= 0, `${head} is declared`);
  let depth = 0;
  for (let i = text.indexOf("{", start); i < text.length; i++) {
    if (text[i] === "{") depth++;
    if (text[i] === "}" && --depth === 0) return text.slice(start, i);
  }
  throw new Error(`${head}: no closing brace`);
}

// declaresMember reports whether a class body declares member (a property, method or accessor).
function declaresMember(body, member, { isStatic = false } = {}) {
  const prefix = isStatic ? "static\\s+" : "(?!static\\b)";
  return new RegExp(`^\\s+${prefix}(?:readonly\\s+)?(?:get\\s+|set\\s+)?${member}\\b`, "m").test(body);
}

const isClass = (v) => typeof v === "function" && /^class\b/.test(v.toString());

test("every export of every module is declared in the .d.ts beside it", () => {
  for (const m of modules) {
    const exportedInSource = [...m.js.matchAll(/^export\s+(?:async\s+)?(?:const|let|function|class)\s+(\w+)/gm)].map((x) => x[1]);
    assert.deepEqual(exportedInSource.sort(), Object.keys(m.lib).sort(), `${m.name}: the parse of the source finds every runtime export`);
    const d = declared(m.dts);
    const missing = Object.keys(m.lib).filter((name) => !d.has(name));
    assert.deepEqual(missing, [], m.name);
  }
});

test("every public member of the exported classes is declared", () => {
  let classes = 0;
  for (const m of modules) {
    for (const [name, cls] of Object.entries(m.lib).filter(([, v]) => isClass(v))) {
      classes++;
      const body = block(m.dts, `export declare class ${name} `);
      const isPublic = (p) => !p.startsWith("_");
      const members = Object.getOwnPropertyNames(cls.prototype).filter((p) => p !== "constructor" && isPublic(p));
      const statics = Object.getOwnPropertyNames(cls).filter((p) => !["length", "name", "prototype"].includes(p) && isPublic(p));
      const own = m.instances[name] ? Object.keys(m.instances[name](m.lib)).filter(isPublic) : [];
      assert.deepEqual(members.filter((p) => !declaresMember(body, p)), [], `${m.name}.${name}: prototype members`);
      assert.deepEqual(statics.filter((p) => !declaresMember(body, p, { isStatic: true })), [], `${m.name}.${name}: static members`);
      assert.deepEqual(own.filter((p) => !declaresMember(body, p)), [], `${m.name}.${name}: instance properties`);
    }
  }
  assert.equal(classes, 4, "NotificationService, RequestError, NotificationFeed, NotificationCenter");
});

test("the events the service emits are the ones declared", () => {
  const { js, dts, lib } = byName.notifications;
  const emitted = new Set([...js.matchAll(/_emit\("(\w+)"/g)].map((m) => m[1]));
  for (const e of Object.values(lib.EVENTS)) emitted.add(e);
  const declaredEvents = new Set([...block(dts, "export interface NotificationEvents").matchAll(/^\s+(\w+):/gm)].map((m) => m[1]));
  assert.deepEqual([...emitted].sort(), [...declaredEvents].sort());
});

test("the attributes the element reads are the ones declared, and its tag is in HTMLElementTagNameMap", () => {
  const { js, dts, lib } = byName["notification-center"];
  const used = new Set([...js.matchAll(/(?:get|has|toggle)Attribute\("([\w-]+)"/g)].map((m) => m[1]));
  for (const a of lib.NotificationCenter.observedAttributes) used.add(a);
  const attrs = new Set([...block(dts, "export interface NotificationCenterAttributes").matchAll(/^\s+"?([\w-]+)"?\?:/gm)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), [...attrs].sort());

  const tags = [...js.matchAll(/customElements\.define\("([\w-]+)"/g)].map((m) => m[1]);
  const mapped = [...block(dts, "interface HTMLElementTagNameMap").matchAll(/^\s+"([\w-]+)":\s*(\w+);/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(mapped, tags.map((t) => [t, "NotificationCenter"]));
});
