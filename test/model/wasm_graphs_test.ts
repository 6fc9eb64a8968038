/**
 * The pre-optimised WASM graphs (`wasm_graphs` in the manifest, made by
 * training/optimize_graphs.ts): made from the shipped .onnx files, loaded by the
 * WASM backend, and giving the masks the .onnx graphs give.
 */
import assert from "node:assert/strict";
import { checkBatch, SopsegModel } from "../../src/model/sopseg_model.ts";
import { graphSets, loadManifest } from "../../src/model/manifest.ts";

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;

async function sha256(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A copy of the shipped model directory; `edit` changes its manifest. */
async function modelCopy(edit: (m: Record<string, unknown>) => void): Promise<string> {
  const dir = await Deno.makeTempDir();
  for await (const e of Deno.readDir(LITE)) {
    if (e.isFile && /\.(onnx|ort)$/.test(e.name)) {
      await Deno.symlink(`${LITE}/${e.name}`, `${dir}/${e.name}`);
    }
  }
  const manifest = JSON.parse(await Deno.readTextFile(`${LITE}/manifest.json`));
  edit(manifest);
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
  return dir;
}

Deno.test("the shipped model's WASM graphs were made from its .onnx files as they are now", async () => {
  const m = await loadManifest(LITE);
  for (const set of graphSets(m)) {
    const pre = set.wasmGraphs;
    assert.ok(
      pre,
      `models/sopseg-lite has no wasm_graphs for ${set.inputSize}: run model:optimize`,
    );
    for (const file of [set.encoder.file, set.decoder.file]) {
      assert.equal(
        pre.madeFromSha256[file],
        await sha256(`${LITE}/${file}`),
        `${file} changed since the WASM graphs were made: run deno task model:optimize`,
      );
    }
  }
});

Deno.test("the WASM graphs give the .onnx graphs' masks (logits within 1e-4)", async () => {
  const plain = await modelCopy((m) => {
    delete m.wasm_graphs;
    delete (m.small_graphs as Record<string, unknown> | undefined)?.wasm_graphs;
  });
  const a = await SopsegModel.load(LITE, { backend: "wasm", threads: 1, smallGraphs: true });
  const b = await SopsegModel.load(plain, { backend: "wasm", threads: 1, smallGraphs: true });
  try {
    for (const set of graphSets(a.manifest)) await compareSet(set.inputSize);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(plain, { recursive: true });
  }

  async function compareSet(inputSize: number) {
    const batch = checkBatch(a.manifest, 3, inputSize);
    const classes = Int32Array.of(0, 1, 9);
    const pa = await a.predict({ ...batch, classes });
    const pb = await b.predict({ ...batch, classes });
    let worst = 0, flips = 0, positive = 0;
    for (let i = 0; i < pa.maskLogits.length; i++) {
      const x = pa.maskLogits[i]!, y = pb.maskLogits[i]!;
      worst = Math.max(worst, Math.abs(x - y));
      if (x > 0 !== y > 0 && Math.abs(y) > 1e-3) flips++;
      if (y > 0) positive++;
    }
    const at = `at input size ${inputSize}`;
    assert.ok(positive > 100, `the check batch should give some mask ${at} (${positive} pixels)`);
    assert.ok(worst <= 1e-4, `logits differ by up to ${worst} ${at}`);
    assert.equal(flips, 0, `mask pixels differ ${at}`);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(pa.iou[i]! - pb.iou[i]!) <= 1e-5, at);
  }
});

Deno.test("a manifest naming a missing WASM graph fails, naming the file", async () => {
  const dir = await modelCopy((m) => {
    (m.wasm_graphs as Record<string, unknown>).decoder = "gone.wasm.ort";
  });
  try {
    await assert.rejects(
      () => SopsegModel.load(dir, { backend: "wasm", threads: 1 }),
      /Cannot load model .*: cannot read gone\.wasm\.ort/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing small WASM graph fails the load when small graphs are on, not off", async () => {
  const dir = await modelCopy((m) => {
    const small = m.small_graphs as { wasm_graphs: Record<string, unknown> };
    small.wasm_graphs.encoder = "gone_small.wasm.ort";
  });
  try {
    await assert.rejects(
      () => SopsegModel.load(dir, { backend: "wasm", threads: 1, smallGraphs: true }),
      /Cannot load model .*: cannot read gone_small\.wasm\.ort/,
    );
    const model = await SopsegModel.load(dir, { backend: "wasm", threads: 1, smallGraphs: false });
    await model.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a load that does not say follows the manifest's small_graphs.default", async () => {
  for (const byDefault of [true, false]) {
    const dir = await modelCopy((m) => {
      (m.small_graphs as Record<string, unknown>).default = byDefault;
    });
    try {
      const plain = await SopsegModel.load(dir, { backend: "wasm", threads: 1 });
      const off = await SopsegModel.load(dir, { backend: "wasm", threads: 1, smallGraphs: false });
      const on = await SopsegModel.load(dir, { backend: "wasm", threads: 1, smallGraphs: true });
      try {
        const small = on.manifest.smallGraphs;
        assert.ok(small, "the shipped model has small graphs");
        assert.equal(
          plain.manifest.smallGraphs?.inputSize ?? null,
          byDefault ? small.inputSize : null,
        );
        assert.equal(
          plain.inputSizeFor(small.maxCropSide),
          byDefault ? small.inputSize : plain.manifest.inputSize,
        );
        assert.equal(off.manifest.smallGraphs, null, "smallGraphs: false overrides the default");
      } finally {
        for (const m of [plain, off, on]) await m.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("openGraphSets opens every set's sessions now, in each session of a pool", async () => {
  const ref = await SopsegModel.load(LITE, { backend: "wasm", threads: 1, smallGraphs: true });
  try {
    const small = ref.manifest.smallGraphs;
    assert.ok(small, "the shipped model has small graphs");
    const batch = () => checkBatch(ref.manifest, 2, small.inputSize);
    const expected = await ref.predict(batch());
    const smallFiles = [small.wasmGraphs!.encoder, small.wasmGraphs!.decoder];
    for (const sessions of [1, 2]) {
      const opts = { backend: "wasm" as const, threads: sessions, sessions, smallGraphs: true };
      // Opened, then the small graphs' files removed: the small crops still run (on the
      // sessions opened before), in every session of a pool.
      const dir = await modelCopy(() => {});
      const model = await SopsegModel.load(dir, opts);
      try {
        await model.openGraphSets();
        for (const f of smallFiles) await Deno.remove(`${dir}/${f}`);
        const outs = await Promise.all([model.predict(batch()), model.predict(batch())]);
        for (const out of outs) assert.deepEqual(out.maskLogits, expected.maskLogits);
      } finally {
        await model.close();
        await Deno.remove(dir, { recursive: true });
      }
      // Removed before: opening them fails, naming the file.
      const dir2 = await modelCopy(() => {});
      const model2 = await SopsegModel.load(dir2, opts);
      try {
        for (const f of smallFiles) await Deno.remove(`${dir2}/${f}`);
        await assert.rejects(() => model2.openGraphSets(), /cannot read encoder_\d+\.wasm\.ort/);
      } finally {
        await model2.close();
        await Deno.remove(dir2, { recursive: true });
      }
    }
  } finally {
    await ref.close();
  }
});

Deno.test("a one-batch auto load with small graphs on opens the small set's sessions first", async () => {
  const dir = await modelCopy(() => {});
  // auto, one batch of work: WASM without a WebGPU probe, and the set most crops run on opened
  const model = await SopsegModel.load(dir, { batches: 1, threads: 1, smallGraphs: true });
  try {
    assert.equal(model.backend, "wasm");
    const small = model.manifest.smallGraphs!;
    const mainFiles = [model.manifest.wasmGraphs!.encoder, model.manifest.wasmGraphs!.decoder];
    const smallFiles = [small.wasmGraphs!.encoder, small.wasmGraphs!.decoder];
    for (const f of smallFiles) await Deno.remove(`${dir}/${f}`);
    const out = await model.predict(checkBatch(model.manifest, 1, small.inputSize));
    assert.equal(out.maskLogits.length, small.inputSize ** 2, "the small set was open");
    // the main set opens on its first batch (a large crop), from its files
    const main = await model.predict(checkBatch(model.manifest, 1));
    assert.equal(main.maskLogits.length, model.manifest.inputSize ** 2);
    for (const f of mainFiles) await Deno.remove(`${dir}/${f}`);
    await model.predict(checkBatch(model.manifest, 1)); // open already: no file read
  } finally {
    await model.close();
    await Deno.remove(dir, { recursive: true });
  }
});
