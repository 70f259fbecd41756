// The library's size as a browser downloads it, measured and held to a
// budget: each public entry bundled with its imports by esbuild (a pinned
// devDependency), minified, then gzipped at level 9. The pages serve the
// modules as they are; this is the size a bundling application adds, and a
// static check like the bootstraps' 10 MB budget. Budgets are about 25% above
// the sizes measured when they were set (see the comment of each).

import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const lib = new URL("../../lib/", import.meta.url);

const cases = [
  // 11860 minified, 3968 gzipped when set (with preferences, archive and filters).
  { name: "notifications.js alone", entry: "notifications.js", inputs: ["notifications.js"], minBudget: 14_800, gzipBudget: 5_000 },
  // 7380, 2576.
  { name: "feed.js alone", entry: "feed.js", inputs: ["feed.js"], minBudget: 9_200, gzipBudget: 3_200 },
  // 35006, 11036 (filters, archive and the preferences panel).
  { name: "notification-center.js with its imports", entry: "notification-center.js", inputs: ["notifications.js", "feed.js", "notification-center.js"], minBudget: 43_700, gzipBudget: 13_800 },
  // 17906, 5895; React is the application's.
  { name: "react.js with its imports", entry: "react.js", inputs: ["notifications.js", "feed.js", "react.js"], minBudget: 22_400, gzipBudget: 7_400 },
  // 17658, 5821; Vue is the application's (external).
  { name: "vue.js with its imports, vue external", entry: "vue.js", external: ["vue"], inputs: ["notifications.js", "feed.js", "vue.js"], minBudget: 22_100, gzipBudget: 7_300 },
];

test("each entry's minified and gzipped size is within its budget", async (t) => {
  for (const c of cases) {
    const r = await esbuild.build({
      entryPoints: [new URL(c.entry, lib).pathname], bundle: true, minify: true, write: false, format: "esm",
      external: c.external || [], metafile: true, logLevel: "silent",
    });
    const inputs = Object.entries(r.metafile.inputs);
    assert.deepEqual(inputs.map(([path]) => path.split("/").at(-1)).sort(), [...c.inputs].sort(), `${c.name}: what the bundle holds`);
    const raw = inputs.reduce((sum, [, i]) => sum + i.bytes, 0);
    assert.equal(r.outputFiles.length, 1, c.name);
    const minified = r.outputFiles[0].contents;
    const gzipped = gzipSync(minified, { level: constants.Z_BEST_COMPRESSION }).length;
    t.diagnostic(`${c.name}: ${raw} bytes raw, ${minified.length} minified, ${gzipped} gzipped (budgets ${c.minBudget}, ${c.gzipBudget})`);
    assert.ok(minified.length <= c.minBudget, `${c.name}: ${minified.length} bytes minified, over the budget of ${c.minBudget}`);
    assert.ok(gzipped <= c.gzipBudget, `${c.name}: ${gzipped} bytes gzipped, over the budget of ${c.gzipBudget}`);
  }
});
