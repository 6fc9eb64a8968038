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
  name: "SopsegModel.load() auto keeps the asked-for session pool when it falls back to WASM",
  ignore: !available,
  fn() {
    const p = result.pooled;
    assert.equal(p.backend, "wasm");
    assert.equal(p.parityOk, false);
    assert.equal(p.concurrency, 2);
    assert.match(p.reason, /disagrees with WASM.*using wasm \(2 sessions x 1 thread\)$/);
  },
});

Deno.test({
  name: "SopsegModel WebGPU and WASM agree on the shipped model",
  ignore: !available,
  fn() {
    assert.ok(result.lite.ok, JSON.stringify(result.lite.outputs));
  },
});

Deno.test({
  name: "SopsegModel.load() auto times WebGPU against WASM and runs the faster",
  ignore: !available,
  fn() {
    // The shipped model agrees on both backends, so the choice is the speed check's. It gives
    // both times; on a software adapter (llvmpipe: seconds per instance) WASM must win.
    const r = result.race;
    assert.equal(r.parityOk, true);
    assert.deepEqual(r.notes, [r.reason]);
    const m = /\(([\d.]+) ms per instance against WASM's ([\d.]+) ms, batches of 2/.exec(r.reason);
    assert.ok(m, r.reason);
    const [webgpu, wasm] = [Number(m[1]), Number(m[2])];
    assert.ok(webgpu > 0 && wasm > 0, r.reason);
    assert.equal(r.backend, webgpu < wasm ? "webgpu" : "wasm");
    if (result.gpu.software) {
      assert.equal(r.backend, "wasm");
      assert.match(r.reason, /agrees with WASM .* but is slower here .* using wasm$/);
    }
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
