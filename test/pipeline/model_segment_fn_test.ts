/**
 * The evaluation's model-backed segment function, on a real val tile read in place from
 * ../shared/data, with the shipped model: `refinePasses` prompts again with each mask's box.
 */
import assert from "node:assert/strict";
import { gtInstances, readCocoGt } from "../../src/eval/coco_gt.ts";
import type { EvalPrompt } from "../../src/eval/run_eval.ts";
import { maskBox } from "../../src/masks/mask_box.ts";
import { SopsegModel } from "../../src/model/sopseg_model.ts";
import { modelSegmentFn } from "../../src/pipeline/model_segment_fn.ts";
import { dataTest, SHARED_DATA } from "../_data.ts";

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;
const VAL = `${SHARED_DATA}/isaid512/val`;

dataTest({
  name: "modelSegmentFn: a refine pass is prompted with the first pass's mask boxes",
  needs: [`${VAL}/annotations_all.json.gz`, `${VAL}/images`],
  async fn() {
    const gt = await readCocoGt(`${VAL}/annotations_all.json.gz`);
    const image = gt.images.find((im) => gtInstances(gt, im).length >= 4)!;
    const prompts: EvalPrompt[] = gtInstances(gt, image).slice(0, 4);
    const model = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
    try {
      const opts = { imagesDir: `${VAL}/images`, batchSize: 8 };
      const once = await modelSegmentFn(model, opts)(image, prompts);
      const twice = await modelSegmentFn(model, { ...opts, refinePasses: 1 })(image, prompts);
      // the second pass, by hand: the first pass's mask boxes as prompts
      const byHand = await modelSegmentFn(model, opts)(
        image,
        prompts.map((p, i) => ({ ...p, box: maskBox(once[i]!) ?? p.box })),
      );
      assert.equal(twice.length, prompts.length);
      assert.deepEqual(twice, byHand);
      assert.notDeepEqual(twice, once, "the boxes of the masks are not the given boxes");
    } finally {
      await model.close();
    }
  },
});

dataTest({
  name: "modelSegmentFn: promptClassOf tells the model another class, as if the GT said it",
  needs: [`${VAL}/annotations_all.json.gz`, `${VAL}/images`],
  async fn() {
    const gt = await readCocoGt(`${VAL}/annotations_all.json.gz`);
    const image = gt.images.find((im) =>
      gtInstances(gt, im).filter((p) => p.className === "small_vehicle").length >= 4
    )!;
    const prompts: EvalPrompt[] = gtInstances(gt, image)
      .filter((p) => p.className === "small_vehicle").slice(0, 4);
    const model = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
    try {
      const opts = { imagesDir: `${VAL}/images`, batchSize: 8 };
      const swap = (c: string) => c === "small_vehicle" ? "large_vehicle" : c;
      const swapped = await modelSegmentFn(model, { ...opts, promptClassOf: swap })(image, prompts);
      const relabelled = await modelSegmentFn(model, opts)(
        image,
        prompts.map((p) => ({ ...p, className: "large_vehicle" })),
      );
      const plain = await modelSegmentFn(model, { ...opts, promptClassOf: (c) => c })(
        image,
        prompts,
      );
      assert.deepEqual(swapped, relabelled);
      assert.deepEqual(plain, await modelSegmentFn(model, opts)(image, prompts));
      assert.notDeepEqual(swapped, plain, "the class prompt changes some mask");
    } finally {
      await model.close();
    }
  },
});
