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

Deno.test("SopsegModel.load() refuses options it cannot honour (a caller without types)", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ backend: "cuda" }, /Cannot use backend "cuda": valid backends are auto, wasm, webgpu/],
    [{ backend: "wasm", threads: 0 }, /threads must be an integer >= 1, got 0/],
    [{ backend: "wasm", sessions: 1.5 }, /sessions must be an integer >= 1, got 1\.5/],
  ];
  for (const [options, pattern] of cases) {
    await assert.rejects(() => SopsegModel.load(LITE, options as never), pattern);
  }
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
  // closed: a later call says so (it reopened sessions that nothing released)
  await assert.rejects(
    () => model.predict(checkBatch(model.manifest, 1)),
    /Cannot predict: model .*sopseg-lite was closed/,
  );
});

Deno.test("the shipped model's class prompt changes the masks; unknown is the default", async () => {
  const model = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
  try {
    const spec = model.manifest.classPrompt;
    assert.ok(spec, "the shipped model has a class prompt (class_prompt in its manifest)");
    assert.equal(model.classPromptIndex("Small-Vehicle"), 9);
    assert.equal(model.classPromptIndex("harbour"), 15);
    assert.equal(model.classPromptIndex("container-crane"), spec.unknownIndex);
    const base = checkBatch(model.manifest, 2);
    const run = (classes?: Int32Array) =>
      model.predict({ ...base, ...(classes ? { classes } : { classes: undefined }) });
    const none = await run();
    const unknown = await run(Int32Array.of(spec.unknownIndex, spec.unknownIndex));
    const known = await run(Int32Array.of(9, 1)); // small vehicle, ship
    assert.deepEqual(unknown.maskLogits, none.maskLogits);
    let maxDiff = 0;
    for (let i = 0; i < none.maskLogits.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(known.maskLogits[i]! - none.maskLogits[i]!));
    }
    assert.ok(maxDiff > 1e-2, `the class prompt moved the logits by only ${maxDiff}`);
    await assert.rejects(() => run(Int32Array.of(spec.size, 0)), /class prompt index 16 is not in/);
  } finally {
    await model.close();
  }
});
