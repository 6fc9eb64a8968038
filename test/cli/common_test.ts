import assert from "node:assert/strict";
import { backendFlag, UsageError } from "../../src/cli/common.ts";

Deno.test("backendFlag: auto by default, a known name as given, else a usage error listing them", () => {
  assert.equal(backendFlag(undefined), "auto");
  assert.equal(backendFlag("webgpu"), "webgpu");
  assert.throws(
    () => backendFlag("cuda"),
    (e) => e instanceof UsageError && /valid backends are auto, wasm, webgpu/.test(e.message),
  );
});
