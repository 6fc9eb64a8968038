import assert from "node:assert/strict";
import {
  beginRunRecord,
  detectionsDiffer,
  newRunRecord,
  readRunRecord,
  recordDifferences,
  writeRunRecord,
} from "../../src/pipeline/run_record.ts";
import { plannedDetections } from "../../src/pipeline/count_detections.ts";
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

Deno.test("beginRunRecord() finds the images to segment again, and keeps them until a resume ends", async () => {
  const manifest = await loadManifest(LITE);
  const dir = await Deno.makeTempDir();
  try {
    const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: dir };
    const plan = (b: string, counts = [3, 2, 1]) =>
      ["a.png", "b.png", "c.png"].map((image, i) => ({
        image,
        detections: counts[i]!,
        detections_sha256: image === "b.png" ? b : image.repeat(4),
      }));
    const record = async (p: ReturnType<typeof plan>, shard?: { index: number; count: number }) =>
      await newRunRecord({ manifest, backend: "wasm" }, { ...options, shard }, p);
    const first = await record(plan("b1"));
    await beginRunRecord(dir, first, false);
    await writeRunRecord(dir, { ...first, state: "done" });
    // b's detections changed: b is to be segmented again, and the record says so at once
    const edited = await record(plan("b2"));
    const start = await beginRunRecord(dir, edited, true);
    assert.deepEqual([start.changed, start.moved], [["b.png"], []]);
    assert.deepEqual((await readRunRecord(dir))!.outdated, ["b.png"]);
    // killed before it ended: the next resume still redoes b (its record holds b2 already)
    const retry = await beginRunRecord(dir, edited, true);
    assert.deepEqual(retry.changed, ["b.png"]);
    // once a resume ended, b2 is what b's outputs were made from
    await writeRunRecord(dir, { ...retry.record, state: "done" });
    assert.deepEqual((await beginRunRecord(dir, edited, true)).changed, []);
    // a file unreadable now (no digest): not a change; the earlier digest is kept
    const unread = plan("b2");
    delete (unread[1] as { detections_sha256?: string }).detections_sha256;
    const kept = await beginRunRecord(dir, await record(unread), true);
    assert.deepEqual(kept.changed, []);
    assert.equal(kept.record.plan[1]!.detections_sha256, "b2");

    // shards: counts that move an image into this shard's share make it segmented anew
    const shardDir = await Deno.makeTempDir({ dir });
    const s0 = await record(plan("b2", [3, 2, 1]), { index: 1, count: 2 }); // share: b, c
    await beginRunRecord(shardDir, s0, false);
    await writeRunRecord(shardDir, { ...s0, state: "done" });
    const s1 = await record(plan("b3", [1, 2, 3]), { index: 1, count: 2 }); // share: a, b
    const moved = await beginRunRecord(shardDir, s1, true);
    assert.deepEqual([moved.changed, moved.moved], [["b.png"], ["a.png"]]);
    assert.deepEqual((await readRunRecord(shardDir))!.outdated, ["b.png", "a.png"]);
    // merge's check: the two records read other detections for b (digest) and a, c (counts)
    assert.deepEqual(detectionsDiffer(s0, s1), ["a.png", "b.png", "c.png"]);
    assert.deepEqual(detectionsDiffer(s1, s1), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a record without digests (an earlier sopseg's) compares detection counts as before", async () => {
  const manifest = await loadManifest(LITE);
  const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: "o" };
  const make = (p: { image: string; detections: number; detections_sha256?: string }[]) =>
    newRunRecord({ manifest, backend: "wasm" }, options, p);
  const old = await make([{ image: "a.png", detections: 3 }]);
  const now = await make([{ image: "a.png", detections: 4, detections_sha256: "x" }]);
  assert.deepEqual(recordDifferences(old, now), [
    "images: 1 vs 1, same names with other detection counts or order",
  ]);
  // with digests on both sides a count is the detections' business (a resume redoes them)
  const later = await make([{ image: "a.png", detections: 5, detections_sha256: "y" }]);
  assert.deepEqual(recordDifferences(now, later), []);
  assert.deepEqual(detectionsDiffer(now, later), ["a.png"]);
});

Deno.test("plannedDetections() digests the detections as read: class, box, score and line count", async () => {
  const text = (t: string) => ({ kind: "text" as const, text: t, source: "<t>" });
  const car = "100 100 140 100 140 120 100 120 car 0.9\n";
  const digest = async (t: string, minScore?: number) =>
    (await plannedDetections(text(t), { minScore })).sha256;
  const base = await digest(car);
  assert.match(base!, /^[0-9a-f]{64}$/);
  assert.equal((await plannedDetections(text(car), {})).count, 1);
  assert.equal(await digest(car), base, "stable");
  assert.notEqual(await digest(car.replace("car", "ship")), base);
  assert.notEqual(await digest(car.replace("140 120", "141 120")), base);
  assert.notEqual(await digest(car.replace("0.9", "0.8")), base);
  assert.notEqual(await digest(`# header\n${car}`), base, "the outputs carry the line");
  // a detection --min-score leaves out is not part of it
  assert.equal(await digest(`${car}1 1 5 1 5 5 1 5 car 0.1\n`, 0.5), await digest(car, 0.5));
  assert.deepEqual(await plannedDetections({ kind: "path", path: "/surely/not/here.txt" }, {}), {
    count: 0,
    sha256: null,
  });
});
