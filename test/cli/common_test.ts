import assert from "node:assert/strict";
import { backendFlag, parseFlags, UsageError } from "../../src/cli/common.ts";

Deno.test("backendFlag: auto by default, a known name as given, else a usage error listing them", () => {
  assert.equal(backendFlag(undefined), "auto");
  assert.equal(backendFlag("webgpu"), "webgpu");
  assert.throws(
    () => backendFlag("cuda"),
    (e) => e instanceof UsageError && /valid backends are auto, wasm, webgpu/.test(e.message),
  );
});

Deno.test("parseFlags: a value that starts with '-' gets the --flag=VALUE advice; other errors as node words them", () => {
  const options = { shard: { type: "string" as const }, out: { type: "string" as const } };
  assert.throws(
    () => parseFlags({ args: ["--shard", "-1/3"], options }),
    (e) =>
      e instanceof UsageError &&
      e.message ===
        '--shard: a value that starts with "-" reads as another flag; give it as --shard=VALUE',
  );
  assert.equal(parseFlags({ args: ["--shard=-1/3"], options }).values.shard, "-1/3");
  assert.throws(
    () => parseFlags({ args: ["--nope"], options }),
    (e) => e instanceof UsageError && /--nope/.test(e.message),
  );
});
