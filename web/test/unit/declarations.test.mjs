// Checks that web/lib/notifications.d.ts declares everything notifications.js
// exports, and every public member of NotificationService, by parsing both
// (no TypeScript compiler is installed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as lib from "../../lib/notifications.js";

const js = await readFile(new URL("../../lib/notifications.js", import.meta.url), "utf8");
const dts = await readFile(new URL("../../lib/notifications.d.ts", import.meta.url), "utf8");

// declared returns the names a .d.ts exports.
function declared(text) {
  return new Set([...text.matchAll(/^export\s+(?:declare\s+)?(?:const|let|function|class|interface|type)\s+(\w+)/gm)].map((m) => m[1]));
}

// classBody returns the text of `declare class name { … }` in text.
function classBody(text, name) {
  const start = text.indexOf(`export declare class ${name} `);
  assert.ok(start >= 0, `class ${name} is declared`);
  let depth = 0;
  for (let i = text.indexOf("{", start); i < text.length; i++) {
    if (text[i] === "{") depth++;
    if (text[i] === "}" && --depth === 0) return text.slice(start, i);
  }
  throw new Error(`class ${name}: no closing brace`);
}

test("every export of notifications.js is declared in notifications.d.ts", () => {
  const exportedInSource = [...js.matchAll(/^export\s+(?:async\s+)?(?:const|let|function|class)\s+(\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...exportedInSource].sort(), Object.keys(lib).sort(), "the parse of the source finds every runtime export");
  const d = declared(dts);
  const missing = Object.keys(lib).filter((name) => !d.has(name));
  assert.deepEqual(missing, []);
});

test("every public member of the exported classes is declared", () => {
  for (const [name, cls] of Object.entries(lib).filter(([, v]) => typeof v === "function" && /^class\b/.test(v.toString()))) {
    const body = classBody(dts, name);
    const members = Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== "constructor" && !m.startsWith("_"));
    const missing = members.filter((m) => !new RegExp(`^\\s+(?:readonly\\s+)?${m}\\b`, "m").test(body));
    assert.deepEqual(missing, [], name);
  }
});

test("the events the service emits are the ones declared", () => {
  const emitted = new Set([...js.matchAll(/_emit\("(\w+)"/g)].map((m) => m[1]));
  for (const e of Object.values(lib.EVENTS)) emitted.add(e);
  const events = dts.slice(dts.indexOf("export interface NotificationEvents"));
  const block = events.slice(0, events.indexOf("\n}\n"));
  const declaredEvents = new Set([...block.matchAll(/^\s+(\w+):/gm)].map((m) => m[1]));
  assert.deepEqual([...emitted].sort(), [...declaredEvents].sort());
});
