import assert from "node:assert/strict";
import { checkBatch, SopsegModel } from "../../src/model/sopseg_model.ts";
import { probeWebGpu } from "../../src/model/ort_adapter.ts";
import { compareOutputs, PARITY_TOLERANCE } from "../../src/model/parity.ts";

const root = new URL("../..", import.meta.url).pathname;
const PROBE = `${root}test/testdata/attention_probe`;
const LITE = `${root}models/sopseg-lite`;
const gpu = await probeWebGpu();

Deno.test({
  name: "SopsegModel.load() auto rejects a WebGPU backend whose outputs disagree and says so",
  ignore: !gpu.available,
  async fn() {
    // The probe's encoder holds a 4096-token attention, the case USERS.md saw go ~30 % wrong
    // on llvmpipe. The self-check must catch it and fall back to WASM.
    const notes: string[] = [];
    const model = await SopsegModel.load(PROBE, {
      backend: "auto",
      threads: 1,
      allowSoftwareWebGpu: true,
      onLog: (m) => notes.push(m),
    });
    try {
      assert.equal(model.backend, "wasm");
      assert.ok(model.parity, "the self-check ran");
      assert.equal(model.parity.ok, false);
      assert.ok(model.parity.worst!.relDiff > PARITY_TOLERANCE);
      assert.match(model.backendReason, /disagrees with WASM.*using wasm/);
      assert.deepEqual(notes, [model.backendReason]);
    } finally {
      await model.close();
    }
  },
});

Deno.test("SopsegModel.load() auto skips a software WebGPU adapter unless allowed", async () => {
  const model = await SopsegModel.load(PROBE, { backend: "auto", threads: 1 });
  try {
    assert.equal(model.backend, "wasm");
    if (gpu.available && gpu.software) assert.match(model.backendReason, /software renderer/);
    if (!gpu.available) assert.match(model.backendReason, /WebGPU unavailable/);
  } finally {
    await model.close();
  }
});

Deno.test("SopsegModel.load() names a directory without a manifest", async () => {
  await assert.rejects(
    () => SopsegModel.load(`${root}test`, { backend: "wasm" }),
    /Cannot load model .*test: no manifest.json there/,
  );
});

Deno.test("SopsegModel.load() names a graph that lacks a manifest tensor", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const manifest = JSON.parse(await Deno.readTextFile(`${PROBE}/manifest.json`));
    manifest.decoder.outputs.extra_output = [-1, 1];
    await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
    await Deno.copyFile(`${PROBE}/encoder.onnx`, `${dir}/encoder.onnx`);
    await Deno.copyFile(`${PROBE}/decoder.onnx`, `${dir}/decoder.onnx`);
    await assert.rejects(
      () => SopsegModel.load(dir, { backend: "wasm", threads: 1 }),
      /decoder graph has no output "extra_output" named in manifest.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "SopsegModel WebGPU and WASM agree on the shipped model",
  ignore: !gpu.available,
  async fn() {
    const wasm = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
    const webgpu = await SopsegModel.load(LITE, { backend: "webgpu" });
    try {
      const batch = checkBatch(wasm.manifest, 2);
      const a = await wasm.predict(batch);
      const b = await webgpu.predict(batch);
      const r = compareOutputs(
        { mask: { data: a.maskLogits, dims: [2] }, iou: { data: a.iou, dims: [2] } },
        { mask: { data: b.maskLogits, dims: [2] }, iou: { data: b.iou, dims: [2] } },
      );
      assert.ok(r.ok, JSON.stringify(r.outputs));
    } finally {
      await wasm.close();
      await webgpu.close();
    }
  },
});

Deno.test("SopsegModel.predict() returns one mask and one IoU per batch item", async () => {
  const model = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
  try {
    const n = model.manifest.inputSize;
    const out = await model.predict(checkBatch(model.manifest, 3));
    assert.equal(out.maskLogits.length, 3 * n * n);
    assert.equal(out.iou.length, 3);
    assert.ok(out.maskLogits.every(Number.isFinite));
    // Batching must not change results: item 0 alone equals item 0 of the batch.
    const one = await model.predict(checkBatch(model.manifest, 1));
    let maxDiff = 0;
    for (let i = 0; i < n * n; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(one.maskLogits[i]! - out.maskLogits[i]!));
    }
    assert.ok(maxDiff < 1e-3, `batch changed item 0 by ${maxDiff}`);
  } finally {
    await model.close();
  }
});
