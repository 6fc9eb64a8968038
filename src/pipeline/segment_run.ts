/**
 * A whole segmentation run: images + detection files -> GeoJSON per image,
 * one COCO file, optional overlays. Shared by the CLI and other front ends;
 * it prints nothing and reports through `onEvent`.
 *
 * Every output file is written atomically. Per image, a COCO part file
 * (`.sopseg-parts/<stem>.json`) is kept so that `resume` can skip finished
 * images and `coco.json` is rebuilt from the parts at the end. A run in which
 * no image failed removes `.sopseg-parts/` when it is done; a later `resume`
 * then takes the finished images' annotations from `coco.json`.
 *
 * @module
 */
import {
  type Detection,
  detectionOrigin,
  type ParseIssue,
  selectDetections,
} from "../formats/detection.ts";
import type { AngleConvention } from "../geometry/oriented_box.ts";
import type { Georef, RasterSource } from "../raster/source.ts";
import { fileStem, matchDetectionFiles } from "../formats/detection_files.ts";
import type { InstanceResult } from "../formats/instance_result.ts";
import {
  featureCollectionToText,
  type InstanceFeature,
  instancesToFeatureCollection,
  instanceToFeature,
  type OutputFrame,
} from "../formats/geojson_writer.ts";
import { CocoWriter } from "../formats/coco_writer.ts";
import { writeFileAtomic } from "../formats/atomic_write.ts";
import type { Rle } from "../masks/rle.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import { openRaster } from "../raster/open_raster.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";
import {
  type DetectionFormat,
  parseDetections,
  perFileFormat,
  type ResultsFormat,
} from "./detections_input.ts";
import { batchSizeOf, instanceResult, segmentBoxes, type SegmentOptions } from "./segment_image.ts";
import { newTimings, type Timings } from "./timings.ts";
import { plannedDetections } from "./count_detections.ts";
import { sidecarFingerprints } from "./sidecar_fingerprints.ts";
import { assignShards, type Shard } from "./shard.ts";
import {
  beginRunRecord,
  LEFT_OUT_FILES_KEPT,
  type LeftOutInputs,
  newRunRecord,
  resumeWarning,
  RUN_RECORD_FILE,
  type RunRecord,
  RunRecordError,
  type RunRecordImage,
  writeRunRecord,
} from "./run_record.ts";
import { baseName, pathExists } from "./paths.ts";
import { lockOutFolder, RunBusyError } from "./out_lock.ts";
import { IMAGE_EXTENSIONS, listImages } from "./list_images.ts";
import { refuseOverwritingInputs } from "./run_outputs.ts";
import {
  nodataWarning,
  notUtf8Warning,
  outsideImageWarning,
  rasterWarnings,
} from "./input_warnings.ts";
import {
  danglingLinkMessage,
  isDirectory,
  listFiles,
  MissingInputError,
  orphanIdsMessage,
  readResults,
} from "./results_input.ts";
import {
  AngleConventionError,
  looksLikeMmrotateJson,
  parseMmrotateJson,
} from "../formats/mmrotate_json.ts";

/** Image file extensions a folder scan picks up. */
export { IMAGE_EXTENSIONS };
/** Another run is writing the same `out` folder (front ends exit 1: a retry may go on). */
export { RunBusyError };

/** Where detections come from. */
export type DetectionsInput =
  | { kind: "path"; path: string }
  | { kind: "text"; text: string; source: string }
  | { kind: "list"; detections: Detection[]; source: string };

/** Options of {@linkcode segmentRun}. */
export interface SegmentRunOptions extends
  Pick<
    SegmentOptions,
    "batchSize" | "promptMode" | "classPrompt" | "simplify" | "keepPromptComponents" | "boxSearch"
  > {
  /** An image file or a folder of images. */
  images: string;
  /** A detection file, a folder of them (matched to images by stem), or text (stdin). */
  detections: DetectionsInput;
  /**
   * Detection format; `auto` sniffs each file, takes a folder (or file) of
   * `Task1_<class>.txt` files as DOTA Task1 results and a `.json` file holding
   * an array as mmrotate's JSON results. Default: `"auto"`.
   */
  format?: DetectionFormat | ResultsFormat | "auto";
  /**
   * How the angle of mmrotate's `[cx, cy, w, h, angle]` boxes is measured (the
   * detector's `angle_version`); required for such results.
   */
  angleConvention?: AngleConvention;
  /** Leave out detections scored below this; those without a score are kept. Default: none. */
  minScore?: number;
  /**
   * Coordinates written for a georeferenced raster: `"wgs84"`, longitude/latitude
   * as RFC 7946 asks of GeoJSON (no `crs` member), or `"raster"`, the raster's
   * own CRS (named in the file). A raster without georeference is written in
   * pixels, unless `"wgs84"` was asked for, which fails that image. Default:
   * `"wgs84"` for GeoJSON, `"raster"` for FlatGeobuf.
   */
  crs?: "raster" | "wgs84";
  /** The per-image vector file: `<stem>.geojson` or `<stem>.fgb` (FlatGeobuf). Default: `"geojson"`. */
  vectorFormat?: "geojson" | "fgb";
  /** Class names by id, for YOLO-OBB and mmrotate's JSON results. */
  classNames?: readonly string[];
  /** Output folder, or `null` to stream features through `onFeature` only. */
  out: string | null;
  /** Receives one GeoJSON feature per instance, in detection order, when `out` is null. */
  onFeature?: (feature: InstanceFeature) => void;
  /** Write `<stem>.overlay.png` per image. Default: false. */
  overlay?: boolean;
  /**
   * Skip images whose outputs already exist, unless their detections changed
   * since (the run record's digests): those are segmented again. Default: false.
   */
  resume?: boolean;
  /** Bands to read (1-based). Default: those a GeoTIFF tags red, green, blue, else the first three. */
  bands?: number[];
  /** Receives events (progress, issues, per image results). */
  onEvent?: (event: RunEvent) => void;
  /** Accumulates seconds per stage. */
  timings?: Timings;
  /** Stops the run between batches. */
  signal?: AbortSignal;
  /**
   * Segment only this share of the images (`--shard INDEX/COUNT`): the same on
   * every machine, balanced by detection count ({@linkcode assignShards}).
   * Default: every image.
   */
  shard?: Shard;
}

/** What a run reports while it works. */
export type RunEvent =
  | { kind: "issue"; issue: ParseIssue }
  | { kind: "warning"; message: string }
  | { kind: "results-reading"; source: string; what: string }
  | {
    kind: "results-read";
    source: string;
    what: string;
    /** Detections kept (scored `minScore` or more, or unscored), over all image ids. */
    detections: number;
    /** Image ids the results name. */
    imageIds: number;
    seconds: number;
  }
  | { kind: "image-start"; image: string; index: number; total: number; boxes: number }
  | { kind: "progress"; image: string; done: number; boxes: number; instances: number }
  | { kind: "image-done"; image: string; instances: number; seconds: number }
  | { kind: "image-skipped"; image: string; reason: string }
  | { kind: "image-failed"; image: string; message: string };

/** The outcome of a run. */
export interface RunSummary {
  /** Images segmented in this run. */
  imagesDone: number;
  /** Images skipped by `resume`. */
  imagesSkipped: number;
  /** Images that failed, each reported by an `image-failed` event. */
  imagesFailed: number;
  /** Instances segmented in this run. */
  instances: number;
  /** Malformed detection lines (reported, skipped). */
  issues: number;
  /**
   * Image and detection files left out when the run planned (several share a
   * stem, a link in a loop, results that name no image), reported by a warning:
   * counted and said by shard 0 only (or a run without a shard), since they are
   * in no shard's share; every shard's run record names them (`left_out`).
   */
  inputsLeftOut: number;
  /** Wall seconds. */
  seconds: number;
  /** Seconds per stage. */
  timings: Timings;
  /** Output files written (absolute or as given). */
  written: string[];
  /**
   * Instances whose detection class the model was not trained on, by class name (the
   * features carry `in_training_classes: false`); empty when all were, or the model does not say.
   */
  outsideTrainingClasses: Record<string, number>;
  /**
   * Instances whose class is a bare number (a YOLO-OBB class id read without
   * `classNames`), by that number: the model is told "unknown" for them.
   */
  bareClassIds: Record<string, number>;
  /**
   * With `boxSearch`: boxes searched (those on the main graphs; their features carry
   * `box_moved`), and how many of their masks are a moved box's (`box_moved: true`); both 0
   * without it. Like `instances`, this run's images only: not those a resume skips.
   */
  boxSearch: { searched: number; moved: number };
}

interface PartFile {
  image: { fileName: string; width: number; height: number };
  annotations: {
    detectionIndex: number;
    className: string;
    score: number | null;
    box: Detection["box"];
    rle: Rle;
    area: number;
    bbox: [number, number, number, number];
    predictedIou: number;
    inTrainingClasses?: boolean;
    /** With the box search: whether the mask is a moved box's (`box_moved`). */
    boxMoved?: boolean;
    /** The prompt box corners as coco.json had them (a part rebuilt by `readCoco`). */
    obb?: number[];
    /** Where the detection was read from (`detectionOrigin`). */
    sourceFile: string | null;
    sourceLine: number | null;
    sourceRecord: number | null;
  }[];
}

/**
 * The outputs in `out` (vector files named `<stem>.<extension>`) of the images
 * of `earlier`'s plan that are not in `plan` (this run's share): files a new run
 * leaves as they are.
 */
async function staleOutputs(
  out: string,
  earlier: RunRecord | null,
  plan: readonly { image: string }[],
  extension: string,
): Promise<string[]> {
  if (earlier === null) return [];
  const now = new Set(plan.map((p) => fileStem(p.image)));
  const other = extension === "fgb" ? "geojson" : "fgb";
  const stale: string[] = [];
  for (const { image } of earlier.plan) {
    const stem = fileStem(image);
    if (!now.has(stem) && await pathExists(`${out}/${stem}.${extension}`)) {
      stale.push(`${stem}.${extension}`);
    }
    // this run's images in the other vector format: an earlier run's, with other settings
    if (await pathExists(`${out}/${stem}.${other}`)) stale.push(`${stem}.${other}`);
  }
  return stale;
}

/**
 * The images of an earlier run's coco.json as part files, by file name;
 * `null` when there is none. The written `obb` corners are kept and written
 * again as they are; the box rebuilt from them is approximate (3 decimals).
 */
async function readCoco(path: string): Promise<Map<string, PartFile> | null> {
  let coco;
  try {
    coco = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new TypeError(`Cannot resume from ${path}: ${(e as Error).message}`);
  }
  const names = new Map<number, string>(
    (coco.categories ?? []).map((c: { id: number; name: string }) => [c.id, c.name]),
  );
  const parts = new Map<number, PartFile>();
  const byName = new Map<string, PartFile>();
  for (const im of coco.images ?? []) {
    const part: PartFile = {
      image: { fileName: im.file_name, width: im.width, height: im.height },
      annotations: [],
    };
    parts.set(im.id, part);
    byName.set(im.file_name, part);
  }
  for (const a of coco.annotations ?? []) {
    const o = a.obb as number[];
    const [x0 = 0, y0 = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0, x3 = 0, y3 = 0] = o;
    parts.get(a.image_id)?.annotations.push({
      detectionIndex: a.detection_index,
      className: names.get(a.category_id) ?? String(a.category_id),
      score: a.score,
      box: {
        cx: (x0 + x1 + x2 + x3) / 4,
        cy: (y0 + y1 + y2 + y3) / 4,
        width: Math.hypot(x1 - x0, y1 - y0),
        height: Math.hypot(x2 - x1, y2 - y1),
        angle: Math.atan2(y1 - y0, x1 - x0),
      },
      rle: a.segmentation,
      area: a.area,
      bbox: a.bbox,
      predictedIou: a.predicted_iou,
      inTrainingClasses: a.in_training_classes,
      boxMoved: a.box_moved,
      obb: o,
      // absent from a coco.json written before sopseg 0.1's source_* members
      sourceFile: a.source_file ?? null,
      sourceLine: a.source_line ?? null,
      sourceRecord: a.source_record ?? null,
    });
  }
  return byName;
}

/** A part annotation's record of where its detection was read from. */
function sourceOf(detection: Detection): {
  sourceFile: string | null;
  sourceLine: number | null;
  sourceRecord: number | null;
} {
  const { file, line, record } = detectionOrigin(detection);
  return { sourceFile: file, sourceLine: line, sourceRecord: record };
}

/** The frame of the written coordinates, from `crs` and the raster's georeference. */
function outputFrame(options: SegmentRunOptions, georef: Georef | null): "auto" | OutputFrame {
  const crs = options.crs ?? (options.vectorFormat === "fgb" ? "raster" : "wgs84");
  if (crs === "raster") return "auto";
  // Asked for WGS84 without a georeference: the writer says why it cannot.
  return georef === null && options.crs === undefined ? "pixel" : "wgs84";
}

/**
 * Detections keyed by image id -> one job per image, matched by file stem. Ids
 * no image has are said; when not one id names an image, the results are left
 * out (`leaveOut`), as nothing of them was segmented.
 */
function planByImageId(
  images: string[],
  byImage: Map<string, Detection[]>,
  source: string,
  what: string,
  warn: (m: string) => void,
  leaveOut: (m: string, files: string[]) => void,
) {
  const stems = new Set(images.map(fileStem));
  const orphans = [...byImage.keys()].filter((id) => !stems.has(id)).sort();
  if (orphans.length && orphans.length === byImage.size) {
    leaveOut(
      `${orphanIdsMessage(orphans, what)}; not one of them names one of the ${images.length} ` +
        `image(s), so none of its detections is segmented (image ids ` +
        `are matched to the images' file stems, e.g. ${fileStem(images[0]!)})`,
      [source],
    );
  } else if (orphans.length) {
    warn(orphanIdsMessage(orphans, what));
  }
  // An image no record names has no detections: it gets empty outputs.
  return images.map((image) => ({
    image,
    detections: {
      kind: "list",
      detections: byImage.get(fileStem(image)) ?? [],
      source,
    } as DetectionsInput,
  }));
}

/** The detections of an image without a detection file (said per image, by its shard). */
const NO_DETECTION_FILE = "(no detection file)";

/**
 * Pair images with detection sources; unpaired files become warnings, and
 * files that cannot be paired (a shared stem) or read (a link in a loop) are
 * left out (`leaveOut`, with the files). A link to nothing is planned as the
 * file it names (a volume mounted late): its image fails when the run gets to
 * it, and a retry with `--resume` finds it. What no shard holds (a detection
 * file without an image) is said only by shard 0 (or the run without a shard).
 */
async function planRun(
  options: SegmentRunOptions,
  warn: (m: string) => void,
  onIssue: (issue: ParseIssue) => void,
  emit: (e: RunEvent) => void,
  leaveOut: (m: string, files: string[]) => void,
) {
  const loop = (path: string) =>
    leaveOut(`${path} is a symbolic link in a loop of links; left out`, [path]);
  const det = options.detections;
  const folders: string[] = [];
  const images = (await isDirectory(options.images))
    ? await listImages(options.images, {
      keepDangling: true,
      onLoop: loop,
      onFolder: (f) => folders.push(f),
      onWarning: warn,
    })
    : [options.images];
  // the run's own folders (--out, a labels folder kept beside the images) are no news
  const real = (p: string) => Deno.realPath(p).catch(() => p);
  const own = new Set(
    await Promise.all(
      [options.out, det.kind === "path" ? det.path : null]
        .filter((p): p is string => p !== null).map(real),
    ),
  );
  for (let i = folders.length - 1; i >= 0; i--) {
    if (own.has(await real(folders[i]!))) folders.splice(i, 1);
  }
  folders.sort();
  const named = `${folders.slice(0, 3).map(baseName).join(", ")}${
    folders.length > 3 ? ", ..." : ""
  }`;
  if (images.length === 0) {
    throw new TypeError(
      `Cannot segment: no images (${IMAGE_EXTENSIONS.join(", ")}) in ${options.images}` +
        (folders.length ? ` (its subfolders, not searched: ${named}; give one of them)` : ""),
    );
  }
  if (folders.length > 0) {
    warn(
      `${folders.length} subfolder(s) of ${options.images} not searched (${named}): only its own ` +
        `images are segmented; give a subfolder as --images to segment its`,
    );
  }
  if (det.kind === "path") {
    const start = performance.now();
    const results = await readResults(det.path, {
      ...options,
      onReading: (source, what) => emit({ kind: "results-reading", source, what }),
    });
    if (results !== null) {
      emit({
        kind: "results-read",
        source: results.source,
        what: results.what,
        detections: [...results.byImage.values()].reduce((n, list) => n + list.length, 0),
        imageIds: results.byImage.size,
        seconds: (performance.now() - start) / 1000,
      });
      for (const issue of results.issues) onIssue(issue);
      for (const w of results.warnings ?? []) warn(w);
      return planByImageId(
        images,
        results.byImage,
        results.source,
        results.what,
        warn,
        leaveOut,
      );
    }
  } else if (
    det.kind === "text" && (options.format === "mmrotate-json" ||
      ((options.format ?? "auto") === "auto" && looksLikeMmrotateJson(det.text)))
  ) {
    // mmrotate results piped in: many images' records, split by image id as from a file
    const parsed = parseMmrotateJson(det.text, {
      source: det.source,
      angleConvention: options.angleConvention,
      classNames: options.classNames,
    });
    for (const issue of parsed.issues) onIssue(issue);
    for (const w of parsed.warnings) warn(w);
    return planByImageId(
      images,
      parsed.byImage,
      det.source,
      "the mmrotate results",
      warn,
      leaveOut,
    );
  } else if (
    det.kind === "text" && (options.format === "task1" ||
      ((options.format ?? "auto") === "auto" && looksLikeTask1(det.text)))
  ) {
    throw new TypeError(
      `Cannot read DOTA Task1 results from ${det.source}: their class is in the file name; give the files (--detections Task1_<class>.txt or their folder)`,
    );
  }
  if (det.kind === "text" || det.kind === "list") {
    if (images.length !== 1) {
      throw new TypeError(
        `Cannot read detections from ${det.source}: stdin takes one image (--images FILE), got ${images.length}`,
      );
    }
    return [{ image: images[0]!, detections: det }];
  }
  if (!(await isDirectory(det.path))) {
    if (images.length !== 1) {
      throw new TypeError(
        `Cannot pair one detection file (${det.path}) with ${images.length} images: give a folder of detection files named after the images`,
      );
    }
    return [{ image: images[0]!, detections: det }];
  }
  const files = await listFiles(det.path, (n) => /\.(txt|geojson|json)$/i.test(n), {
    keepDangling: true, // paired, it fails when read: the image is retried
    onLoop: loop,
  });
  const match = matchDetectionFiles(images, files);
  for (const a of match.ambiguous) {
    leaveOut(
      `several ${a.kind} files share the stem "${a.stem}": ${a.paths.join(", ")}; left out ` +
        `(rename or move all but one)`,
      a.paths,
    );
  }
  // An image without a detection file is one the detector found nothing in (YOLO and DOTA
  // tools write no file then), as an image that Task1 or mmrotate results do not name: it is
  // written with no masks, and coco.json lists it.
  const unpaired = match.detectionsWithoutImages;
  if (match.pairs.length === 0 && unpaired.length > 0) {
    // Not one file pairs: another folder, files named otherwise (numbers, a suffix): said once.
    leaveOut(
      `not one of the ${unpaired.length} detection file(s) in ${det.path} is named ` +
        `after one of the ${images.length} image(s) (${
          unpaired.slice(0, 3).map(baseName).join(", ")
        }${unpaired.length > 3 ? ", ..." : ""}): a detection file pairs with the image of ` +
        `its stem (${fileStem(images[0]!)}.txt for ${baseName(images[0]!)}); left out, and the ` +
        `images written with no detections`,
      unpaired,
    );
  } else if ((options.shard?.index ?? 0) === 0) {
    for (const d of unpaired) warn(`no image for detection file ${d}`);
  }
  // said by the shard that holds the image (segmentRun), unless said once above
  const none: DetectionsInput = {
    kind: "list",
    detections: [],
    source: unpaired.length > 0 && match.pairs.length === 0 ? "(left out)" : NO_DETECTION_FILE,
  };
  const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [
    ...match.pairs.map((p) => ({
      image: p.image,
      detections: { kind: "path", path: p.detections } as DetectionsInput,
    })),
    ...match.imagesWithoutDetections.map((image) => ({ image, detections: none })),
  ].sort((a, b) => byString(fileStem(a.image), fileStem(b.image)) || byString(a.image, b.image));
}

/**
 * Every planned image with its detection count (the run record's plan), and
 * the entries of `plan` in this run's share: all of them without
 * `options.shard`.
 */
async function shareOfPlan<T extends { image: string; detections: DetectionsInput }>(
  planned: T[],
  options: SegmentRunOptions,
): Promise<{ images: RunRecordImage[]; plan: T[] }> {
  const images: RunRecordImage[] = [];
  const sidecars = await sidecarFingerprints(planned.map((p) => p.image));
  for (const [i, p] of planned.entries()) {
    const { count, sha256 } = await plannedDetections(p.detections, options);
    images.push({
      image: baseName(p.image),
      detections: count,
      ...(sha256 === null ? {} : { detections_sha256: sha256 }),
      ...(sidecars[i] === undefined ? {} : { sidecars: sidecars[i] }),
    });
  }
  const shard = options.shard;
  if (shard === undefined) return { images, plan: planned };
  const shardOf = assignShards(
    images.map((i) => ({ name: i.image, detections: i.detections })),
    shard.count,
  );
  return { images, plan: planned.filter((_, i) => shardOf[i] === shard.index) };
}

/**
 * Opens the model once {@linkcode segmentRun} knows how much work its share of
 * the run holds: `batches` model calls (the sum over its images of their
 * detections over the batch size, rounded up). The CLI uses it
 * to start no more WASM sessions than there are batches, which saves a small
 * run (one image, a few boxes) the start of a second worker.
 */
export type ModelOpener = (work: { batches: number }) => Promise<SopsegModel>;

/**
 * The run could not start: its inputs (unreadable results, stdin for a
 * folder), its model or its output folder. Nothing was segmented and a retry
 * will not help until the cause is fixed, so the CLI exits with code 2.
 * `cause` is the error it stands for. A missing input path is not one: it
 * stays a MissingInputError (exit 1, worth a retry on a cluster).
 */
export class RunSetupError extends Error {
  override name = "RunSetupError";
}

/**
 * Removes the temporary files of atomic writes (`.<name>.<digits>.tmp`) that a
 * killed run left in `dir` (the folder's lock is held: no run is writing them).
 */
async function removeLeftTemporaries(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /^\..+\.\d+\.tmp$/.test(entry.name)) {
        await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** `e` as a {@linkcode RunSetupError}, but errors front ends tell apart as they are. */
function setupError(e: unknown, prefix = ""): unknown {
  if (
    !(e instanceof Error) || e instanceof RunRecordError || e instanceof AngleConventionError ||
    e instanceof RunBusyError ||
    e instanceof MissingInputError || e instanceof Deno.errors.NotCapable ||
    e.name === "AbortError"
  ) {
    return e;
  }
  return new RunSetupError(prefix + e.message, { cause: e });
}

/**
 * Segment every detection of every image. Returns when all images are done;
 * failures of single images are reported and counted, not thrown. A run that
 * cannot start throws a {@linkcode RunSetupError} (a RunRecordError for a
 * `--resume` into another run's folder).
 *
 * @example
 * ```ts ignore
 * const summary = await segmentRun(model, { images: "imgs/", detections: { kind: "path", path: "labels/" }, out: "out/" });
 * ```
 */
export async function segmentRun(
  modelOrOpener: SopsegModel | ModelOpener,
  options: SegmentRunOptions,
): Promise<RunSummary> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const timings = options.timings ?? newTimings();
  const summary: RunSummary = {
    imagesDone: 0,
    imagesSkipped: 0,
    imagesFailed: 0,
    instances: 0,
    issues: 0,
    inputsLeftOut: 0,
    seconds: 0,
    timings,
    written: [],
    outsideTrainingClasses: {},
    bareClassIds: {},
    boxSearch: { searched: 0, moved: 0 },
  };
  // Inputs left out are in no shard's share: every shard records them, shard 0 says them
  // (and counts them: a retry cannot segment them, so the others need not fail for them).
  const leftOut: LeftOutInputs[] = [];
  const reporter = (options.shard?.index ?? 0) === 0;
  const { images: plannedImages, plan } = await planRun(
    options,
    (message) => emit({ kind: "warning", message }),
    (issue) => {
      summary.issues++;
      emit({ kind: "issue", issue });
    },
    emit,
    (message, files) => {
      leftOut.push({
        reason: message,
        files: files.slice(0, LEFT_OUT_FILES_KEPT).map(baseName),
        count: files.length,
      });
      if (!reporter) return;
      summary.inputsLeftOut += files.length;
      emit({ kind: "warning", message });
    },
  ).then(async (planned) => {
    await refuseOverwritingInputs(planned, options); // before anything is written
    return shareOfPlan(planned, options);
  }).catch((e) => {
    throw setupError(e);
  });
  for (const { image, detections } of plan) {
    if (detections.kind === "list" && detections.source === NO_DETECTION_FILE) {
      emit({
        kind: "warning",
        message: `no detection file for image ${image}: written with no detections`,
      });
    }
  }
  const out = options.out?.replace(/\/+$/, "") ?? null;
  // One run writes a folder at a time (a scheduler's retry beside a worker still alive would
  // otherwise lose images from coco.json): taken before the model starts.
  let lock: { release: () => void } | null = null;
  if (out !== null) {
    await Deno.mkdir(out, { recursive: true }).catch(async (e) => {
      const file = await Deno.stat(out).then((st) => !st.isDirectory, () => false);
      throw file
        ? new RunSetupError(`Cannot write to --out ${out}: it is a file, not a folder`)
        : setupError(e, `Cannot write to --out ${out}: `);
    });
    lock = await lockOutFolder(out, { shard: options.shard ?? null }).catch((e) => {
      throw setupError(e, `Cannot write to --out ${out}: `);
    });
  }
  try {
    return await runLocked(modelOrOpener, options, {
      out,
      plannedImages,
      leftOut,
      plan,
      summary,
      emit,
      timings,
      started,
    });
  } finally {
    lock?.release();
  }
}

/** {@linkcode segmentRun} once `out`'s lock is held. */
async function runLocked(
  modelOrOpener: SopsegModel | ModelOpener,
  options: SegmentRunOptions,
  run: {
    out: string | null;
    plannedImages: RunRecordImage[];
    leftOut: LeftOutInputs[];
    plan: { image: string; detections: DetectionsInput }[];
    summary: RunSummary;
    emit: (e: RunEvent) => void;
    timings: Timings;
    started: number;
  },
): Promise<RunSummary> {
  const { out, plannedImages, leftOut, plan, summary, emit, timings, started } = run;
  // The first image opens while the model's sessions start: opening the runtime waits on
  // file reads and WebAssembly compilation, and a PNG or JPEG decodes meanwhile (a few-box
  // run's start: BENCHMARKS.md, cold start). Not with --resume, which may skip the image.
  // It is plan[0]'s raster.
  let firstSource: Promise<RasterSource> | undefined;
  if (typeof modelOrOpener === "function" && plan.length > 0 && !options.resume) {
    firstSource = openRaster(plan[0]!.image, { bands: options.bands });
    firstSource.catch(() => {}); // reported when the image is segmented
  }
  let model: SopsegModel;
  if (typeof modelOrOpener === "function") {
    const per = new Map(plannedImages.map((i) => [i.image, i.detections]));
    const batchSize = batchSizeOf(options);
    const batches = plan.reduce(
      (n, p) => n + Math.ceil((per.get(baseName(p.image)) ?? 0) / batchSize),
      0,
    );
    try {
      model = await modelOrOpener({ batches });
    } catch (e) {
      await firstSource?.then((source) => source.close(), () => {});
      throw setupError(e);
    }
  } else {
    model = modelOrOpener;
  }
  const partsDir = out === null ? null : `${out}/.sopseg-parts`;
  const extension = options.vectorFormat === "fgb" ? "fgb" : "geojson";
  // sopseg-run.json: what made this folder's outputs (resume and merge check it).
  let record: RunRecord | null = null;
  let earlier: RunRecord | null = null;
  // images whose outputs here were not made from their present detections: segmented again
  const outdated = new Set<string>();
  const changed = new Set<string>();
  const georefChanged = new Set<string>(); // of changed: the sidecars, not the detections
  if (out !== null) {
    await removeLeftTemporaries(out);
    await removeLeftTemporaries(partsDir!);
    const start = await beginRunRecord(
      out,
      {
        ...await newRunRecord(model, options, plannedImages),
        ...(leftOut.length ? { left_out: leftOut } : {}),
      },
      options.resume ?? false,
    );
    ({ previous: earlier, record } = start);
    for (const name of start.changed) changed.add(name);
    for (const name of start.sidecarsChanged) georefChanged.add(name);
    for (const name of [...start.changed, ...start.moved]) {
      outdated.add(name);
      // no longer a finished image, should this run fail or be killed before it is redone
      await Deno.remove(`${partsDir}/${fileStem(name)}.json`).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    const caveat = options.resume && earlier !== null ? resumeWarning(earlier) : null;
    if (caveat !== null) {
      emit({ kind: "warning", message: `${out}/${RUN_RECORD_FILE} ${caveat}` });
    }
    if (!options.resume) {
      // A new run: an earlier run's parts must not pass for this one's on a resume.
      await Deno.remove(partsDir!, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      const stale = await staleOutputs(out, earlier, plan, extension);
      if (stale.length) {
        emit({
          kind: "warning",
          message: `${out} holds ${stale.length} file(s) of an earlier run that this run does ` +
            `not write (${stale.slice(0, 3).join(", ")}${
              stale.length > 3 ? ", ..." : ""
            }: other images, or another --vector-format); ` +
            `they are not part of this run's coco.json`,
        });
      }
    }
    await Deno.mkdir(partsDir!, { recursive: true });
  }
  // After a run that ended (parts removed), coco.json records the finished images: only when
  // the record says this run ended (or that a resume of it was at work: coco.json is rewritten
  // only at the end), so not a coco.json that a run started over in this folder found there
  // (the record then says `running`).
  const ended = earlier?.state === "done" || earlier?.state === "incomplete" ||
    earlier?.resumes_ended_run === true;
  const previous = options.resume && ended ? await readCoco(`${out}/coco.json`) : null;
  for (const name of outdated) previous?.delete(name);

  const failedAt: number[] = [];
  const streamedFrames = new Set<string>();
  const doImage = async (index: number) => {
    const source = index === 0 ? firstSource : undefined;
    if (options.signal?.aborted) {
      await source?.then((s) => s.close(), () => {});
      options.signal.throwIfAborted();
    }
    const { image, detections } = plan[index]!;
    const stem = fileStem(image);
    const geojsonPath = out === null ? null : `${out}/${stem}.${extension}`;
    const partPath = partsDir === null ? null : `${partsDir}/${stem}.json`;
    if (
      options.resume && geojsonPath && partPath && !outdated.has(baseName(image)) &&
      await pathExists(geojsonPath) &&
      (await pathExists(partPath) || previous?.has(baseName(image)))
    ) {
      summary.imagesSkipped++;
      emit({ kind: "image-skipped", image, reason: `${geojsonPath} exists (--resume)` });
      return;
    }
    if (changed.has(baseName(image))) {
      emit({
        kind: "warning",
        message: georefChanged.has(baseName(image))
          ? `${image}: its georeference files (world file, .aux.xml, .prj, .msk) changed ` +
            `since it was segmented: segmented again`
          : `${image}: detections changed since they were segmented: segmented again`,
      });
    }
    const t0 = performance.now();
    try {
      const n = await segmentOneImage(model, options, {
        image,
        source,
        detections,
        geojsonPath,
        partPath,
        overlayPath: out !== null && options.overlay ? `${out}/${stem}.overlay.png` : null,
        index,
        total: plan.length,
        timings,
        summary,
        emit,
        streamedFrames,
      });
      summary.imagesDone++;
      summary.instances += n;
      emit({ kind: "image-done", image, instances: n, seconds: (performance.now() - t0) / 1e3 });
    } catch (e) {
      if (options.signal?.aborted) throw e;
      summary.imagesFailed++;
      failedAt.push(index);
      emit({ kind: "image-failed", image, message: (e as Error).message });
    }
  };
  // A model with several sessions works on as many images at once, so that an
  // image with fewer batches than sessions (a small tile) leaves none idle. The
  // outputs are per image and coco.json follows the plan: the same files either way.
  const lanes = Math.max(1, Math.min(model.concurrency, plan.length));
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (nextIndex < plan.length) await doImage(nextIndex++);
    }),
  );
  const failedImages = failedAt.sort((x, y) => x - y).map((i) => baseName(plan[i]!.image));

  if (out !== null) {
    const t0 = performance.now();
    const coco = new CocoWriter({
      info: { description: "sopseg instance masks", model: model.manifest.name },
    });
    for (const { image } of plan) {
      const partPath = `${partsDir}/${fileStem(image)}.json`;
      const part = await pathExists(partPath)
        ? JSON.parse(await Deno.readTextFile(partPath)) as PartFile
        : previous?.get(baseName(image));
      if (part === undefined) continue;
      const imageId = coco.addImage(part.image);
      for (const a of part.annotations) {
        coco.addAnnotation(imageId, {
          detectionIndex: a.detectionIndex,
          detection: {
            box: a.box,
            className: a.className,
            score: a.score,
            difficult: false,
            source: a.sourceFile ?? "",
            line: a.sourceLine ?? 0,
            ...(a.sourceRecord === null ? {} : { feature: a.sourceRecord }),
          },
          polygons: [],
          rle: a.rle,
          area: a.area,
          bbox: a.bbox,
          predictedIou: a.predictedIou,
          inTrainingClasses: a.inTrainingClasses,
          boxMoved: a.boxMoved,
        }, { obb: a.obb });
      }
    }
    await writeFileAtomic(`${out}/coco.json`, coco.chunks());
    summary.written.push(`${out}/coco.json`);
    // The parts only serve a resume; after a run without failures coco.json holds it all.
    if (summary.imagesFailed === 0) await Deno.remove(partsDir!, { recursive: true });
    await writeRunRecord(out, {
      ...record!,
      state: failedImages.length ? "incomplete" : "done",
      failed: failedImages,
    });
    timings.write += (performance.now() - t0) / 1e3;
  }
  summary.seconds = (performance.now() - started) / 1e3;
  return summary;
}

interface ImageJob {
  image: string;
  /** The image already being opened (the run's first, while the model started). */
  source?: Promise<RasterSource>;
  detections: DetectionsInput;
  geojsonPath: string | null;
  partPath: string | null;
  overlayPath: string | null;
  index: number;
  total: number;
  timings: Timings;
  summary: RunSummary;
  emit: (e: RunEvent) => void;
  /** The frames already said of features streamed through `onFeature` (one warning each). */
  streamedFrames: Set<string>;
}

/**
 * Throws `e`, or, when `path` is a link to nothing (a split's link whose target is not there
 * yet), an error that says so rather than the system's.
 */
async function sayDanglingLink(path: string, e: unknown): Promise<never> {
  const message = await danglingLinkMessage(path);
  throw message === null ? e : new Error(message, { cause: e });
}

/** A detection file's text; one that is not UTF-8 is read all the same, and said. */
async function readDetectionText(path: string, emit: (e: RunEvent) => void): Promise<string> {
  const text = await Deno.readTextFile(path).catch((e) => sayDanglingLink(path, e));
  const warning = notUtf8Warning(path, text);
  if (warning !== undefined) emit({ kind: "warning", message: warning });
  return text;
}

/**
 * Whether the first data line reads `image_id score x1 y1 .. x4 y4` (DOTA
 * Task1 results) and not as a DOTA box: 10 fields, a first that is not a
 * number, a score between 0 and 1, then 8 numbers.
 */
function looksLikeTask1(text: string): boolean {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("#"));
  const f = line?.split(/\s+/) ?? [];
  const n = f.map(Number);
  return f.length === 10 && !Number.isFinite(n[0]) && n[1]! >= 0 && n[1]! <= 1 &&
    n.slice(2).every(Number.isFinite);
}

async function segmentOneImage(
  model: SopsegModel,
  options: SegmentRunOptions,
  job: ImageJob,
): Promise<number> {
  const { image, emit, timings } = job;
  const source = await (job.source ?? openRaster(image, { bands: options.bands }))
    .catch((e) => sayDanglingLink(image, e));
  try {
    const writerOptions = {
      sourceImage: baseName(image),
      georef: source.georef,
      coordinates: outputFrame(options, source.georef),
    };
    for (const message of rasterWarnings(image, source)) emit({ kind: "warning", message });
    // Fail before any model call when the coordinates cannot be written (no CRS, unknown
    // CRS); by default (no `crs` asked for) keep the raster's CRS instead, and say so.
    let frame: OutputFrame;
    try {
      frame = instancesToFeatureCollection([], writerOptions)["sopseg:coordinates"];
    } catch (e) {
      if (options.crs !== undefined) throw e;
      writerOptions.coordinates = "auto";
      frame = instancesToFeatureCollection([], writerOptions)["sopseg:coordinates"];
      emit({
        kind: "warning",
        message: `${(e as Error).message}; written in the raster's CRS instead`,
      });
    }
    // Streamed features (newline-delimited GeoJSON) have no collection to name their frame:
    // each says it, and a frame other than WGS84 is said once (readers take them for WGS84)
    let streamed: Record<string, string> = {};
    if (job.geojsonPath === null) {
      const head = instancesToFeatureCollection([], writerOptions);
      const crs = head.crs?.properties.name ?? head["sopseg:crs_wkt"];
      streamed = {
        "sopseg:coordinates": frame,
        ...(crs === undefined ? {} : { "sopseg:crs": crs }),
      };
      if (frame !== "wgs84" && !job.streamedFrames.has(frame)) {
        job.streamedFrames.add(frame);
        emit({
          kind: "warning",
          message:
            `${image}: streamed features are in ${
              frame === "pixel" ? "pixel coordinates" : `the raster's CRS (${crs ?? "unnamed"})`
            }, which readers of GeoJSON sequences take for WGS84; each line says its frame ` +
            `("sopseg:coordinates", "sopseg:crs")`,
        });
      }
    }
    const det = job.detections;
    const parsed = det.kind === "list"
      ? { detections: det.detections, issues: [] }
      : parseDetections(det.kind === "text" ? det.text : await readDetectionText(det.path, emit), {
        source: det.kind === "text" ? det.source : det.path,
        format: perFileFormat(options.format),
        imageWidth: source.width,
        imageHeight: source.height,
        georef: source.georef,
        classNames: options.classNames,
      });
    for (const issue of parsed.issues) {
      job.summary.issues++;
      emit({ kind: "issue", issue });
    }
    const dets = options.minScore === undefined
      ? parsed.detections
      : selectDetections(parsed.detections, { minScore: options.minScore });
    const outside = outsideImageWarning(image, dets, source.width, source.height);
    if (outside !== undefined) emit({ kind: "warning", message: outside });
    emit({ kind: "image-start", image, index: job.index, total: job.total, boxes: dets.length });
    const results: InstanceResult[] = [];
    const masks: MaskWindow[] = [];
    const nodata: number[] = [];
    for await (
      const r of segmentBoxes(model, {
        source,
        boxes: dets.map((d) => d.box),
        classes: dets.map((d) => d.className),
      }, {
        batchSize: options.batchSize,
        promptMode: options.promptMode,
        classPrompt: options.classPrompt,
        simplify: options.simplify,
        keepPromptComponents: options.keepPromptComponents,
        boxSearch: options.boxSearch,
        timings,
        signal: options.signal,
        onProgress: (done, boxes) =>
          emit({ kind: "progress", image, done, boxes, instances: job.summary.instances + done }),
      })
    ) {
      const result = instanceResult(model, r, dets);
      nodata.push(r.nodataShare);
      if (r.moved !== undefined) {
        job.summary.boxSearch.searched++;
        if (r.moved) job.summary.boxSearch.moved++;
      }
      const name = result.detection.className;
      if (/^\d+$/.test(name)) {
        job.summary.bareClassIds[name] = (job.summary.bareClassIds[name] ?? 0) + 1;
      }
      if (result.inTrainingClasses === false) {
        job.summary.outsideTrainingClasses[name] = (job.summary.outsideTrainingClasses[name] ?? 0) +
          1;
      }
      if (job.overlayPath) masks.push(r.mask);
      if (job.geojsonPath === null) {
        const t0 = performance.now();
        options.onFeature?.({ ...instanceToFeature(result, writerOptions), ...streamed });
        timings.write += (performance.now() - t0) / 1e3;
      } else {
        results.push(result);
      }
    }
    // a raster of nodata only was said as such: not again box by box
    const onNodata = source.pixelsNote === undefined ? nodataWarning(image, nodata) : undefined;
    if (onNodata !== undefined) emit({ kind: "warning", message: onNodata });
    if (job.geojsonPath !== null && job.partPath !== null) {
      const t0 = performance.now();
      const fc = instancesToFeatureCollection(results, writerOptions);
      if (options.vectorFormat === "fgb") {
        const epsg = frame === "wgs84"
          ? 4326
          : frame === "map"
          ? source.georef?.epsg ?? null
          : null;
        const wkt = frame === "map" ? source.georef?.wkt ?? null : null;
        // the FlatGeobuf writer and the overlay (fast-png) load when a run asks for them
        const { featureCollectionToFlatGeobuf } = await import("../formats/flatgeobuf_writer.ts");
        // a box-searched run's files all have the box_moved column
        const boxMoved = options.boxSearch !== undefined;
        await writeFileAtomic(
          job.geojsonPath,
          featureCollectionToFlatGeobuf(fc, { epsg, wkt, boxMoved }),
        );
      } else {
        await writeFileAtomic(job.geojsonPath, featureCollectionToText(fc));
      }
      const part: PartFile = {
        image: { fileName: baseName(image), width: source.width, height: source.height },
        annotations: results.map((r) => ({
          detectionIndex: r.detectionIndex,
          className: r.detection.className,
          score: r.detection.score,
          box: r.detection.box,
          rle: r.rle,
          area: r.area,
          bbox: r.bbox,
          predictedIou: r.predictedIou,
          inTrainingClasses: r.inTrainingClasses,
          boxMoved: r.boxMoved,
          ...sourceOf(r.detection),
        })),
      };
      if (job.overlayPath) {
        const { overlaySidecars, renderOverlay } = await import("./overlay.ts");
        const png = await renderOverlay(source, { masks, boxes: dets.map((d) => d.box) });
        if (png) {
          await writeFileAtomic(job.overlayPath, png);
          job.summary.written.push(job.overlayPath);
          if (source.georef !== null) {
            // the overlay on the map, over the raster, in QGIS and GDAL
            const { worldFile, auxXml } = overlaySidecars(source.georef);
            const stemPath = job.overlayPath.replace(/\.png$/, "");
            await writeFileAtomic(`${stemPath}.pgw`, worldFile);
            if (auxXml !== null) await writeFileAtomic(`${job.overlayPath}.aux.xml`, auxXml);
          }
        } else {
          emit({ kind: "warning", message: `${image}: too large for an overlay, skipped` });
        }
      }
      // The part file goes last: its presence marks the image as finished.
      await writeFileAtomic(job.partPath, JSON.stringify(part));
      job.summary.written.push(job.geojsonPath);
      timings.write += (performance.now() - t0) / 1e3;
    }
    return dets.length;
  } finally {
    await source.close();
  }
}
