import assert from "node:assert/strict";
import { checkBatch, SopsegModel } from "../../src/model/sopseg_model.ts";

const root = new URL("../..", import.meta.url).pathname;
const PROBE = `${root}test/testdata/attention_probe`;
const LITE = `${root}models/sopseg-lite`;

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
