import assert from "node:assert/strict";
import { newRunRecord, recordDifferences } from "../../src/pipeline/run_record.ts";
import { loadManifest } from "../../src/model/manifest.ts";

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;

Deno.test("a run record keeps --tta when on, and a resume with another is refused", async () => {
  const manifest = await loadManifest(LITE);
  const options = {
    images: "imgs",
    detections: { kind: "path" as const, path: "labels" },
    out: "o",
  };
  const plan = [{ image: "a.png", detections: 3 }];
  const record = (tta?: "off" | "main" | "all") =>
    newRunRecord({ manifest, backend: "wasm", tta }, options, plan);
  const off = await record("off"), none = await record(), main = await record("main");
  // off is what a record without the field says: runs from before --tta still match
  assert.equal("tta" in off.model, false);
  assert.deepEqual(recordDifferences(off, none), []);
  assert.equal(main.model.tta, "main");
  assert.deepEqual(recordDifferences(off, main), ["--tta: off vs main"]);
  assert.deepEqual(recordDifferences(main, await record("all")), ["--tta: main vs all"]);
});

Deno.test("a run record keeps --box-search when on, and a resume with another is refused", async () => {
  const manifest = await loadManifest(LITE);
  const plan = [{ image: "a.png", detections: 3 }];
  const record = (boxSearch?: { shift: number; margin: number }) =>
    newRunRecord({ manifest, backend: "wasm" }, {
      images: "imgs",
      detections: { kind: "path" as const, path: "labels" },
      out: "o",
      boxSearch,
    }, plan);
  const off = await record(), on = await record({ shift: 0.06, margin: 0.05 });
  // off writes no field: the records of runs from before --box-search still match
  assert.equal("box_search" in off.options, false);
  assert.deepEqual(on.options.box_search, { shift: 0.06, margin: 0.05 });
  assert.deepEqual(recordDifferences(off, on), [
    'options.box_search: none vs {"shift":0.06,"margin":0.05}',
  ]);
  assert.deepEqual(recordDifferences(on, await record({ shift: 0.06, margin: 0.05 })), []);
});
