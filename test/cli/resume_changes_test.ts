// What a --resume does when its inputs or settings changed since the folder's run, and what a
// merge does with the shards of such runs: detections edited (segmented again), inputs left out
// (recorded, said by shard 0, exit 2), --overlay (recorded), a live run's folder (refused).
import assert from "node:assert/strict";
import { runCli, withRun as withRunIn } from "./_run_cli.ts";
import { fixture } from "../raster/_fixtures.ts";
import { carBoxGeoJson } from "../_files.ts";

const CAR = "100 100 140 100 140 120 100 120 car 0\n";
const SHIP = "300 200 360 230 350 250 290 220 ship 0\n";

/** A temporary folder with `images/` (copies of the 600 x 400 PNG) and `labels/`. */
const withRun = (
  labels: Record<string, string>,
  fn: (dir: string, args: string[]) => Promise<void>,
) => withRunIn(labels, ["--backend", "wasm", "--threads", "1"], fn);

const segment = (args: string[]) => runCli(["segment", ...args]);
const merge = (args: string[]) => runCli(["merge", ...args]);
const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

/** The classes of a GeoJSON output's features, in order. */
async function classes(path: string): Promise<string[]> {
  return (await readJson(path)).features.map((f: { properties: { class: string } }) =>
    f.properties.class
  );
}

/** coco.json's annotations as `image: class` strings, in order. */
async function cocoClasses(path: string): Promise<string[]> {
  const coco = await readJson(path);
  const image = new Map(coco.images.map((i: { id: number; file_name: string }) => [
    i.id,
    i.file_name,
  ]));
  const name = new Map(coco.categories.map((c: { id: number; name: string }) => [c.id, c.name]));
  return coco.annotations.map((a: { image_id: number; category_id: number }) =>
    `${image.get(a.image_id)}: ${name.get(a.category_id)}`
  );
}

/** The digest the run record holds for each planned image. */
async function digests(out: string): Promise<Record<string, string>> {
  const record = await readJson(`${out}/sopseg-run.json`);
  return Object.fromEntries(
    record.plan.map((p: { image: string; detections_sha256: string }) => [
      p.image,
      p.detections_sha256,
    ]),
  );
}

Deno.test("segment --resume segments again the images whose detections changed, and says so", async () => {
  await withRun({ a: CAR + SHIP, b: CAR, c: CAR }, async (dir, args) => {
    const out = `${dir}/out`;
    const first = await segment(args);
    assert.equal(first.code, 0, first.stderr);
    const before = await digests(out);
    assert.match(before["a.png"]!, /^[0-9a-f]{64}$/);
    assert.notEqual(before["a.png"], before["b.png"]);
    assert.equal(before["b.png"], before["c.png"], "the same boxes: the same digest");

    // another class, the same number of boxes (what a count cannot tell)
    await Deno.writeTextFile(`${dir}/labels/a.txt`, CAR + SHIP.replace("ship", "plane"));
    const r = await segment([...args, "--resume"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: .*images\/a\.png: detections changed since they were segmented: segmented again\n/,
    );
    assert.match(r.stderr, /done: 2 masks on 1 image\(s\).*, 2 skipped;/);
    assert.deepEqual(await classes(`${out}/a.geojson`), ["car", "plane"]);
    assert.deepEqual(await cocoClasses(`${out}/coco.json`), [
      "a.png: car",
      "a.png: plane",
      "b.png: car",
      "c.png: car",
    ]);
    const after = await digests(out);
    assert.notEqual(after["a.png"], before["a.png"]);
    assert.deepEqual([after["b.png"], after["c.png"]], [before["b.png"], before["c.png"]]);
    const record = await readJson(`${out}/sopseg-run.json`);
    assert.equal(record.state, "done");
    assert.equal(record.outdated, undefined);

    // a box more (without --shard the count changes no share): segmented again too
    await Deno.writeTextFile(`${dir}/labels/b.txt`, CAR + SHIP);
    const more = await segment([...args, "--resume"]);
    assert.equal(more.code, 0, more.stderr);
    assert.match(more.stderr, /images\/b\.png: detections changed since they were segmented/);
    assert.deepEqual(await classes(`${out}/b.geojson`), ["car", "ship"]);
    assert.equal((await readJson(`${out}/coco.json`)).annotations.length, 5);

    // nothing changed: nothing segmented, nothing said
    const same = await segment([...args, "--resume"]);
    assert.equal(same.code, 0, same.stderr);
    assert.doesNotMatch(same.stderr, /detections changed/);
    assert.match(same.stderr, /done: 0 masks on 0 image\(s\).*, 3 skipped;/);
  });
});

Deno.test("segment --resume of a record written before digests and --overlay were recorded: as before, said once", async () => {
  await withRun({ a: CAR, b: CAR }, async (dir, args) => {
    const out = `${dir}/out`;
    assert.equal((await segment(args)).code, 0);
    // the record as an earlier sopseg wrote it: no digests, no overlay
    const record = await readJson(`${out}/sopseg-run.json`);
    for (const p of record.plan) delete p.detections_sha256;
    delete record.detections_digest;
    delete record.sopseg_version;
    delete record.options.overlay;
    await Deno.writeTextFile(`${out}/sopseg-run.json`, JSON.stringify(record));
    await Deno.writeTextFile(`${dir}/labels/a.txt`, CAR.replace("car", "ship"));
    const r = await segment([...args, "--resume", "--overlay"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/did not record the detections/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /done: 0 masks on 0 image\(s\).*, 2 skipped;/);
    assert.deepEqual(await classes(`${out}/a.geojson`), ["car"], "skipped as before");
    // from now on the record holds them: a later change is seen
    const now = await readJson(`${out}/sopseg-run.json`);
    assert.equal(now.options.overlay, true);
    assert.ok(now.plan.every((p: { detections_sha256?: string }) => p.detections_sha256));
  });
});

Deno.test("segment --resume with another --overlay is refused (exit 2), as other settings are", async () => {
  await withRun({ a: CAR }, async (dir, args) => {
    const first = await segment(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await readJson(`${dir}/out/sopseg-run.json`)).options.overlay, false);
    const r = await segment([...args, "--resume", "--overlay"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Cannot resume in .*out: .*--overlay: off vs on\); use another --out/);
    const on = await segment([...args.slice(0, 5), `${dir}/on`, ...args.slice(6), "--overlay"]);
    assert.equal(on.code, 0, on.stderr);
    const off = await segment([...args.slice(0, 5), `${dir}/on`, ...args.slice(6), "--resume"]);
    assert.equal(off.code, 2, off.stderr);
    assert.match(off.stderr, /--overlay: on vs off/);
  });
});

Deno.test("segment --shard and merge: inputs left out, labels changed between shards, a live run's folder", async () => {
  // b (2 boxes) goes to shard 0, c (1 box) to shard 1; a.png and a.tif share a stem: left out
  await withRun({ b: CAR + SHIP, c: CAR }, async (dir, args) => {
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/a.png`);
    await Deno.copyFile(await fixture("rgb8_tiled_lzw.tif"), `${dir}/images/a.tif`);
    await Deno.writeTextFile(`${dir}/labels/a.txt`, CAR);
    const at = (out: string) => [...args.slice(0, 5), out, ...args.slice(6)];
    const shard = (i: number, ...more: string[]) =>
      segment([...at(`${dir}/s${i}`), "--shard", `${i}/2`, ...more]);

    // shard 0 says what is left out and exits 2 (a retry cannot mend it); shard 1, whose share
    // it is not, neither fails nor says it
    const s0 = await shard(0);
    assert.equal(s0.code, 2, s0.stderr);
    assert.match(s0.stderr, /warning: several image files share the stem "a": .*a\.png, .*a\.tif/);
    assert.match(s0.stderr, /, 2 input file\(s\) left out \(a retry will not segment them\)/);
    const s1 = await shard(1);
    assert.equal(s1.code, 0, s1.stderr);
    assert.doesNotMatch(s1.stderr, /share the stem|left out/);
    for (const i of [0, 1]) {
      const record = await readJson(`${dir}/s${i}/sopseg-run.json`);
      assert.equal(record.state, "done");
      assert.deepEqual(record.left_out.map((l: { files: string[] }) => l.files), [
        ["a.png", "a.tif"],
      ]);
    }
    // a resume of shard 0 says it again, still exit 2: no retry loop
    const again = await shard(0, "--resume");
    assert.equal(again.code, 2, again.stderr);

    // merge: the rest merged, the left-out files named, exit 2
    const m = await merge(["--out", `${dir}/m`, `${dir}/s0`, `${dir}/s1`]);
    assert.equal(m.code, 2, m.stderr);
    assert.match(
      m.stderr,
      /warning: the run left input file\(s\) out, so not merged: several image files share the stem "a"/,
    );
    assert.match(m.stderr, /merged 2 shard\(s\): 3 masks on 2 image\(s\)/);
    assert.deepEqual(await cocoClasses(`${dir}/m/coco.json`), [
      "b.png: car",
      "b.png: ship",
      "c.png: car",
    ]);
    assert.equal((await readJson(`${dir}/m/sopseg-run.json`)).left_out[0].count, 2);

    // c's labels edited; only shard 0 (which does not hold c) reruns: the shards read other
    // detections, and merge refuses (exit 1: resuming shard 1 mends it)
    await Deno.writeTextFile(`${dir}/labels/c.txt`, CAR.replace("car", "plane"));
    assert.equal((await shard(0, "--resume")).code, 2);
    const stale = await merge(["--out", `${dir}/m2`, `${dir}/s0`, `${dir}/s1`]);
    assert.equal(stale.code, 1, stale.stderr);
    assert.match(
      stale.stderr,
      /they read other detections for 1 image\(s\) \(c\.png\): the detections \(or the images' georeference files\) changed between the shards' runs; rerun every shard with --resume/,
    );
    await assert.rejects(Deno.stat(`${dir}/m2/coco.json`), Deno.errors.NotFound);
    const s1b = await shard(1, "--resume");
    assert.equal(s1b.code, 0, s1b.stderr);
    assert.match(s1b.stderr, /c\.png: detections changed since they were segmented/);

    // a live run holds the merge folder: refused (exit 1), nothing written
    await Deno.mkdir(`${dir}/m2`, { recursive: true });
    const lock = await Deno.open(`${dir}/m2/.sopseg-lock`, { write: true, create: true });
    try {
      assert.ok(await lock.tryLock(true));
      await lock.write(new TextEncoder().encode("process 4242, started 2026-12-05T09:00:00Z\n"));
      const busy = await merge(["--out", `${dir}/m2`, `${dir}/s0`, `${dir}/s1`]);
      assert.equal(busy.code, 1, busy.stderr);
      assert.match(
        busy.stderr,
        /Cannot merge into .*m2: another sopseg run is writing there \(process 4242, .*\); wait for it to end/,
      );
      await assert.rejects(Deno.stat(`${dir}/m2/coco.json`), Deno.errors.NotFound);
    } finally {
      lock.close();
    }
    const done = await merge(["--out", `${dir}/m2`, `${dir}/s0`, `${dir}/s1`]);
    assert.equal(done.code, 2, done.stderr); // merged; the left-out files still said
    assert.deepEqual(await cocoClasses(`${dir}/m2/coco.json`), [
      "b.png: car",
      "b.png: ship",
      "c.png: plane",
    ]);

    // a run into another shard's folder while that shard runs: told that a resume there
    // would be refused, not "rerun with --resume"
    const held = await Deno.open(`${dir}/s1/.sopseg-lock`, { write: true });
    try {
      assert.ok(await held.tryLock(true));
      const wrong = await segment([...at(`${dir}/s1`), "--shard", "0/2", "--resume"]);
      assert.equal(wrong.code, 1, wrong.stderr);
      assert.match(
        wrong.stderr,
        /its run record is of --shard 1\/2, this run is --shard 0\/2: give each shard its own --out/,
      );
    } finally {
      held.close();
    }
  });
});

Deno.test("segment --resume after every detection file was a link to nothing: exit 1 each time, not 2, until the volume is there", async () => {
  await withRun({}, async (dir, args) => {
    // the labels live on a volume not mounted yet: links to nothing
    for (const stem of ["a", "b"]) {
      await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/${stem}.png`);
      await Deno.symlink(`${dir}/volume/${stem}.txt`, `${dir}/labels/${stem}.txt`);
    }
    const first = await segment(args);
    assert.equal(first.code, 1, first.stderr);
    const record = await readJson(`${dir}/out/sopseg-run.json`);
    assert.ok(record.detections_digest, "the record says it records digests");
    assert.ok(record.plan.every((p: { detections_sha256?: string }) => !p.detections_sha256));
    // the retry a scheduler makes: still 1 (not "other settings", exit 2: no more retries)
    const retry = await segment([...args, "--resume"]);
    assert.equal(retry.code, 1, retry.stderr);
    assert.doesNotMatch(retry.stderr, /Cannot resume/);
    // mounted: the next retry segments both
    await Deno.mkdir(`${dir}/volume`);
    await Deno.writeTextFile(`${dir}/volume/a.txt`, CAR);
    await Deno.writeTextFile(`${dir}/volume/b.txt`, CAR + SHIP);
    const mounted = await segment([...args, "--resume"]);
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.deepEqual(await cocoClasses(`${dir}/out/coco.json`), [
      "a.png: car",
      "b.png: car",
      "b.png: ship",
    ]);
  });
});

Deno.test("segment --resume after a GeoJSON detection file was truncated: the image fails with its error (exit 1), not skipped", async () => {
  const boxes = carBoxGeoJson(100, 100, 140, 120);
  await withRun({}, async (dir, args) => {
    for (const stem of ["a", "b"]) {
      await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/${stem}.png`);
      await Deno.writeTextFile(`${dir}/labels/${stem}.geojson`, boxes);
    }
    const first = await segment(args);
    assert.equal(first.code, 0, first.stderr);
    // a detector that crashed while it wrote a.geojson
    await Deno.writeTextFile(`${dir}/labels/a.geojson`, boxes.slice(0, 60));
    for (const attempt of [1, 2]) {
      const r = await segment([...args, "--resume"]);
      assert.equal(r.code, 1, `attempt ${attempt}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /error: .*images\/a\.png: Cannot read GeoJSON detections from .*a\.geojson": not JSON/,
      );
      assert.match(r.stderr, /1 skipped/);
      const record = await readJson(`${dir}/out/sopseg-run.json`);
      assert.deepEqual([record.state, record.failed], ["incomplete", ["a.png"]]);
    }
    await Deno.writeTextFile(`${dir}/labels/a.geojson`, boxes);
    const mended = await segment([...args, "--resume"]);
    assert.equal(mended.code, 0, mended.stderr);
    assert.deepEqual(await cocoClasses(`${dir}/out/coco.json`), ["a.png: car", "b.png: car"]);
  });
});

Deno.test("segment --resume segments again an image whose georeference sidecar changed, and warns once about another sopseg version", async () => {
  await withRun({ a: CAR, b: CAR }, async (dir, args) => {
    const out = `${dir}/out`;
    const first = await segment(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      (await readJson(`${out}/sopseg-run.json`)).sopseg_version,
      JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url))).version,
    );
    // the statistics QGIS or gdalinfo -stats write beside a.png: nothing the readers take
    const stats = '<Metadata><MDI key="STATISTICS_MEAN">97.5</MDI></Metadata>';
    await Deno.writeTextFile(
      `${dir}/images/a.png.aux.xml`,
      `<PAMDataset><PAMRasterBand band="1">${stats}</PAMRasterBand></PAMDataset>\n`,
    );
    const viewed = await segment([...args, "--resume"]);
    assert.equal(viewed.code, 0, viewed.stderr);
    assert.match(viewed.stderr, /done: 0 masks on 0 image\(s\).*, 2 skipped;/);
    // a nodata value set beside b.png (gdal_edit, QGIS): b reads otherwise now
    await Deno.writeTextFile(
      `${dir}/images/b.png.aux.xml`,
      '<PAMDataset><PAMRasterBand band="1"><NoDataValue>0</NoDataValue></PAMRasterBand>' +
        "</PAMDataset>\n",
    );
    const r = await segment([...args, "--resume"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /images\/b\.png: its georeference files \(world file, \.aux\.xml, \.prj, \.msk\) changed since it was segmented: segmented again/,
    );
    assert.match(r.stderr, /done: 1 masks on 1 image\(s\).*, 1 skipped;/);
    assert.doesNotMatch(r.stderr, /was written by/);

    // a record another sopseg version wrote: said once, images skipped as their inputs allow
    const record = await readJson(`${out}/sopseg-run.json`);
    record.sopseg_version = "0.0.9";
    await Deno.writeTextFile(`${out}/sopseg-run.json`, JSON.stringify(record));
    const other = await segment([...args, "--resume"]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(
      other.stderr.match(/was written by sopseg 0\.0\.9 with sopseg-reader-2 \(this is sopseg /g)
        ?.length,
      1,
    );
    assert.match(other.stderr, /done: 0 masks on 0 image\(s\).*, 2 skipped;/);
  });
});
