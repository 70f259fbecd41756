// Type-checks the TypeScript declarations of web/lib/ with the TypeScript
// compiler (a pinned devDependency), strict: the .d.ts files themselves, and
// types/usage.ts, which uses each module as a TypeScript caller would and
// marks with @ts-expect-error the misuses the declarations must refuse.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const tsc = fileURLToPath(new URL("bin/tsc", new URL(`file://${require.resolve("typescript/package.json")}`)));
const project = fileURLToPath(new URL("types/tsconfig.json", import.meta.url));

test("the declarations compile, strict, and type a caller's use of every module", () => {
  const r = spawnSync(process.execPath, [tsc, "-p", project, "--pretty", "false"], { encoding: "utf8" });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 0, `tsc -p ${project}:\n${r.stdout}${r.stderr}`);
});
