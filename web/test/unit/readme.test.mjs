// Checks that web/lib/README.md, the front-end developer's documentation,
// names everything a caller can use: each module's exports, the service's
// options and events, the element's attributes, properties and CSS parts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

globalThis.HTMLElement ??= class HTMLElement {}; // notification-center.js extends it; node has none

const read = (name) => readFile(new URL(`../../lib/${name}`, import.meta.url), "utf8");
const readme = await read("README.md");
const notificationsDts = await read("notifications.d.ts");
const centerDts = await read("notification-center.d.ts");
const centerJs = await read("notification-center.js");

// members returns the member names declared in the interface name of a .d.ts.
function members(dts, name) {
  const start = dts.indexOf(`export interface ${name} `);
  assert.ok(start >= 0, `${name} is declared`);
  const body = dts.slice(start, dts.indexOf("\n}\n", start));
  return [...body.matchAll(/^ {2}"?([\w-]+)"?\??:/gm)].map((m) => m[1]);
}

const named = (word) => readme.includes(`\`${word}\``);

test("the README names what a caller can use", async () => {
  const cases = [];
  for (const mod of ["notifications", "feed", "notification-center", "react", "vue"]) {
    cases.push({ name: `exports of ${mod}.js`, words: Object.keys(await import(`../../lib/${mod}.js`)) });
  }
  cases.push(
    { name: "options of NotificationService", words: members(notificationsDts, "NotificationOptions") },
    { name: "events of NotificationService", words: members(notificationsDts, "NotificationEvents") },
    { name: "attributes of the element", words: members(centerDts, "NotificationCenterAttributes") },
    { name: "properties of the element", words: ["service", "feed", "open"] },
  );
  for (const c of cases) {
    assert.ok(c.words.length > 0, `${c.name}: found some`);
    assert.deepEqual(c.words.filter((w) => !named(w)), [], c.name);
  }
  const parts = [...centerJs.matchAll(/\bpart="([\w-]+)"/g)].map((m) => m[1]);
  assert.deepEqual(parts.filter((p) => !readme.includes(`::part(${p})`)), [], "CSS parts of the element");
});
