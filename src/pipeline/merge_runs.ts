/**
 * Merging the output folders of a sharded run (`segment --shard I/N`, one
 * folder per shard) into the folder a single run would have written: one
 * `coco.json` with ids renumbered and images and annotations in the single
 * run's order, the per-image vector files (and overlays) gathered, and a run
 * record for the whole.
 *
 * The shards' run records must agree (model files, options, the planned
 * images) and cover every index `0..N-1` once; otherwise nothing is written.
 * They must also have read the same detections: every shard's record holds
 * the digest of every image's detections (all shards read every detection
 * file), so shards that ran on different versions of the labels disagree
 * there, and the merge is refused until they are resumed (a resume segments
 * again the images whose detections changed). Inputs the run left out (in no
 * shard) are named and kept in the merged record.
 *
 * @module
 */
import { writeFileAtomic } from "../formats/atomic_write.ts";
import { fileStem } from "../formats/detection_files.ts";
import { DETECTIONS_DIGEST_VERSION } from "./count_detections.ts";
import {
  detectionsDiffer,
  digestVersion,
  type LeftOutInputs,
  readRunRecord,
  recordDifferences,
  RUN_RECORD_FILE,
  type RunRecord,
  RunRecordError,
  sameReader,
  writeRunRecord,
  writtenBy,
} from "./run_record.ts";
import { lockOutFolder } from "./out_lock.ts";
import { assignShards } from "./shard.ts";
import { pathExists } from "./paths.ts";

/** What a merge reports while it works. */
export type MergeEvent =
  | { kind: "warning"; message: string }
  | { kind: "shard"; dir: string; index: number; images: number; annotations: number };

/** Options of {@linkcode mergeRuns}. */
export interface MergeRunsOptions {
  /** Receives events (one per shard read, warnings). */
  onEvent?: (event: MergeEvent) => void;
}

/** The outcome of a merge. */
export interface MergeSummary {
  /** Shard folders merged. */
  shards: number;
  /** Images in the merged coco.json. */
  images: number;
  /** Annotations in the merged coco.json. */
  annotations: number;
  /** Files written. */
  written: string[];
  /**
   * Inputs the run left out when it planned (in no shard; said in a warning): the merge
   * holds every other image, and a retry will not segment them.
   */
  leftOut: LeftOutInputs[];
}

/** A run that has not finished: rerunning its shard with `--resume` may fix it. */
export class UnfinishedShardError extends Error {
  override name = "UnfinishedShardError";
}

interface CocoJson {
  info?: unknown;
  images: { id: number; file_name: string }[];
  categories: { id: number; name: string }[];
  annotations: { id: number; image_id: number; category_id: number }[];
}

async function realPath(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return path;
    throw e;
  }
}

/** Reads every shard's record and checks that together they make one run. */
async function readShards(dirs: readonly string[]): Promise<{ dir: string; record: RunRecord }[]> {
  const shards = [];
  for (const dir of dirs) {
    if (!(await pathExists(dir))) {
      // a shard that has not run yet (or whose folder is not back from its node): retryable
      throw new UnfinishedShardError(
        `Cannot merge ${dir}: no such folder; run that shard (or wait for its output), then merge`,
      );
    }
    const record = await readRunRecord(dir);
    if (record === null) {
      throw new RunRecordError(
        `Cannot merge ${dir}: no ${RUN_RECORD_FILE} (not the output folder of a sopseg segment run)`,
      );
    }
    shards.push({ dir, record });
  }
  const first = shards[0]!;
  for (const s of shards.slice(1)) {
    const why = recordDifferences(first.record, s.record);
    if (why.length) {
      throw new RunRecordError(
        `Cannot merge ${first.dir} and ${s.dir}: made with other settings (${why.join("; ")})`,
      );
    }
  }
  const count = first.record.shard?.count ?? 1;
  const byIndex = new Map<number, string>();
  for (const { dir, record } of shards) {
    const shard = record.shard ?? { index: 0, count: 1 };
    if (shard.count !== count) {
      throw new RunRecordError(
        `Cannot merge ${first.dir} and ${dir}: one of ${count} shards vs one of ${shard.count}`,
      );
    }
    const other = byIndex.get(shard.index);
    if (other !== undefined) {
      throw new RunRecordError(
        `Cannot merge: ${other} and ${dir} are both shard ${shard.index}/${count}`,
      );
    }
    byIndex.set(shard.index, dir);
  }
  const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new RunRecordError(
      `Cannot merge: shard${missing.length > 1 ? "s" : ""} ${
        missing.map((i) => `${i}/${count}`).join(", ")
      } missing (give every shard's output folder)`,
    );
  }
  for (const { dir, record } of shards) {
    if (record.state !== "done") {
      const shard = record.shard ? `shard ${record.shard.index}/${record.shard.count}` : "run";
      throw new UnfinishedShardError(
        record.state === "running"
          ? `Cannot merge ${dir}: its ${shard} has not finished (still running, or stopped); ` +
            `rerun it with --resume`
          : `Cannot merge ${dir}: ${record.failed.length} image(s) of its ${shard} failed (${
            record.failed.slice(0, 3).join(", ")
          }${record.failed.length > 3 ? ", ..." : ""}); rerun it with --resume`,
      );
    }
  }
  // Digests of two versions cannot be compared, so the check below would be of counts only
  const versions = new Set(shards.map((s) => digestVersion(s.record)));
  if (versions.size > 1) {
    const current = versions.has(DETECTIONS_DIGEST_VERSION);
    const stale = shards.filter((s) =>
      !current || digestVersion(s.record) !== DETECTIONS_DIGEST_VERSION
    );
    const named = stale.map(({ dir, record }) =>
      `${record.shard ? `${record.shard.index}/${record.shard.count}` : "the run"} (${dir}, ${
        digestVersion(record) ?? "no digests"
      })`
    );
    throw new UnfinishedShardError(
      `Cannot merge: the shards' records hold digests of the detections of different versions, ` +
        `which cannot be compared; rerun shard${stale.length > 1 ? "s" : ""} ${
          named.join(", ")
        } without --resume, then merge`,
    );
  }
  // Every shard read every detection file (and listed every image's sidecars): they disagree
  // when the labels (or a world file, an .aux.xml) changed between their runs, and the outputs
  // of a shard that has not run since are of the earlier ones.
  for (const s of shards.slice(1)) {
    const differ = detectionsDiffer(first.record, s.record);
    if (differ.length) {
      throw new UnfinishedShardError(
        `Cannot merge ${first.dir} and ${s.dir}: they read other detections for ` +
          `${differ.length} image(s) (${differ.slice(0, 3).join(", ")}${
            differ.length > 3 ? ", ..." : ""
          }): the detections (or the images' georeference files) changed between the shards' ` +
          `runs; rerun every shard with --resume (it segments again the images whose ` +
          `detections changed), then merge`,
      );
    }
  }
  return shards;
}

/**
 * The merged categories: first the longest prefix that every shard's list
 * shares (the categories a run numbers before any data, when it has fixed
 * ones), then names in the order the merged annotations first use them, as a
 * single run numbers them; then any left.
 */
function mergedCategories(
  cocos: readonly CocoJson[],
  annotationNames: Iterable<string>,
): string[] {
  const lists = cocos.map((c) => [...c.categories].sort((a, b) => a.id - b.id).map((x) => x.name));
  const names: string[] = [];
  for (let i = 0; lists.every((l) => i < l.length && l[i] === lists[0]![i]); i++) {
    names.push(lists[0]![i]!);
  }
  const seen = new Set(names);
  for (const n of [...annotationNames, ...lists.flat()]) {
    if (!seen.has(n)) {
      seen.add(n);
      names.push(n);
    }
  }
  return names;
}

async function copyAtomic(from: string, to: string): Promise<void> {
  const tmp = `${to}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.copyFile(from, tmp);
    await Deno.rename(tmp, to);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`Cannot copy ${from} to ${to}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Merge the output folders of every shard of a run into `out`. Throws a
 * RunRecordError when the folders do not make one run (different models or
 * options, a shard missing or given twice, no run record), an
 * UnfinishedShardError when a shard has not finished; then nothing is written.
 *
 * @example
 * ```ts ignore
 * await mergeRuns(["out/shard-0", "out/shard-1", "out/shard-2"], "out/all");
 * ```
 */
export async function mergeRuns(
  shardDirs: readonly string[],
  out: string,
  options: MergeRunsOptions = {},
): Promise<MergeSummary> {
  const emit = options.onEvent ?? (() => {});
  if (shardDirs.length === 0) throw new RunRecordError("Cannot merge: no shard folders given");
  const dirs = shardDirs.map((d) => d.replace(/(.)\/+$/, "$1"));
  out = out.replace(/(.)\/+$/, "$1");
  const shards = await readShards(dirs);
  const outReal = await realPath(out);
  for (const dir of dirs) {
    if (await realPath(dir) === outReal) {
      throw new RunRecordError(`Cannot merge into ${out}: it is one of the shard folders`);
    }
  }
  const reference = shards[0]!.record;
  // the same in every record (they are the whole run's); the first that says them
  const leftOut = shards.find((s) => s.record.left_out?.length)?.record.left_out ?? [];
  for (const { reason } of leftOut) {
    emit({ kind: "warning", message: `the run left input file(s) out, so not merged: ${reason}` });
  }
  const others = shards.filter((s) => !sameReader(s.record, reference));
  if (others.length) {
    const versions = [...new Set([reference, ...others.map((s) => s.record)].map(writtenBy))];
    emit({
      kind: "warning",
      message: `the shards were written by different sopseg versions (${
        versions.join(", ")
      }): their outputs agree only where those versions read and segment alike`,
    });
  }
  const backends = [...new Set(shards.map((s) => s.record.backend))];
  if (backends.length > 1) {
    emit({
      kind: "warning",
      message: `the shards ran on different backends (${
        backends.join(", ")
      }): masks agree within the backends' parity tolerance, not bit for bit`,
    });
  }
  const plan = reference.plan;
  const count = reference.shard?.count ?? 1;
  const shardOf = count === 1 ? plan.map(() => 0) : assignShards(
    plan.map((p) => ({ name: p.image, detections: p.detections })),
    count,
  );
  const dirOf = new Map(shards.map((s) => [s.record.shard?.index ?? 0, s.dir]));

  // Each shard's coco.json, its images by file name.
  const cocos: CocoJson[] = [];
  const cocoOf = new Map<string, CocoJson>();
  for (const { dir, record } of shards) {
    const path = `${dir}/coco.json`;
    let coco: CocoJson;
    try {
      coco = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new UnfinishedShardError(
        `Cannot merge ${dir}: cannot read ${path}: ${(e as Error).message}`,
      );
    }
    cocos.push(coco);
    cocoOf.set(dir, coco);
    emit({
      kind: "shard",
      dir,
      index: record.shard?.index ?? 0,
      images: coco.images.length,
      annotations: coco.annotations.length,
    });
  }
  const imageOf = new Map<string, { coco: CocoJson; image: CocoJson["images"][number] }>();
  for (const coco of cocos) {
    for (const image of coco.images) imageOf.set(`${image.file_name}`, { coco, image });
  }
  const annotationsOf = new Map<CocoJson, Map<number, CocoJson["annotations"]>>();
  for (const coco of cocos) {
    const byImage = new Map<number, CocoJson["annotations"]>();
    for (const a of coco.annotations) {
      let list = byImage.get(a.image_id);
      if (list === undefined) byImage.set(a.image_id, list = []);
      list.push(a);
    }
    annotationsOf.set(coco, byImage);
  }

  // Images in the plan's order, each from the shard the plan assigns it to.
  const entries: { coco: CocoJson; image: CocoJson["images"][number]; dir: string }[] = [];
  for (let i = 0; i < plan.length; i++) {
    const name = plan[i]!.image;
    const dir = dirOf.get(shardOf[i]!)!;
    const found = imageOf.get(name);
    if (found === undefined || found.coco !== cocoOf.get(dir)) {
      throw new UnfinishedShardError(
        `Cannot merge ${dir}: its coco.json lacks ${name}, which its shard was given; ` +
          `rerun it with --resume`,
      );
    }
    entries.push({ ...found, dir });
  }
  const nameOf = (coco: CocoJson) => new Map(coco.categories.map((c) => [c.id, c.name]));
  const namesByCoco = new Map(cocos.map((c) => [c, nameOf(c)]));
  const categoryNames = mergedCategories(
    cocos,
    (function* () {
      for (const { coco, image } of entries) {
        for (const a of annotationsOf.get(coco)!.get(image.id) ?? []) {
          yield namesByCoco.get(coco)!.get(a.category_id) ?? String(a.category_id);
        }
      }
    })(),
  );
  const categoryId = new Map(categoryNames.map((n, i) => [n, i + 1]));

  await Deno.mkdir(out, { recursive: true });
  // not into a folder a segment run (or another merge) is writing
  const lock = await lockOutFolder(out, { by: "merge" });
  try {
    return await writeMerge(out, shards, entries, {
      reference,
      backends,
      leftOut,
      cocos,
      annotationsOf,
      namesByCoco,
      categoryNames,
      categoryId,
      emit,
    });
  } finally {
    lock.release();
  }
}

/** The merged files, once `out`'s lock is held. */
async function writeMerge(
  out: string,
  shards: { dir: string; record: RunRecord }[],
  entries: { coco: CocoJson; image: CocoJson["images"][number]; dir: string }[],
  merged: {
    reference: RunRecord;
    backends: string[];
    leftOut: LeftOutInputs[];
    cocos: CocoJson[];
    annotationsOf: Map<CocoJson, Map<number, CocoJson["annotations"]>>;
    namesByCoco: Map<CocoJson, Map<number, string>>;
    categoryNames: string[];
    categoryId: Map<string, number>;
    emit: (event: MergeEvent) => void;
  },
): Promise<MergeSummary> {
  const { reference, backends, leftOut, cocos, annotationsOf, namesByCoco, emit } = merged;
  const { categoryNames, categoryId } = merged;
  const summary: MergeSummary = {
    shards: shards.length,
    images: 0,
    annotations: 0,
    written: [],
    leftOut,
  };
  // Vector files (and overlays) first; coco.json and the record last, so a merge
  // that stops half way leaves no record claiming it is complete.
  const extension = reference.options.vector_format === "fgb" ? "fgb" : "geojson";
  for (const { image, dir } of entries) {
    const stem = fileStem(image.file_name);
    const overlay = [`${stem}.overlay.png`, `${stem}.overlay.pgw`, `${stem}.overlay.png.aux.xml`];
    for (const file of [`${stem}.${extension}`, ...overlay]) {
      if (!(await pathExists(`${dir}/${file}`))) {
        if (file.endsWith(extension)) {
          throw new UnfinishedShardError(`Cannot merge ${dir}: ${file} is missing`);
        }
        continue;
      }
      await copyAtomic(`${dir}/${file}`, `${out}/${file}`);
      summary.written.push(`${out}/${file}`);
    }
  }
  await Deno.remove(`${out}/${RUN_RECORD_FILE}`).catch(() => {});
  const firstInfo = cocos[0]!.info;
  const chunks = function* () {
    yield `{"info":${JSON.stringify(firstInfo)},\n"images":[`;
    let imageId = 0, annotationId = 0;
    const annotations: string[] = [];
    for (const { coco, image } of entries) {
      imageId++;
      yield `${imageId > 1 ? "," : ""}\n${JSON.stringify({ ...image, id: imageId })}`;
      const names = namesByCoco.get(coco)!;
      for (const a of annotationsOf.get(coco)!.get(image.id) ?? []) {
        const name = names.get(a.category_id) ?? String(a.category_id);
        annotations.push(JSON.stringify({
          ...a,
          id: ++annotationId,
          image_id: imageId,
          category_id: categoryId.get(name)!,
        }));
      }
    }
    summary.images = imageId;
    summary.annotations = annotationId;
    yield `${imageId ? "\n" : ""}],\n"categories":${
      JSON.stringify(categoryNames.map((name, i) => ({ id: i + 1, name })))
    },\n"annotations":[`;
    for (let i = 0; i < annotations.length; i++) yield `${i ? "," : ""}\n${annotations[i]}`;
    yield `${annotations.length ? "\n" : ""}]}\n`;
  };
  await writeFileAtomic(`${out}/coco.json`, chunks());
  summary.written.push(`${out}/coco.json`);
  const { left_out: _, ...rest } = reference;
  await writeRunRecord(out, {
    ...rest,
    backend: backends.join(","),
    shard: null,
    state: "done",
    failed: [],
    ...(leftOut.length ? { left_out: leftOut } : {}),
  });
  summary.written.push(`${out}/${RUN_RECORD_FILE}`);
  await tidyOut(out, summary.written, emit);
  return summary;
}

/**
 * After a merge into `out`: the temporary copies a stopped merge left (`<file>.tmp-<8 hex>`, only
 * ever made by {@linkcode copyAtomic}) are removed, and output files this merge did not write
 * (an earlier run's, in another vector format or of other images) are named in a warning: a glob
 * over the folder would take them for this run's.
 */
async function tidyOut(
  out: string,
  written: readonly string[],
  emit: (event: MergeEvent) => void,
): Promise<void> {
  const ours = new Set(written.map((p) => p.slice(p.lastIndexOf("/") + 1)));
  const foreign: string[] = [];
  for await (const entry of Deno.readDir(out)) {
    if (!entry.isFile) continue;
    if (/\.tmp-[0-9a-f]{8}$/.test(entry.name)) {
      await Deno.remove(`${out}/${entry.name}`).catch(() => {});
    } else if (
      !ours.has(entry.name) && /\.(geojson|fgb|overlay\.png|overlay\.pgw)$/.test(entry.name)
    ) {
      foreign.push(entry.name);
    }
  }
  if (foreign.length > 0) {
    foreign.sort();
    emit({
      kind: "warning",
      message:
        `${foreign.length} output file(s) in ${out} are not from this merge (${
          foreign.slice(0, 3).join(", ")
        }${foreign.length > 3 ? ", ..." : ""}): an earlier run's? Remove them, or merge into an ` +
        `empty folder`,
    });
  }
}
