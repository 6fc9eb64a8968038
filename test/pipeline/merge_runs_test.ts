// mergeRuns() through the library on hand-made shard folders (no model): ids, order and
// category numbering as a single run writes them; refusals; the merge task's permissions.
import assert from "node:assert/strict";
import { mergeRuns, UnfinishedShardError } from "../../src/pipeline/merge_runs.ts";
import { type RunRecord, RunRecordError } from "../../src/pipeline/run_record.ts";
import { assignShards } from "../../src/pipeline/shard.ts";
import { scopedPermissions } from "../../src/cli/permissions.ts";
import { DETECTIONS_DIGEST_VERSION } from "../../src/pipeline/count_detections.ts";
import { READER_VERSION } from "../../src/pipeline/reader_version.ts";

/** One image and its annotations' classes, as the single run would see them. */
const RUN: { image: string; classes: string[] }[] = [
  { image: "a.png", classes: ["ship", "car"] },
  { image: "b.png", classes: ["plane"] },
  { image: "c.png", classes: [] },
  { image: "d.png", classes: ["car", "car", "tank"] },
  { image: "e.png", classes: ["plane", "ship"] },
];

function record(shard: { index: number; count: number } | null): RunRecord {
  return {
    format: "sopseg-run",
    format_version: 1,
    model: { name: "m", files_sha256: { "manifest.json": "00" } },
    backend: "wasm",
    options: {
      format: "auto",
      class_names: null,
      min_score: null,
      crs: "wgs84",
      vector_format: "geojson",
      bands: null,
      prompt: "opm",
      class_prompt: true,
      simplify: 0,
      keep_prompt_components: true,
      batch: 8,
    },
    shard,
    plan: RUN.map((r) => ({ image: r.image, detections: r.classes.length })),
    state: "done",
    failed: [],
  };
}

/** The coco.json a run over `images` writes: ids and categories in first-seen order. */
function coco(images: typeof RUN, fixed: string[] = []) {
  const categories = new Map(fixed.map((n, i) => [n, i + 1]));
  const out = { info: { model: "m" }, images: [] as unknown[], annotations: [] as unknown[] };
  images.forEach((im, i) => {
    out.images.push({ id: i + 1, file_name: im.image, width: 4, height: 4 });
    im.classes.forEach((c, k) => {
      if (!categories.has(c)) categories.set(c, categories.size + 1);
      out.annotations.push({
        id: out.annotations.length + 1,
        image_id: i + 1,
        category_id: categories.get(c)!,
        segmentation: { size: [4, 4], counts: `${im.image}${k}` },
        detection_index: k,
      });
    });
  });
  return { ...out, categories: [...categories].map(([name, id]) => ({ id, name })) };
}

async function writeRun(dir: string, images: typeof RUN, rec: RunRecord, fixed: string[] = []) {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/sopseg-run.json`, JSON.stringify(rec));
  await Deno.writeTextFile(`${dir}/coco.json`, JSON.stringify(coco(images, fixed)));
  for (const im of images) {
    await Deno.writeTextFile(`${dir}/${im.image.replace(".png", ".geojson")}`, im.image);
  }
}

async function shardFolders(dir: string, count: number, fixed: string[] = []) {
  const shardOf = assignShards(
    RUN.map((r) => ({ name: r.image, detections: r.classes.length })),
    count,
  );
  const dirs = [];
  for (let s = 0; s < count; s++) {
    const mine = RUN.filter((_, i) => shardOf[i] === s);
    await writeRun(`${dir}/s${s}`, mine, record({ index: s, count }), fixed);
    dirs.push(`${dir}/s${s}`);
  }
  return dirs;
}

Deno.test("mergeRuns() writes the single run's coco.json and gathers the vector files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const fixed of [[], ["plane", "ship", "car", "tank", "pool"]]) {
      const dirs = await shardFolders(`${dir}/${fixed.length}`, 3, fixed);
      const out = `${dir}/${fixed.length}/merged`;
      const summary = await mergeRuns([...dirs].reverse(), out);
      assert.equal(summary.images, 5);
      assert.equal(summary.annotations, 8);
      const merged = JSON.parse(await Deno.readTextFile(`${out}/coco.json`));
      assert.deepEqual(merged, coco(RUN, fixed));
      for (const r of RUN) {
        const file = r.image.replace(".png", ".geojson");
        assert.equal(await Deno.readTextFile(`${out}/${file}`), r.image);
      }
      const rec = JSON.parse(await Deno.readTextFile(`${out}/sopseg-run.json`));
      assert.deepEqual(rec, record(null));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeRuns() into a used folder: a stopped merge's copies removed, other outputs named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dirs = await shardFolders(dir, 2, []);
    const out = `${dir}/merged`;
    await Deno.mkdir(out);
    // an earlier merge in FlatGeobuf, and the temporary copy of a merge stopped half way
    await Deno.writeTextFile(`${out}/a.fgb`, "old");
    await Deno.writeTextFile(`${out}/b.geojson.tmp-0a1b2c3d`, "half");
    await Deno.writeTextFile(`${out}/notes.txt`, "the user's");
    const warnings: string[] = [];
    await mergeRuns(dirs, out, {
      onEvent: (e) => e.kind === "warning" && warnings.push(e.message),
    });
    assert.deepEqual(warnings, [
      `1 output file(s) in ${out} are not from this merge (a.fgb): an earlier run's? Remove ` +
      "them, or merge into an empty folder",
    ]);
    const left = [];
    for await (const e of Deno.readDir(out)) left.push(e.name);
    assert.ok(!left.some((n) => n.includes(".tmp-")), left.join(", "));
    assert.ok(left.includes("notes.txt") && left.includes("a.fgb"), "nothing else is removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeRuns() refuses unfinished shards and shards of other runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dirs = await shardFolders(dir, 2);
    const rec = JSON.parse(await Deno.readTextFile(`${dirs[1]}/sopseg-run.json`));
    await Deno.writeTextFile(
      `${dirs[1]}/sopseg-run.json`,
      JSON.stringify({ ...rec, state: "incomplete", failed: ["d.png"] }),
    );
    await assert.rejects(
      mergeRuns(dirs, `${dir}/out`),
      (e) =>
        e instanceof UnfinishedShardError && /1 image\(s\) .* failed \(d\.png\)/.test(e.message),
    );
    await Deno.writeTextFile(
      `${dirs[1]}/sopseg-run.json`,
      JSON.stringify({ ...rec, plan: rec.plan.slice(1) }),
    );
    await assert.rejects(
      mergeRuns(dirs, `${dir}/out`),
      (e) =>
        e instanceof RunRecordError && /images: 5 vs 4, only in the first: a\.png/.test(e.message),
    );
    await Deno.remove(`${dirs[1]}/sopseg-run.json`);
    await assert.rejects(mergeRuns(dirs, `${dir}/out`), RunRecordError);
    // a shard folder that is not there yet: that shard has to run (retryable, exit 1)
    await assert.rejects(
      mergeRuns([dirs[0]!, `${dir}/s9`], `${dir}/out`),
      (e) =>
        e instanceof UnfinishedShardError && /s9: no such folder; run that shard/.test(e.message),
    );
    await assert.rejects(Deno.stat(`${dir}/out/coco.json`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scopedPermissions() lets merge read the shard folders and write --out only", () => {
  const flags = scopedPermissions("merge", ["--out", "/o", "/s/0", "/s/1", "--quiet"], {
    HOME: "/h",
  });
  assert.deepEqual(flags, ["--allow-read=/s/0,/s/1,/o", "--allow-write=/o"]);
});

Deno.test("mergeRuns() refuses shards whose digests are of different versions, naming them; other readers warn", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dirs = await shardFolders(dir, 3);
    const rewrite = async (i: number, change: (r: RunRecord) => RunRecord) => {
      const path = `${dirs[i]}/sopseg-run.json`;
      await Deno.writeTextFile(
        path,
        JSON.stringify(change(JSON.parse(await Deno.readTextFile(path)))),
      );
    };
    const digests = (r: RunRecord, version?: string): RunRecord => ({
      ...r,
      ...(version ? { detections_digest: version } : {}),
      options: { ...r.options, overlay: false },
      plan: r.plan.map((p) => ({ ...p, detections_sha256: p.image.repeat(8) })),
    });
    // shard 1 from the sopseg of the unnamed digests, the others of this one's
    for (const i of [0, 2]) await rewrite(i, (r) => digests(r, DETECTIONS_DIGEST_VERSION));
    await rewrite(1, (r) => digests(r));
    await assert.rejects(
      mergeRuns(dirs, `${dir}/out`),
      (e) =>
        e instanceof UnfinishedShardError &&
        new RegExp(
          `digests of the detections of different versions.*rerun shard 1/3 \\(${dirs[1]}, ` +
            `sopseg-detections-1\\) without --resume, then merge$`,
        ).test(e.message),
    );
    await assert.rejects(Deno.stat(`${dir}/out/coco.json`), Deno.errors.NotFound);
    // rerun: one version, and shard 1 by another sopseg reader: merged, with a warning
    await rewrite(1, (r) => ({
      ...digests(r, DETECTIONS_DIGEST_VERSION),
      sopseg_version: "0.1.0",
      reader_version: "sopseg-reader-1",
    }));
    for (const i of [0, 2]) {
      await rewrite(i, (r) => ({ ...r, sopseg_version: "0.1.0", reader_version: READER_VERSION }));
    }
    const warnings: string[] = [];
    await mergeRuns(dirs, `${dir}/out`, {
      onEvent: (e) => e.kind === "warning" && warnings.push(e.message),
    });
    assert.deepEqual(warnings, [
      `the shards were written by different sopseg versions (sopseg 0.1.0 with ${READER_VERSION}, ` +
      "sopseg 0.1.0 with sopseg-reader-1): their outputs agree only where those versions read " +
      "and segment alike",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
