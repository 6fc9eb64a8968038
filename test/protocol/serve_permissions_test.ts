import assert from "node:assert/strict";
import { scopedPermissions } from "../../src/cli/permissions.ts";

const SRC = new URL("../../src", import.meta.url).pathname;

Deno.test("scopedPermissions() for serve reads the model, the npm cache, the code, --read and --write; writes --write only", () => {
  const flags = scopedPermissions(
    "serve",
    ["--read", "/nonexistent/data", "--write", "/nonexistent/out", "--model", "/nonexistent/m"],
    { HOME: "/h" },
  );
  assert.deepEqual(flags, [
    `--allow-read=/h/.cache/deno/npm,${SRC},/nonexistent/m,/nonexistent/data,/nonexistent/out`,
    "--allow-write=/nonexistent/out",
  ]);
});

Deno.test("scopedPermissions() for serve without --write grants no writes at all", () => {
  const flags = scopedPermissions("serve", ["--read", "/nonexistent/data"], { HOME: "/h" });
  assert.equal(flags.length, 1);
  assert.match(flags[0]!, /^--allow-read=/);
});
