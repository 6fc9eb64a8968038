import assert from "node:assert/strict";
import {
  beginRunRecord,
  detectionsDiffer,
  digestVersion,
  newRunRecord,
  readRunRecord,
  recordDifferences,
  resumeWarning,
  type RunRecord,
  SOPSEG_VERSION,
  writeRunRecord,
} from "../../src/pipeline/run_record.ts";
import { READER_VERSION } from "../../src/pipeline/reader_version.ts";
import {
  DETECTIONS_DIGEST_VERSION,
  detectionsDigest,
  plannedDetections,
} from "../../src/pipeline/count_detections.ts";
import { sidecarFingerprints, UNKNOWN_SIDECARS } from "../../src/pipeline/sidecar_fingerprints.ts";
import type { Detection } from "../../src/formats/detection.ts";
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
  delete old.detections_digest; // as written before sopseg recorded the digests
  delete old.options.overlay; // recorded since the digests
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

Deno.test("recordDifferences(): whether records hold digests is the record's field; an image unread at planning counts nothing", async () => {
  const manifest = await loadManifest(LITE);
  const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: "o" };
  const make = (p: { image: string; detections: number; detections_sha256?: string }[]) =>
    newRunRecord({ manifest, backend: "wasm" }, options, p);
  // every detection file a link to nothing when the run planned (a volume mounted late): no
  // image has a digest, yet the record says it records them
  const unread = await make([{ image: "a.png", detections: 0 }]);
  assert.equal(unread.detections_digest, DETECTIONS_DIGEST_VERSION);
  assert.equal(digestVersion(unread), DETECTIONS_DIGEST_VERSION);
  const read = await make([{ image: "a.png", detections: 3, detections_sha256: "a".repeat(64) }]);
  assert.deepEqual(recordDifferences(unread, read), []);
  assert.deepEqual(recordDifferences(read, unread), []);
  // against a record without digests (an earlier sopseg's), the unread image's 0 says nothing
  const old = await make([{ image: "a.png", detections: 3 }]);
  delete old.detections_digest;
  delete old.options.overlay;
  assert.equal(digestVersion(old), null);
  assert.deepEqual(recordDifferences(old, unread), []);
  assert.equal(
    recordDifferences(old, await make([{ image: "a.png", detections: 2, detections_sha256: "b" }]))
      .length,
    1,
  );

  // the retry of a run whose files were all unreadable resumes (no RunRecordError, exit 2)
  const dir = await Deno.makeTempDir();
  try {
    await beginRunRecord(dir, unread, false);
    await writeRunRecord(dir, { ...unread, state: "incomplete", failed: ["a.png"] });
    const again = await beginRunRecord(dir, unread, true);
    assert.deepEqual(again.changed, []);
    const mounted = await beginRunRecord(dir, read, true);
    assert.deepEqual(mounted.changed, [], "outputs it has none of: reached by their absence");
    assert.equal(mounted.record.plan[0]!.detections_sha256, "a".repeat(64));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("digestVersion(): a record of the first digests (options.overlay) whose files were all unreadable is of the digest era", async () => {
  const manifest = await loadManifest(LITE);
  const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: "o" };
  // as a4820fe wrote it: --overlay recorded, digests unnamed, none here (every file unreadable)
  const unread = await newRunRecord({ manifest, backend: "wasm" }, options, [
    { image: "a.png", detections: 0 },
  ]);
  delete unread.detections_digest;
  delete unread.sopseg_version;
  delete unread.reader_version;
  assert.equal(digestVersion(unread), "sopseg-detections-1");
  const read = await newRunRecord({ manifest, backend: "wasm" }, options, [
    { image: "a.png", detections: 3, detections_sha256: "a".repeat(64) },
  ]);
  // the retry, now that the files are there: its 0 says nothing, no RunRecordError (exit 2)
  assert.deepEqual(recordDifferences(unread, read), []);
  const dir = await Deno.makeTempDir();
  try {
    await writeRunRecord(dir, { ...unread, state: "incomplete", failed: ["a.png"] });
    assert.deepEqual((await beginRunRecord(dir, read, true)).changed, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("beginRunRecord(): a detection file that reads but no longer parses is changed, one not there keeps its digest", async () => {
  const manifest = await loadManifest(LITE);
  const dir = await Deno.makeTempDir();
  try {
    const geojson = JSON.stringify({
      type: "FeatureCollection",
      features: [{
        type: "Feature",
        properties: { class: "car" },
        geometry: { type: "Polygon", coordinates: [[[0, 0], [9, 0], [9, 4], [0, 4], [0, 0]]] },
      }],
    });
    const planned = async (text: string) =>
      await plannedDetections({ kind: "text", text, source: "a.geojson" }, {});
    const good = await planned(geojson);
    const truncated = await planned(geojson.slice(0, 40));
    const empty = await planned("");
    assert.equal(truncated.count, 0);
    assert.match(truncated.sha256!, /^[0-9a-f]{64}$/, "the text's digest");
    assert.notEqual(truncated.sha256, good.sha256);
    assert.notEqual(empty.sha256, truncated.sha256);
    assert.equal((await planned(geojson.slice(0, 40))).sha256, truncated.sha256);
    // every box under a pixel (degrees given for pixels): a whole-file error, as a parse error
    const degrees = await plannedDetections({
      kind: "text",
      text: "12.1 41.2 12.2 41.2 12.2 41.3 12.1 41.3 car 0\n",
      source: "a.txt",
    }, {});
    assert.equal(degrees.count, 0);
    assert.match(degrees.sha256!, /^[0-9a-f]{64}$/);
    const missing = await plannedDetections({ kind: "path", path: `${dir}/gone.geojson` }, {});
    assert.deepEqual(missing, { count: 0, sha256: null });
    await Deno.symlink(`${dir}/nowhere.geojson`, `${dir}/dangling.geojson`);
    assert.deepEqual(
      await plannedDetections({ kind: "path", path: `${dir}/dangling.geojson` }, {}),
      {
        count: 0,
        sha256: null,
      },
    );

    const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: dir };
    const record = (d: { count: number; sha256: string | null }) =>
      newRunRecord({ manifest, backend: "wasm" }, options, [
        {
          image: "a.png",
          detections: d.count,
          ...(d.sha256 ? { detections_sha256: d.sha256 } : {}),
        },
        { image: "b.png", detections: 1, detections_sha256: "b".repeat(64) },
      ]);
    const first = await record(good);
    await beginRunRecord(dir, first, false);
    await writeRunRecord(dir, { ...first, state: "done" });
    // truncated by a crashed detector: reached (and failed there), not skipped as unchanged
    assert.deepEqual((await beginRunRecord(dir, await record(truncated), true)).changed, ["a.png"]);
    // not there now (a late mount): its outputs were made from what the earlier run read
    await writeRunRecord(dir, { ...first, state: "done" });
    const late = await beginRunRecord(dir, await record(missing), true);
    assert.deepEqual(late.changed, []);
    assert.equal(late.record.plan[0]!.detections_sha256, good.sha256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("detectionsDigest() hashes the detections as read, not the boxes the geometry code derives", async () => {
  const corners: Detection["corners"] = [
    { x: 100, y: 100 },
    { x: 140, y: 100 },
    { x: 140, y: 120 },
    { x: 100, y: 120 },
  ];
  const base: Detection = {
    box: { cx: 120, cy: 110, width: 40, height: 20, angle: 0 },
    className: "car",
    score: 0.9,
    difficult: false,
    source: "a.txt",
    line: 1,
    corners,
  };
  const digest = await detectionsDigest([base]);
  // another min-area rectangle of the same corners (a tie broken otherwise): the same digest
  const rotated = { ...base, box: { cx: 120, cy: 110, width: 20, height: 40, angle: Math.PI / 2 } };
  assert.equal(await detectionsDigest([rotated]), digest);
  // the corners, class, score, difficult flag and line are the input: each changes it
  for (
    const other of [
      { ...base, corners: [{ x: 100, y: 101 }, ...corners.slice(1)] as Detection["corners"] },
      { ...base, className: "ship" },
      { ...base, score: 0.8 },
      { ...base, difficult: true },
      { ...base, line: 2 },
    ]
  ) {
    assert.notEqual(await detectionsDigest([other]), digest);
  }
  // a format that gives the box itself (mmrotate's 5 numbers): the box is the input
  const { corners: _, ...boxOnly } = base;
  assert.notEqual(
    await detectionsDigest([boxOnly]),
    await detectionsDigest([{ ...boxOnly, box: rotated.box }]),
  );
  // fixed: the same on every platform and locale, and after a change of the geometry code
  assert.equal(
    (await plannedDetections({
      kind: "text",
      text: "100 100 140 100 140 120 100 120 car 0\n",
      source: "<t>",
    }, {})).sha256,
    GOLDEN_DOTA_DIGEST,
  );
});

/** The digest of `100 100 140 100 140 120 100 120 car 0` (DOTA, line 1), sopseg-detections-2. */
const GOLDEN_DOTA_DIGEST = "43f17bf25906462ea2719f37e29a49b0f5e6a3e4aa565e6b239480570a5b83dc";

Deno.test("sidecarFingerprints() changes with a world file or .aux.xml added, edited or removed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["a.tif", "b.png", "c.jpg"]) await Deno.writeTextFile(`${dir}/${name}`, "");
    const images = [`${dir}/a.tif`, `${dir}/b.png`, `${dir}/c.jpg`];
    assert.deepEqual(await sidecarFingerprints(images), [undefined, undefined, undefined]);
    await Deno.writeTextFile(`${dir}/a.TFW`, "1\n0\n0\n-1\n0\n0\n"); // GDAL reads .TFW too
    await Deno.writeTextFile(`${dir}/b.png.aux.xml`, pam("0, 1, 0, 0, 0, -1"));
    await Deno.writeTextFile(`${dir}/c.txt`, "not a sidecar");
    const [a, b, c] = await sidecarFingerprints(images);
    assert.match(a!, /^[0-9a-f]{16}$/);
    assert.match(b!, /^[0-9a-f]{16}$/);
    assert.equal(c, undefined);
    assert.deepEqual(await sidecarFingerprints(images), [a, b, c], "stable");
    await Deno.writeTextFile(`${dir}/b.png.aux.xml`, pam("0, 2, 0, 0, 0, -2")); // edited
    await Deno.writeTextFile(`${dir}/a.prj`, "GEOGCS[]"); // a CRS beside it
    const [a2, b2] = await sidecarFingerprints(images);
    assert.notEqual(a2, a);
    assert.notEqual(b2, b);
    await Deno.writeTextFile(`${dir}/a.prj`, 'GEOGCS["WGS 84"]');
    assert.notEqual((await sidecarFingerprints(images))[0], a2, "a .prj by its content");
    await Deno.remove(`${dir}/a.prj`);
    await Deno.remove(`${dir}/a.TFW`);
    assert.equal((await sidecarFingerprints(images))[0], undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A GDAL `.aux.xml` with `geoTransform` and `band`'s nodata; `stats`: QGIS's statistics too. */
function pam(geoTransform: string | null, nodata?: string, stats = ""): string {
  return "<PAMDataset>" +
    (geoTransform === null ? "" : `<GeoTransform>${geoTransform}</GeoTransform>`) +
    '<PAMRasterBand band="1">' +
    (nodata === undefined ? "" : `<NoDataValue>${nodata}</NoDataValue>`) +
    (stats && `<Metadata><MDI key="STATISTICS_MEAN">${stats}</MDI></Metadata>`) +
    "</PAMRasterBand></PAMDataset>";
}

Deno.test("sidecarFingerprints() is of what the readers take: not file times, nor an .aux.xml's statistics", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/a`);
    for (const name of ["s.tif", "t.tif", "u.png"]) {
      await Deno.writeTextFile(`${dir}/a/${name}`, "");
    }
    await Deno.writeTextFile(`${dir}/a/s.tfw`, "1\n0\n0\n-1\n10\n20\n");
    await Deno.writeTextFile(`${dir}/a/s.tif.aux.xml`, pam(null, "0", "12.5"));
    await Deno.writeTextFile(`${dir}/a/u.png.aux.xml`, pam("0, 1, 0, 0, 0, -1"));
    await Deno.writeFile(`${dir}/a/s.tif.msk`, new Uint8Array(64));
    const images = (d: string) => [`${d}/s.tif`, `${d}/t.tif`, `${d}/u.png`];
    const before = await sidecarFingerprints(images(`${dir}/a`));
    assert.equal(before[1], undefined);
    // the inputs copied per node (cp without -p: new times), then touched
    await new Deno.Command("cp", { args: ["-r", `${dir}/a`, `${dir}/b`] }).output();
    const later = new Date(Date.now() + 3600_000);
    for await (const e of Deno.readDir(`${dir}/b`)) {
      await Deno.utime(`${dir}/b/${e.name}`, later, later);
    }
    assert.deepEqual(await sidecarFingerprints(images(`${dir}/b`)), before);
    // QGIS or gdalinfo -stats writes statistics into an .aux.xml, or one of statistics only
    await Deno.writeTextFile(`${dir}/b/s.tif.aux.xml`, pam(null, "0", "99.75"));
    await Deno.writeTextFile(`${dir}/b/t.tif.aux.xml`, pam(null, undefined, "3"));
    await Deno.writeTextFile(`${dir}/b/u.png.aux.xml`, pam("0,1,0,0,0,-1", undefined, "7"));
    assert.deepEqual(await sidecarFingerprints(images(`${dir}/b`)), before);
    // what the readers take changes it: nodata, geotransform, a world file, the mask's size
    const changes: [string, string | Uint8Array][] = [
      ["s.tif.aux.xml", pam(null, "255", "99.75")],
      ["u.png.aux.xml", pam("0, 1, 0, 5, 0, -1")],
      ["t.tif.aux.xml", pam("0, 1, 0, 0, 0, -1", undefined, "3")],
      ["s.tfw", "1\n0\n0\n-1\n10\n21\n"],
      ["s.tif.msk", new Uint8Array(65)],
    ];
    let last = before;
    for (const [name, content] of changes) {
      const path = `${dir}/b/${name}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      const now = await sidecarFingerprints(images(`${dir}/b`));
      assert.notDeepEqual(now, last, name);
      last = now;
    }
    // an .aux.xml that no longer parses (the run fails the image) is a change too
    await Deno.writeTextFile(`${dir}/b/u.png.aux.xml`, pam("0, 1, 0"));
    assert.notEqual((await sidecarFingerprints(images(`${dir}/b`)))[2], last[2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sidecarFingerprints() keeps every spelling of a name; unknown where the sidecars cannot be read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["b.tif", "b.tfw", "b.TFW"]) await Deno.writeTextFile(`${dir}/${name}`, "x");
    const names = new Set<string>();
    for await (const e of Deno.readDir(dir)) names.add(e.name);
    const [b] = await sidecarFingerprints([`${dir}/b.tif`]);
    if (names.has("b.TFW") && names.has("b.tfw")) { // a case-sensitive file system
      await Deno.writeTextFile(`${dir}/b.tfw`, "1\n0\n0\n-1\n0\n0\n"); // the one GDAL reads
      const [b2] = await sidecarFingerprints([`${dir}/b.tif`]);
      assert.notEqual(b2, b);
      await Deno.writeTextFile(`${dir}/b.TFW`, "1\n0\n0\n-1\n0\n0\n");
      assert.notEqual((await sidecarFingerprints([`${dir}/b.tif`]))[0], b2);
    }
    // a sidecar that is a link to nothing (a volume not mounted yet), a folder not there
    await Deno.writeTextFile(`${dir}/c.tif`, "");
    await Deno.symlink(`${dir}/mnt/c.tfw`, `${dir}/c.tfw`);
    assert.deepEqual(await sidecarFingerprints([`${dir}/c.tif`, `${dir}/later/d.tif`]), [
      UNKNOWN_SIDECARS,
      UNKNOWN_SIDECARS,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("beginRunRecord(): sidecars that cannot be read keep the earlier fingerprint (a late mount redoes nothing)", async () => {
  const manifest = await loadManifest(LITE);
  const dir = await Deno.makeTempDir();
  try {
    const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: dir };
    const record = (a?: string, b?: string) =>
      newRunRecord({ manifest, backend: "wasm" }, options, [
        { image: "a.tif", detections: 1, detections_sha256: "a".repeat(64), ...sidecars(a) },
        { image: "b.png", detections: 1, detections_sha256: "b".repeat(64), ...sidecars(b) },
      ]);
    const sidecars = (v?: string) => v === undefined ? {} : { sidecars: v };
    const first = await record("0123456789abcdef");
    await beginRunRecord(dir, first, false);
    await writeRunRecord(dir, { ...first, state: "done" });
    // the volume with the sidecars is not mounted yet: nothing to redo, the earlier values kept
    const unmounted = await beginRunRecord(
      dir,
      await record(UNKNOWN_SIDECARS, UNKNOWN_SIDECARS),
      true,
    );
    assert.deepEqual(unmounted.changed, []);
    assert.deepEqual(unmounted.record.plan.map((p) => p.sidecars), ["0123456789abcdef", undefined]);
    assert.equal("sidecars" in unmounted.record.plan[1]!, false);
    await writeRunRecord(dir, { ...unmounted.record, state: "done" });
    // mounted: as they were, so nothing again
    assert.deepEqual((await beginRunRecord(dir, first, true)).changed, []);
    // merge: a shard that could not read them agrees with one that could
    assert.deepEqual(detectionsDiffer(first, await record(UNKNOWN_SIDECARS)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("beginRunRecord() segments again an image whose sidecar files changed; resumeWarning() names another version once", async () => {
  const manifest = await loadManifest(LITE);
  const dir = await Deno.makeTempDir();
  try {
    const options = { images: "imgs", detections: { kind: "path" as const, path: "l" }, out: dir };
    const record = (sidecars?: string) =>
      newRunRecord({ manifest, backend: "wasm" }, options, [
        { image: "a.png", detections: 1, detections_sha256: "a".repeat(64) },
        {
          image: "b.png",
          detections: 1,
          detections_sha256: "b".repeat(64),
          ...(sidecars ? { sidecars } : {}),
        },
      ]);
    const first = await record();
    assert.equal(first.sopseg_version, SOPSEG_VERSION);
    await beginRunRecord(dir, first, false);
    await writeRunRecord(dir, { ...first, state: "done" });
    assert.equal(resumeWarning(first), null);
    const worldFile = await beginRunRecord(dir, await record("0123456789abcdef"), true);
    assert.deepEqual([worldFile.changed, worldFile.sidecarsChanged], [["b.png"], ["b.png"]]);
    // the shards of a run must agree on them as on the detections
    assert.deepEqual(detectionsDiffer(first, await record("0123456789abcdef")), ["b.png"]);

    // written by another sopseg: one warning, whatever else
    const older: RunRecord = { ...first, sopseg_version: "0.0.9" };
    assert.match(
      resumeWarning(older)!,
      /^was written by sopseg 0\.0\.9 with sopseg-reader-2 \(this is sopseg /,
    );
    // the same sopseg version with another reader (or none recorded: an earlier one)
    const reader: RunRecord = { ...first, reader_version: "sopseg-reader-1" };
    assert.match(
      resumeWarning(reader)!,
      new RegExp(
        `^was written by sopseg ${SOPSEG_VERSION} with sopseg-reader-1 \\(this is ` +
          `sopseg ${SOPSEG_VERSION} with ${READER_VERSION}\\): .*read the images`,
      ),
    );
    const noReader: RunRecord = { ...first };
    delete noReader.reader_version;
    assert.match(resumeWarning(noReader)!, /with an earlier reader \(this is /);
    assert.equal(first.reader_version, READER_VERSION);
    // by the sopseg of the unnamed digests (boxes as computed): counts only, said
    const unnamed: RunRecord = { ...first };
    delete unnamed.detections_digest;
    delete unnamed.sopseg_version;
    assert.equal(digestVersion(unnamed), "sopseg-detections-1");
    assert.match(resumeWarning(unnamed)!, /an earlier sopseg, whose digests .* does not compare/);
    await writeRunRecord(dir, { ...unnamed, state: "done" });
    const now = await record("0123456789abcdef");
    const start = await beginRunRecord(dir, now, true);
    assert.deepEqual(start.changed, [], "digests of another version are not compared");
    await writeRunRecord(dir, { ...unnamed, state: "done" });
    const more = { ...now, plan: now.plan.map((p, i) => i ? p : { ...p, detections: 2 }) };
    assert.deepEqual((await beginRunRecord(dir, more, true)).changed, ["a.png"], "a count is");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
