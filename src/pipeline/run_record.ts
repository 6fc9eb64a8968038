/**
 * The run record, `<out>/sopseg-run.json`: what made the outputs in a folder
 * (the model's name and file hashes, the options that change results, the
 * shard) and which images the run planned, with their detection counts.
 *
 * `--resume` refuses a folder whose record names another model, other options
 * or another shard, so one folder never mixes two configurations, and
 * segments again the images whose detections changed (the plan holds a
 * digest of each image's detections); `merge` refuses shards whose records
 * differ, and takes the images' order from the plan. Written atomically when
 * a run starts (`state: "running"`) and again when it ends (`"done"`, or
 * `"incomplete"` with the failed images).
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import { writeFileAtomic } from "../formats/atomic_write.ts";
import { modelFilesSha256, type ModelManifest } from "../model/manifest.ts";
import { assignShards, type Shard } from "./shard.ts";
import { DETECTIONS_DIGEST_VERSION } from "./count_detections.ts";
import { READER_VERSION } from "./reader_version.ts";
import { UNKNOWN_SIDECARS } from "./sidecar_fingerprints.ts";
import type { SegmentRunOptions } from "./segment_run.ts";
import { batchSizeOf, type BoxSearch } from "./segment_image.ts";
import type { FlipTta } from "../model/flip_tta.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";

/** The record's file name inside the output folder. */
export const RUN_RECORD_FILE = "sopseg-run.json";

/** This sopseg's version (deno.json's), as a run record names it. */
export const SOPSEG_VERSION: string = denoJson.version;

/**
 * The digest version of the records of the one sopseg that recorded digests without naming
 * their version (it hashed the boxes as computed, not the detections as read).
 */
const UNNAMED_DIGEST_VERSION = "sopseg-detections-1";

/** The options that change what a run writes, with defaults resolved. */
export interface RunRecordOptions {
  /** Detection format asked for (`auto` sniffs per file). */
  format: string;
  /** Class names by id (YOLO-OBB, mmrotate JSON), or null. */
  class_names: string[] | null;
  /** The angle convention of mmrotate's JSON results; absent when none was given. */
  angle_convention?: string;
  /** `--min-score`, or null. */
  min_score: number | null;
  /** The coordinates asked for, resolved: `wgs84` or `raster`. */
  crs: string;
  /** `geojson` or `fgb`. */
  vector_format: string;
  /** Bands read (1-based), or null for the default (tagged red, green, blue, else the first three). */
  bands: number[] | null;
  /** `opm`, `box` or `points`. */
  prompt: string;
  /** The detections' classes were given to the model (`--class-prompt on`). */
  class_prompt: boolean;
  /** Polygon simplification in pixels. */
  simplify: number;
  /** Only the mask components under the box are kept. */
  keep_prompt_components: boolean;
  /** Crops per model call. */
  batch: number;
  /** `--box-search` (moves and margin); absent: off. */
  box_search?: BoxSearch;
  /**
   * `<stem>.overlay.png` written per image (`--overlay`); absent in records written before
   * sopseg recorded it, which say nothing either way.
   */
  overlay?: boolean;
}

/** One planned image: its name (relative to `--images`), detection count and their digest. */
export interface RunRecordImage {
  /** The image's path relative to `--images` (its file name for a folder). */
  image: string;
  /** Detections after `--min-score`: the work it stands for. */
  detections: number;
  /**
   * The SHA-256 (hex) of the image's detections as read, after `--min-score`
   * (`detectionsDigest` in `count_detections.ts`; of the file's text when it does not parse):
   * a `--resume` segments again an image whose detections changed. Absent when the file could
   * not be read when the run planned (not there, a link to nothing: an earlier record's digest
   * is kept then, and its count is not compared), and in records written before sopseg
   * recorded it.
   */
  detections_sha256?: string;
  /**
   * A fingerprint of the files beside the image that change how it is read (world files,
   * `.aux.xml`, `.prj`, `.msk`: what the readers take from them; `sidecarFingerprints` in
   * `sidecar_fingerprints.ts`); absent when there are none, `unknown` when they could not be
   * read when the run planned (an earlier record's value is kept then). A `--resume` segments
   * again an image whose fingerprint changed. Recorded by every record that names its
   * `detections_digest` (records written before sopseg-reader-2 fingerprinted the files'
   * sizes and modification times: a resume over one redoes the images that have sidecars).
   */
  sidecars?: string;
}

/** Input files a run left out when it planned: in no shard's share, so no retry segments them. */
export interface LeftOutInputs {
  /** Why, as the run said it (a warning). */
  reason: string;
  /** The files (their names), at most {@linkcode LEFT_OUT_FILES_KEPT} of them. */
  files: string[];
  /** How many files: more than `files` holds when there were many. */
  count: number;
}

/** The most file names a {@linkcode LeftOutInputs} keeps. */
export const LEFT_OUT_FILES_KEPT = 100;

/** The content of `sopseg-run.json`. */
export interface RunRecord {
  format: "sopseg-run";
  format_version: 1;
  /** The sopseg version (deno.json's) that wrote the record; absent in records of earlier ones. */
  sopseg_version?: string;
  /**
   * How that sopseg read rasters and detection files (`READER_VERSION` in
   * `reader_version.ts`); absent in records of earlier ones.
   */
  reader_version?: string;
  /**
   * What the plan's `detections_sha256` hash (`DETECTIONS_DIGEST_VERSION` in
   * `count_detections.ts`): digests of two versions are never compared. Absent in records
   * written before sopseg named it ({@linkcode digestVersion}).
   */
  detections_digest?: string;
  /** The model: manifest name and the SHA-256 of each of its files. */
  model: {
    name: string;
    files_sha256: Record<string, string>;
    /**
     * The small graphs' routing threshold when the run set it (`--small-graphs N`); absent:
     * the one in the manifest that `files_sha256` pins.
     */
    small_max_crop_side?: number;
    /** The crops also run mirrored (`--tta`) when not `off`; absent: `off`. */
    tta?: FlipTta;
  };
  /** The backend the run used (WASM and WebGPU agree within a parity tolerance, not bit for bit). */
  backend: string;
  /** Options that change results. */
  options: RunRecordOptions;
  /** This run's share, or null for a run over every image. */
  shard: Shard | null;
  /** Every image of the whole run (all shards), in the order a single run writes them. */
  plan: RunRecordImage[];
  /** `running` while the run works (or after it was killed), `done`, or `incomplete`. */
  state: "running" | "done" | "incomplete";
  /** Images that failed, when `incomplete`. */
  failed: string[];
  /**
   * Input files the run left out when it planned (files that cannot be paired, links in a
   * loop, results that name no image): the same in every shard's record; absent when none.
   */
  left_out?: LeftOutInputs[];
  /**
   * While `running`: the images of this share whose outputs in the folder were not made
   * from their present detections, being segmented again (a resume after the detections
   * changed); absent otherwise.
   */
  outdated?: string[];
  /**
   * While `running`: this is a `--resume` of a run that had ended, so `coco.json` still holds
   * that run's finished images (a resume rewrites it only when it ends); absent otherwise.
   */
  resumes_ended_run?: true;
}

/**
 * A run record that does not fit: resuming into a folder made with other
 * settings, or merging shards that differ. Retrying will not help, so the
 * CLI exits with code 2.
 */
export class RunRecordError extends Error {
  override name = "RunRecordError";
}

/**
 * The model's identity: its name and the SHA-256 of `manifest.json` and of
 * each graph file ({@linkcode modelFilesSha256}).
 *
 * @example
 * ```ts ignore
 * const id = await modelIdentity(model.manifest); // { name: "sopseg-lite", files_sha256: {...} }
 * ```
 */
export async function modelIdentity(manifest: ModelManifest): Promise<RunRecord["model"]> {
  const files_sha256 = { ...(await modelFilesSha256(manifest)) };
  const small = manifest.smallGraphs;
  return small?.manifestMaxCropSide === undefined
    ? { name: manifest.name, files_sha256 }
    : { name: manifest.name, files_sha256, small_max_crop_side: small.maxCropSide };
}

/**
 * Reads `<dir>/sopseg-run.json`; `null` when there is none. Throws a
 * RunRecordError when it is not a run record.
 */
export async function readRunRecord(dir: string): Promise<RunRecord | null> {
  const path = `${dir}/${RUN_RECORD_FILE}`;
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let record;
  try {
    record = JSON.parse(text);
  } catch (e) {
    throw new RunRecordError(`Cannot read ${path}: ${(e as Error).message}`);
  }
  if (record?.format !== "sopseg-run" || record.format_version !== 1) {
    throw new RunRecordError(`Cannot read ${path}: not a sopseg run record (format_version 1)`);
  }
  return record as RunRecord;
}

/** Writes `<dir>/sopseg-run.json` atomically; the plan one image per line. */
export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  const { plan, ...rest } = record;
  const head = JSON.stringify(rest, null, 1).replace(/\n}$/, "");
  const lines = plan.map((p) => `  ${JSON.stringify(p)}`).join(",\n");
  await writeFileAtomic(
    `${dir}/${RUN_RECORD_FILE}`,
    `${head},\n "plan": [${plan.length ? `\n${lines}\n ` : ""}]\n}\n`,
  );
}

/**
 * The record of a run of `model` with `options` over `plan` (every image of
 * the whole run, all shards), state `running`.
 */
export async function newRunRecord(
  model: Pick<SopsegModel, "manifest" | "backend"> & { tta?: FlipTta },
  options: SegmentRunOptions,
  plan: RunRecordImage[],
): Promise<RunRecord> {
  const tta = model.tta ?? "off";
  return {
    format: "sopseg-run",
    format_version: 1,
    sopseg_version: SOPSEG_VERSION,
    reader_version: READER_VERSION,
    detections_digest: DETECTIONS_DIGEST_VERSION,
    // tta only when on, so that the records of runs made before it existed still match
    model: { ...await modelIdentity(model.manifest), ...(tta === "off" ? {} : { tta }) },
    backend: model.backend,
    options: recordOptions(options),
    shard: options.shard ?? null,
    plan,
    state: "running",
    failed: [],
  };
}

/**
 * The version of the digests `record`'s plan holds: its `detections_digest`;
 * for a record that does not name it, `sopseg-detections-1` when some image
 * has a digest or its options name `overlay` (the one sopseg that recorded
 * digests unnamed, and `--overlay` with them: a run whose detection files
 * were all unreadable left every digest out), else `null` (a record written
 * before sopseg recorded digests).
 *
 * @example
 * ```ts ignore
 * digestVersion(record); // "sopseg-detections-2"
 * ```
 */
export function digestVersion(
  record: Pick<RunRecord, "plan" | "detections_digest" | "options">,
): string | null {
  if (record.detections_digest !== undefined) return record.detections_digest;
  return record.options.overlay !== undefined ||
      record.plan.some((p) => p.detections_sha256 !== undefined)
    ? UNNAMED_DIGEST_VERSION
    : null;
}

/**
 * Whether two sidecar fingerprints differ: `false` where either is
 * {@linkcode UNKNOWN_SIDECARS} (the files could not be read then).
 */
function sidecarsDiffer(x: string | undefined, y: string | undefined): boolean {
  return x !== y && x !== UNKNOWN_SIDECARS && y !== UNKNOWN_SIDECARS;
}

/** Which sopseg (and reader) wrote `record`, as the warnings name it. */
export function writtenBy(record: Pick<RunRecord, "sopseg_version" | "reader_version">): string {
  const version = record.sopseg_version;
  return (version === undefined ? "an earlier sopseg" : `sopseg ${version}`) +
    ` with ${record.reader_version ?? "an earlier reader"}`;
}

/** Whether `a` and `b` were written by one sopseg version that read its inputs alike. */
export function sameReader(
  a: Pick<RunRecord, "sopseg_version" | "reader_version">,
  b: Pick<RunRecord, "sopseg_version" | "reader_version">,
): boolean {
  return a.sopseg_version === b.sopseg_version && a.reader_version === b.reader_version;
}

/** Whether the digests of two records can be compared: both have them, of one version. */
function sameDigests(a: RunRecord, b: RunRecord): boolean {
  const v = digestVersion(a);
  return v !== null && v === digestVersion(b);
}

/** Whether `record` fingerprints the images' sidecar files (those that name their digests do). */
function recordsSidecars(record: RunRecord): boolean {
  return record.detections_digest !== undefined;
}

/**
 * Whether `record` knows how many detections `image` has: records without digests counted
 * every image; the others give an image whose file could not be read no digest.
 */
function countKnown(record: RunRecord, image: RunRecordImage): boolean {
  return digestVersion(record) === null || image.detections_sha256 !== undefined;
}

/**
 * What differs between two records' model, options and plan, one line per
 * difference (`[]` when they describe the same run). The backend, the shard
 * and the state are left to the caller. The detections of the planned images
 * are left to {@linkcode detectionsDiffer} when both records hold digests (a
 * resume segments changed images again); when one has none (an earlier
 * sopseg's), a different detection count is a difference here, except for an
 * image whose file could not be read (no digest: its count says nothing).
 *
 * @example
 * ```ts ignore
 * const why = recordDifferences(previous, current); // ["options.simplify: 0 vs 1"]
 * ```
 */
export function recordDifferences(a: RunRecord, b: RunRecord): string[] {
  const out: string[] = [];
  if (a.model.name !== b.model.name) out.push(`model: ${a.model.name} vs ${b.model.name}`);
  const files = new Set([
    ...Object.keys(a.model.files_sha256),
    ...Object.keys(b.model.files_sha256),
  ]);
  for (const f of files) {
    const x = a.model.files_sha256[f], y = b.model.files_sha256[f];
    if (x !== y) out.push(`model file ${f}: sha256 ${x?.slice(0, 12)} vs ${y?.slice(0, 12)}`);
  }
  const [ta, tb] = [a.model.small_max_crop_side, b.model.small_max_crop_side];
  if (ta !== tb) {
    const side = (t?: number) => t === undefined ? "the manifest's" : `${t} px`;
    out.push(`small graphs' crop side: ${side(ta)} vs ${side(tb)}`);
  }
  if ((a.model.tta ?? "off") !== (b.model.tta ?? "off")) {
    out.push(`--tta: ${a.model.tta ?? "off"} vs ${b.model.tta ?? "off"}`);
  }
  const [oa, ob] = [a.options.overlay, b.options.overlay];
  // a record from before --overlay was recorded says nothing either way
  if (oa !== undefined && ob !== undefined && oa !== ob) {
    out.push(`--overlay: ${oa ? "on" : "off"} vs ${ob ? "on" : "off"}`);
  }
  const keys = new Set([...Object.keys(a.options), ...Object.keys(b.options)]);
  keys.delete("overlay");
  for (const k of keys) {
    // a field a record leaves out when off (angle_convention, box_search) reads "none"
    const x = JSON.stringify((a.options as unknown as Record<string, unknown>)[k]) ?? "none";
    const y = JSON.stringify((b.options as unknown as Record<string, unknown>)[k]) ?? "none";
    if (x !== y) out.push(`options.${k}: ${x} vs ${y}`);
  }
  // decided by the records (a field), not by whether some image happens to have a digest
  const counted = digestVersion(a) === null || digestVersion(b) === null;
  const names = (r: RunRecord) => JSON.stringify(r.plan.map((p) => p.image));
  const sameNames = names(a) === names(b);
  const countsDiffer = counted && sameNames &&
    a.plan.some((p, i) => {
      const q = b.plan[i]!;
      return countKnown(a, p) && countKnown(b, q) && p.detections !== q.detections;
    });
  if (!sameNames || countsDiffer) {
    const names = (r: RunRecord) => new Set(r.plan.map((p) => p.image));
    const na = names(a), nb = names(b);
    const only = (x: Set<string>, y: Set<string>) => [...x].filter((n) => !y.has(n));
    const ab = only(na, nb), ba = only(nb, na);
    out.push(
      `images: ${a.plan.length} vs ${b.plan.length}` +
        (ab.length ? `, only in the first: ${ab.slice(0, 3).join(", ")}` : "") +
        (ba.length ? `, only in the second: ${ba.slice(0, 3).join(", ")}` : "") +
        (ab.length || ba.length
          ? ""
          : counted
          ? ", same names with other detection counts or order"
          : ", same names in another order"),
    );
  }
  return out;
}

/**
 * The images of both plans whose inputs differ between the two records:
 * another detection count (the shares follow the counts), another digest
 * where both records hold one of one version, or other sidecar files (world
 * file, `.aux.xml`...) where both records fingerprint them.
 *
 * @example
 * ```ts ignore
 * detectionsDiffer(shard0.record, shard1.record); // ["img1.png"]: read from other labels
 * ```
 */
export function detectionsDiffer(a: RunRecord, b: RunRecord): string[] {
  const of = new Map(b.plan.map((p) => [p.image, p]));
  const digests = sameDigests(a, b), sidecars = recordsSidecars(a) && recordsSidecars(b);
  const out: string[] = [];
  for (const p of a.plan) {
    const q = of.get(p.image);
    if (q === undefined) continue;
    const [x, y] = [p.detections_sha256, q.detections_sha256];
    if (
      p.detections !== q.detections ||
      (digests && x !== undefined && y !== undefined && x !== y) ||
      (sidecars && sidecarsDiffer(p.sidecars, q.sidecars))
    ) {
      out.push(p.image);
    }
  }
  return out;
}

/** The names of the images of `record`'s plan in its shard's share (all without a shard). */
export function shareOf(record: Pick<RunRecord, "plan" | "shard">): Set<string> {
  const { plan, shard } = record;
  if (shard === null) return new Set(plan.map((p) => p.image));
  const of = assignShards(
    plan.map((p) => ({ name: p.image, detections: p.detections })),
    shard.count,
  );
  return new Set(plan.filter((_, i) => of[i] === shard.index).map((p) => p.image));
}

/**
 * The options of `options` that change results, defaults resolved as
 * {@linkcode segmentRun} and `segmentBoxes` resolve them.
 */
export function recordOptions(options: SegmentRunOptions): RunRecordOptions {
  const vectorFormat = options.vectorFormat ?? "geojson";
  return {
    format: options.format ?? "auto",
    class_names: options.classNames ? [...options.classNames] : null,
    // only when given, so that the records of runs made before it existed still match
    ...(options.angleConvention ? { angle_convention: options.angleConvention } : {}),
    min_score: options.minScore ?? null,
    crs: options.crs ?? (vectorFormat === "fgb" ? "raster" : "wgs84"),
    vector_format: vectorFormat,
    bands: options.bands ? [...options.bands] : null,
    prompt: options.promptMode ?? "opm",
    class_prompt: options.classPrompt ?? true,
    simplify: options.simplify ?? 0,
    keep_prompt_components: options.keepPromptComponents ?? true,
    batch: batchSizeOf(options),
    // only when on, so that the records of runs made before it existed still match
    ...(options.boxSearch ? { box_search: { ...options.boxSearch } } : {}),
    overlay: options.overlay ?? false,
  };
}

/**
 * The one warning a `--resume` into a folder whose record is `previous` owes
 * its user, or `null`: the record was written before sopseg recorded the
 * detections' digests (images skipped by their outputs, unchecked), with
 * digests of another version (checked by their count only), or by another
 * sopseg version (the outputs of skipped images are as that one made them; it
 * may have read the images otherwise, e.g. their georeference sidecars).
 *
 * @example
 * ```ts ignore
 * resumeWarning(previous); // "was written by sopseg 0.1.0 (this is 0.2.0): ..."
 * ```
 */
export function resumeWarning(previous: RunRecord): string | null {
  if (previous.plan.length === 0) return null;
  const version = previous.sopseg_version;
  const by = version === undefined ? "an earlier sopseg" : `sopseg ${version}`;
  const digests = digestVersion(previous);
  if (digests === null) {
    return `was written by ${by}, which did not record the detections: images whose outputs ` +
      `exist are skipped without checking that their detections are unchanged (this run ` +
      `records them: a later --resume checks)`;
  }
  if (digests !== DETECTIONS_DIGEST_VERSION) {
    return `was written by ${by}, whose digests of the detections (${digests}) this one does ` +
      `not compare: images whose outputs exist and whose detection count is unchanged are ` +
      `skipped without checking their detections or georeference files (this run records ` +
      `them: a later --resume checks); rerun without --resume to segment every image again`;
  }
  const now = { sopseg_version: SOPSEG_VERSION, reader_version: READER_VERSION };
  if (!sameReader(previous, now)) {
    return `was written by ${writtenBy(previous)} (this is ${
      writtenBy(now)
    }): images whose detections ` +
      `and georeference files are unchanged are skipped, their outputs as that version made ` +
      `them (it may have read the images or detections otherwise); rerun without --resume ` +
      `to segment every image with this one`;
  }
  return null;
}

function shardText(s: Shard | null): string {
  return s === null ? "no --shard" : `--shard ${s.index}/${s.count}`;
}

/** What {@linkcode beginRunRecord} found in the folder. */
export interface RunStart {
  /**
   * The earlier record as it was (read leniently without `resume`: an unreadable one is
   * `null` there, since a new run replaces it). Its state says whether the folder's
   * coco.json is that run's: only a run that ended (`done` or `incomplete`) wrote one; a
   * run started over says `running` until it ends, whatever coco.json an earlier run left.
   */
  previous: RunRecord | null;
  /**
   * The record to write when the run ends (with its state): the one given, where the
   * detections of an image could not be read now, with the earlier record's digest.
   */
  record: RunRecord;
  /**
   * With `resume`: images of this share whose inputs differ from those the earlier run
   * segmented (another digest of their detections, other sidecar files, another count where
   * the digests are of another version, or a resume of them that did not end): to segment
   * again.
   */
  changed: string[];
  /**
   * The images of `changed` whose detections are the same and whose sidecar files (world
   * file, `.aux.xml`, `.prj`, `.msk`) changed: their georeference, nodata or mask may be
   * another.
   */
  sidecarsChanged: string[];
  /**
   * With `resume`: images of this share that were not in the earlier run's share (the
   * detection counts moved them between shards): to segment whatever the folder holds.
   */
  moved: string[];
}

/**
 * Starts a run in `dir`: with `resume`, checks that an earlier record there
 * describes the same model, options, images and shard (a RunRecordError
 * saying what differs otherwise) and finds the images to segment again (their
 * detections changed). Then writes `record` with state `running` (and those
 * images as `outdated`, so that a resume killed before it redid them still
 * redoes them).
 */
export async function beginRunRecord(
  dir: string,
  record: RunRecord,
  resume: boolean,
): Promise<RunStart> {
  const previous = resume ? await readRunRecord(dir) : await readRunRecord(dir).catch(() => null);
  const changed: string[] = [], moved: string[] = [], sidecarsChanged: string[] = [];
  if (resume && previous !== null) {
    const why = recordDifferences(previous, record);
    if (shardText(previous.shard) !== shardText(record.shard)) {
      why.push(`shard: ${shardText(previous.shard)} vs ${shardText(record.shard)}`);
    }
    if (why.length) {
      throw new RunRecordError(
        `Cannot resume in ${dir}: it holds a run made with other settings (earlier vs now: ${
          why.join("; ")
        }); use another --out folder, or rerun without --resume to start over`,
      );
    }
    const before = new Map(previous.plan.map((p) => [p.image, p]));
    const digests = sameDigests(previous, record);
    const sidecars = recordsSidecars(previous) && recordsSidecars(record);
    // a file that could not be read now (not there, a link to nothing; one that reads but
    // does not parse has a digest of its text): its outputs were made from what the earlier
    // run read, so its digest stays for the next resume; so do sidecars that could not be read
    record = {
      ...record,
      plan: record.plan.map((p) => {
        const q = before.get(p.image);
        const digest = q?.detections_sha256;
        let kept = digests && p.detections_sha256 === undefined && digest !== undefined
          ? { ...p, detections_sha256: digest }
          : p;
        if (sidecars && q !== undefined && p.sidecars === UNKNOWN_SIDECARS) {
          const { sidecars: _, ...rest } = kept;
          kept = q.sidecars === undefined ? rest : { ...rest, sidecars: q.sidecars };
        }
        return kept;
      }),
    };
    const [was, now] = [shareOf(previous), shareOf(record)];
    const pending = new Set(previous.outdated ?? []);
    for (const p of record.plan) {
      if (!now.has(p.image)) continue;
      const q = before.get(p.image)!;
      const [x, y] = [p.detections_sha256, q.detections_sha256];
      const detections = x !== undefined && y !== undefined &&
        (digests ? x !== y : p.detections !== q.detections);
      const georef = sidecars && sidecarsDiffer(p.sidecars, q.sidecars);
      if (!was.has(p.image)) moved.push(p.image);
      else if (pending.has(p.image) || detections || georef) {
        changed.push(p.image);
        if (georef && !detections) sidecarsChanged.push(p.image);
      }
    }
  }
  const ended = previous !== null && (previous.state === "done" ||
    previous.state === "incomplete" || previous.resumes_ended_run === true);
  const outdated = [...changed, ...moved];
  await writeRunRecord(dir, {
    ...record,
    state: "running",
    failed: [],
    ...(outdated.length ? { outdated } : {}),
    ...(resume && ended ? { resumes_ended_run: true as const } : {}),
  });
  return { previous, record, changed, sidecarsChanged, moved };
}
