/**
 * The shipped model's small graphs (`small_graphs` in its manifest; opt-in, `smallGraphs:
 * true`): crops up to their `max_crop_side` run on them, the rest on the main graphs, and
 * results still come out in input order, on real DOTA boxes read in place from
 * ../shared/data.
 */
import assert from "node:assert/strict";
import { parseDota } from "../../src/formats/dota.ts";
import { maskIou } from "./_mask_iou.ts";
import { openRaster } from "../../src/raster/open_raster.ts";
import { checkBatch, SopsegModel } from "../../src/model/sopseg_model.ts";
import { segmentBoxes, type SegmentedBox } from "../../src/pipeline/segment_image.ts";
import { dataTest, SHARED_DATA } from "../_data.ts";
import { modelIdentity, recordDifferences, type RunRecord } from "../../src/pipeline/run_record.ts";

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;
const IMAGE = `${SHARED_DATA}/dota-samples/images/P0706.png`;
const LABELS = `${SHARED_DATA}/dota-samples/labelTxt/P0706.txt`;

async function segment(model: SopsegModel, batchSize: number): Promise<SegmentedBox[]> {
  const all = parseDota(await Deno.readTextFile(LABELS), { source: LABELS }).detections;
  // 80 boxes, 4 of them large (planes; crops over 160 px) among small vehicles
  const detections = all.slice(150, 230);
  const source = await openRaster(IMAGE);
  try {
    const out: SegmentedBox[] = [];
    const input = {
      source,
      boxes: detections.map((d) => d.box),
      classes: detections.map((d) => d.className),
    };
    for await (const r of segmentBoxes(model, input, { batchSize, vectorize: false })) {
      out.push(r);
    }
    return out;
  } finally {
    await source.close();
  }
}

type LoadOptions = Parameters<typeof SopsegModel.load>[1];

/** Loads the shipped model twice (options `a`, `b`), runs `fn` on both, closes both. */
async function withModels(
  [a, b]: [LoadOptions, LoadOptions],
  fn: (models: [SopsegModel, SopsegModel]) => Promise<void>,
): Promise<void> {
  const first = await SopsegModel.load(LITE, a);
  try {
    const second = await SopsegModel.load(LITE, b);
    try {
      await fn([first, second]);
    } finally {
      await second.close();
    }
  } finally {
    await first.close();
  }
}

dataTest({
  name: "small graphs: small crops run on them, in input order, close to the main graphs' masks",
  needs: [IMAGE, LABELS],
  fn: () =>
    withModels([
      { backend: "wasm", threads: 1, smallGraphs: true },
      { backend: "wasm", threads: 1, smallGraphs: false },
    ], async ([both, main]) => {
      const small = both.manifest.smallGraphs;
      assert.ok(small, "the shipped model has small graphs");
      assert.equal(main.manifest.smallGraphs, null, "with smallGraphs: false, none");
      const a = await segment(both, 8);
      const b = await segment(main, 8);
      assert.deepEqual(a.map((r) => r.index), [...a.keys()], "results in input order");
      assert.equal(a.length, b.length);
      const onSmall = a.filter((r) => both.inputSizeFor(r.crop.size) === small.inputSize);
      assert.ok(onSmall.length > 0 && onSmall.length < a.length, "the image has both kinds");
      let sumSmall = 0;
      for (const r of a) {
        const iou = maskIou(r.mask, b[r.index]!.mask);
        if (r.crop.size <= small.maxCropSide) {
          sumSmall += iou;
        } else {
          // the same main graphs on the same crop: the same mask (other batch neighbours)
          assert.ok(iou >= 0.999, `box ${r.index} (crop ${r.crop.size} px): IoU ${iou}`);
        }
      }
      // the small graphs are the same weights at a smaller input: close, not identical
      const mean = sumSmall / onSmall.length;
      assert.ok(mean >= 0.85, `small graphs vs main graphs: mean mask IoU ${mean.toFixed(3)}`);
    }),
});

dataTest({
  name: "small graphs: two worker sessions, two runs at once, give the one session's masks",
  needs: [IMAGE, LABELS],
  fn: () =>
    withModels([
      { backend: "wasm", threads: 1, smallGraphs: true },
      { backend: "wasm", threads: 2, sessions: 2, smallGraphs: true },
    ], async ([one, two]) => {
      const a = await segment(one, 4);
      // two runs at once, as eval and segment run images: each worker gets batches of both
      // graph sets while its last batch runs (and creates a set's sessions on its first)
      const [b, c] = await Promise.all([segment(two, 4), segment(two, 4)]);
      for (const out of [b, c]) {
        assert.deepEqual(out.map((r) => r.index), [...out.keys()], "results in input order");
        for (const r of a) {
          const iou = maskIou(r.mask, out[r.index]!.mask);
          assert.ok(iou >= 0.999, `box ${r.index}: IoU ${iou} between one and two sessions`);
        }
      }
    }),
});

Deno.test("small graphs: calls at both sizes at once give what they give one at a time", async () => {
  // A pool worker receives its next batch before the last is done; the first batch of a
  // graph set creates its sessions, which must not overlap another call's run.
  const opts = { backend: "wasm", threads: 1, smallGraphs: true } as const;
  await withModels([opts, opts], async ([fresh, ref]) => {
    const small = fresh.manifest.smallGraphs;
    assert.ok(small, "the shipped model has small graphs");
    const sizes = [small.inputSize, fresh.manifest.inputSize, small.inputSize];
    const batches = sizes.map((n, i) => checkBatch(fresh.manifest, i + 1, n));
    const together = await Promise.all(batches.map((b) => fresh.predict(b)));
    for (const [i, b] of batches.entries()) {
      const alone = await ref.predict(b);
      assert.deepEqual(together[i]!.iou, alone.iou, `call ${i} (input ${sizes[i]})`);
      assert.deepEqual(together[i]!.maskLogits, alone.maskLogits, `call ${i} (input ${sizes[i]})`);
    }
  });
});

dataTest({
  name:
    "small graphs: a crop side given at load (--small-graphs N) routes by it, run records say so",
  needs: [IMAGE, LABELS],
  fn: () =>
    withModels([
      { backend: "wasm", threads: 1, smallGraphs: 64 },
      { backend: "wasm", threads: 1, smallGraphs: false },
    ], async ([at64, main]) => {
      const small = at64.manifest.smallGraphs;
      assert.ok(small, "the shipped model has small graphs");
      assert.equal(small.maxCropSide, 64);
      assert.equal(small.manifestMaxCropSide, 96);
      const a = await segment(at64, 8);
      const b = await segment(main, 8);
      const between = a.filter((r) => r.crop.size > 64 && r.crop.size <= 96);
      assert.ok(between.length > 0, "the image has crops between 64 and 96 px");
      assert.ok(a.some((r) => r.crop.size <= 64), "and crops up to 64 px");
      for (const r of a) {
        const onSmall: boolean = at64.inputSizeFor(r.crop.size) === small.inputSize;
        assert.equal(onSmall, r.crop.size <= 64, `box ${r.index} (crop ${r.crop.size} px)`);
        // over 64 px: the main graphs, as in a model without small graphs
        if (!onSmall) {
          const iou = maskIou(r.mask, b[r.index]!.mask);
          assert.ok(iou >= 0.999, `box ${r.index} (crop ${r.crop.size} px): IoU ${iou}`);
        }
      }
      // a run record keeps the threshold, so a resume with another one is refused
      const id64 = await modelIdentity(at64.manifest);
      assert.equal(id64.small_max_crop_side, 64);
      const record = (model: RunRecord["model"]): RunRecord => ({
        format: "sopseg-run",
        format_version: 1,
        model,
        backend: "wasm",
        options: {} as RunRecord["options"],
        shard: null,
        plan: [],
        state: "running",
        failed: [],
      });
      const asShipped = { ...id64 };
      delete asShipped.small_max_crop_side;
      assert.deepEqual(recordDifferences(record(id64), record(asShipped)), [
        "small graphs' crop side: 64 px vs the manifest's",
      ]);
      assert.deepEqual(recordDifferences(record(id64), record(id64)), []);
    }),
});
