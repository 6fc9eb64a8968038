import assert from "node:assert/strict";
import { PARITY_TOLERANCE } from "../../src/model/parity.ts";

const script = new URL("./_webgpu_check.ts", import.meta.url).pathname;
const run = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", script],
  stdout: "piped",
  stderr: "piped",
}).output();
const line = new TextDecoder().decode(run.stdout).trim().split("\n").pop() ?? "";
const result = line.startsWith("{") ? JSON.parse(line) : null;
const stderr = new TextDecoder().decode(run.stderr);
const available = result?.gpu?.available === true;

Deno.test("WebGPU checks ran and printed their results", () => {
  assert.ok(result, `the WebGPU check printed nothing (exit ${run.code}): ${stderr}`);
});

Deno.test({
  name: "SopsegModel.load() auto rejects a WebGPU backend whose outputs disagree and says so",
  ignore: !available,
  fn() {
    // The probe's encoder holds a 4096-token attention, the case USERS.md saw go ~30 % wrong
    // on llvmpipe. The self-check must catch it and fall back to WASM.
    const p = result.probe;
    assert.equal(p.backend, "wasm");
    assert.equal(p.parity.ok, false);
    assert.ok(p.parity.worst.relDiff > PARITY_TOLERANCE);
    assert.match(p.reason, /disagrees with WASM.*using wasm/);
    assert.deepEqual(p.notes, [p.reason]);
  },
});

Deno.test({
  name: "SopsegModel WebGPU and WASM agree on the shipped model",
  ignore: !available,
  fn() {
    assert.ok(result.lite.ok, JSON.stringify(result.lite.outputs));
  },
});

Deno.test("SopsegModel.load() auto skips a software WebGPU adapter unless allowed", () => {
  assert.equal(result.plainAuto.backend, "wasm");
  if (result.gpu.available && result.gpu.software) {
    assert.match(result.plainAuto.reason, /software renderer/);
  }
  if (!result.gpu.available) assert.match(result.plainAuto.reason, /WebGPU unavailable/);
});

Deno.test("SopsegModel.load() auto runs one batch of work on WASM without a self-check", () => {
  // Allowed to use the software adapter, and told there is one batch: the self-check alone
  // would run a WASM batch, so auto does not probe (where the adapter is used for more
  // batches, the test above sees the self-check run instead).
  const one = result.oneBatch;
  assert.equal(one.backend, "wasm");
  assert.match(one.reason, /^auto: one batch of work/);
  assert.deepEqual(one.notes, [one.reason]);
  if (available) assert.equal(result.probe.parity === null, false);
});
