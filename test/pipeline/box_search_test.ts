/**
 * The box search (`--box-search`) on real DOTA boxes read in place from ../shared/data, with the
 * shipped model: boxes on the small graphs are left as they are, boxes on the main graphs keep
 * the mask of the moved box the model scores best (past the margin), results still come out
 * one per box in input order, and progress counts boxes, not model calls.
 */
import assert from "node:assert/strict";
import { parseDota } from "../../src/formats/dota.ts";
import type { OrientedBox } from "../../src/geometry/oriented_box.ts";
import { maskIou } from "./_mask_iou.ts";
import { openRaster } from "../../src/raster/open_raster.ts";
import { SopsegModel } from "../../src/model/sopseg_model.ts";
import {
  type BoxSearch,
  movedBoxes,
  segmentBoxes,
  type SegmentedBox,
} from "../../src/pipeline/segment_image.ts";
import { dataTest, SHARED_DATA } from "../_data.ts";

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;
const IMAGE = `${SHARED_DATA}/dota-samples/images/P0706.png`;
const LABELS = `${SHARED_DATA}/dota-samples/labelTxt/P0706.txt`;

dataTest({
  name: "box search: main-graph boxes keep the best-scored moved box's mask, the rest as they were",
  needs: [IMAGE, LABELS],
  fn: async () => {
    const all = parseDota(await Deno.readTextFile(LABELS), { source: LABELS }).detections;
    // 80 boxes, 4 of them large (planes, crops over 96 px: the main graphs) among vehicles;
    // then each large box again, moved off its plane by 0.12 of its long side (a weak detector)
    const detections = all.slice(150, 230);
    const model = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
    const source = await openRaster(IMAGE);
    try {
      const onMain = (b: OrientedBox) =>
        model.inputSizeFor(Math.max(b.width, b.height) + 40) === model.manifest.inputSize;
      const large = detections.filter((d) => onMain(d.box));
      const boxes = [
        ...detections.map((d) => d.box),
        ...large.map((d) => movedBoxes(d.box, 0.12)[0]!),
      ];
      const classes = [...detections, ...large].map((d) => d.className);
      const run = async (boxSearch?: BoxSearch) => {
        const out: SegmentedBox[] = [];
        const progress: number[][] = [];
        for await (
          const r of segmentBoxes(model, { source, boxes, classes }, {
            batchSize: 8,
            vectorize: false,
            boxSearch,
            // (with the results out so far: a box comes out only once all its candidates ran)
            onProgress: (done, total) => progress.push([done, total, out.length]),
          })
        ) out.push(r);
        assert.deepEqual(
          out.map((r) => r.index),
          [...boxes.keys()],
          "one result per box, in order",
        );
        assert.deepEqual(progress.at(-1)!.slice(0, 2), [boxes.length, boxes.length]);
        assert.ok(progress.every(([d, t]) => d! <= t! && t === boxes.length));
        // boxes done, counted exactly: never fewer than those already out, never going back
        progress.forEach(([d, , yielded], i) => {
          assert.ok(yielded! <= d!, `progress ${d} after ${yielded} results`);
          assert.ok(i === 0 || d! >= progress[i - 1]![0]!, `progress went back to ${d}`);
        });
        return out;
      };
      const off = await run();
      const searched = await run({ shift: 0.06, margin: 0 });
      const never = await run({ shift: 0.06, margin: 0.999 });
      const main = off.filter((r) => model.inputSizeFor(r.crop.size) === model.manifest.inputSize);
      assert.ok(
        main.length >= 8 && main.length < boxes.length,
        `${main.length} on the main graphs`,
      );
      let changed = 0;
      for (const r of off) {
        const s = searched[r.index]!;
        assert.ok(maskIou(never[r.index]!.mask, r.mask) >= 0.999, `box ${r.index}: margin 0.999`);
        if (main.includes(r)) {
          // margin 0: the best predicted IoU of the given box and its 4 moves
          assert.ok(s.predictedIou >= r.predictedIou - 1e-6, `box ${r.index}`);
          const moved = s.crop.x0 !== r.crop.x0 || s.crop.y0 !== r.crop.y0;
          if (moved) changed++;
          assert.equal(s.moved, moved, `box ${r.index}: said moved as it was`);
          assert.equal(never[r.index]!.moved, false, `box ${r.index}: searched, kept`);
          assert.equal(s.nodataShare, r.nodataShare, "the given box's nodata share");
        } else {
          assert.deepEqual(s.crop, r.crop, `box ${r.index}: not searched`);
          assert.equal(s.moved, undefined, `box ${r.index}: not searched`);
          assert.ok(maskIou(s.mask, r.mask) >= 0.999, `box ${r.index}: not searched`);
        }
      }
      assert.ok(changed > 0, "some main-graph box kept a moved box's mask");
      // the boxes moved off their planes: the search brings their masks back towards the
      // masks of the planes' own boxes
      const n = detections.length;
      const back = large.map((_, i) => [
        maskIou(off[n + i]!.mask, off[detections.indexOf(large[i]!)]!.mask),
        maskIou(searched[n + i]!.mask, off[detections.indexOf(large[i]!)]!.mask),
      ]);
      const mean = (k: number) => back.reduce((a, b) => a + b[k]!, 0) / back.length;
      console.error(
        `moved boxes vs their planes' masks: IoU ${mean(0).toFixed(3)} -> ${mean(1).toFixed(3)}`,
      );
      assert.ok(mean(1) > mean(0), `search ${mean(1)} vs off ${mean(0)}`);
    } finally {
      await source.close();
      await model.close();
    }
  },
});
