/**
 * A whole segmentation run: images + detection files -> GeoJSON per image,
 * one COCO file, optional overlays. Shared by the CLI and other front ends;
 * it prints nothing and reports through `onEvent`.
 *
 * Every output file is written atomically. Per image, a COCO part file
 * (`.sopseg-parts/<stem>.json`) is kept so that `resume` can skip finished
 * images and `coco.json` is rebuilt from the parts at the end.
 *
 * @module
 */
import type { Detection, ParseIssue } from "../formats/detection.ts";
import { fileStem, matchDetectionFiles } from "../formats/detection_files.ts";
import type { InstanceResult } from "../formats/instance_result.ts";
import {
  featureCollectionToText,
  type InstanceFeature,
  instancesToFeatureCollection,
  instanceToFeature,
} from "../formats/geojson_writer.ts";
import { CocoWriter } from "../formats/coco_writer.ts";
import { writeFileAtomic } from "../formats/atomic_write.ts";
import type { Rle } from "../masks/rle.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import { openRaster } from "../raster/open_raster.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";
import { type DetectionFormat, parseDetections } from "./detections_input.ts";
import { segmentBoxes, type SegmentOptions } from "./segment_image.ts";
import { newTimings, type Timings } from "./timings.ts";
import { renderOverlay } from "./overlay.ts";

/** Image file extensions a folder scan picks up. */
export const IMAGE_EXTENSIONS = [".tif", ".tiff", ".png", ".jpg", ".jpeg"] as const;

/** Where detections come from. */
export type DetectionsInput =
  | { kind: "path"; path: string }
  | { kind: "text"; text: string; source: string };

/** Options of {@linkcode segmentRun}. */
export interface SegmentRunOptions
  extends Pick<SegmentOptions, "batchSize" | "promptMode" | "simplify" | "keepPromptComponents"> {
  /** An image file or a folder of images. */
  images: string;
  /** A detection file, a folder of them (matched to images by stem), or text (stdin). */
  detections: DetectionsInput;
  /** Detection format; `auto` sniffs each file. Default: `"auto"`. */
  format?: DetectionFormat | "auto";
  /** YOLO-OBB class names by id. */
  classNames?: readonly string[];
  /** Output folder, or `null` to stream features through `onFeature` only. */
  out: string | null;
  /** Receives one GeoJSON feature per instance, in detection order, when `out` is null. */
  onFeature?: (feature: InstanceFeature) => void;
  /** Write `<stem>.overlay.png` per image. Default: false. */
  overlay?: boolean;
  /** Skip images whose outputs already exist. Default: false. */
  resume?: boolean;
  /** Bands to read (1-based). Default: the raster's first three. */
  bands?: number[];
  /** Receives events (progress, issues, per image results). */
  onEvent?: (event: RunEvent) => void;
  /** Accumulates seconds per stage. */
  timings?: Timings;
  /** Stops the run between batches. */
  signal?: AbortSignal;
}

/** What a run reports while it works. */
export type RunEvent =
  | { kind: "issue"; issue: ParseIssue }
  | { kind: "warning"; message: string }
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
  /** Wall seconds. */
  seconds: number;
  /** Seconds per stage. */
  timings: Timings;
  /** Output files written (absolute or as given). */
  written: string[];
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
  }[];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read ${path}: no such file or folder`);
    }
    throw e;
  }
}

/**
 * The files of `dir` whose names pass `keep`, sorted. Symlinks count when
 * they point at a file (dataset splits are often folders of links); a
 * dangling link is left out.
 */
async function listFiles(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const base = dir.replace(/\/+$/, "");
  for await (const e of Deno.readDir(dir)) {
    if (!keep(e.name)) continue;
    const path = `${base}/${e.name}`;
    if (e.isFile || (e.isSymlink && await isLinkToFile(path))) out.push(path);
  }
  return out.sort();
}

async function isLinkToFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/** Pair images with detection sources; unpaired files become warnings. */
async function planRun(options: SegmentRunOptions, warn: (m: string) => void) {
  const isImage = (n: string) => IMAGE_EXTENSIONS.some((e) => n.toLowerCase().endsWith(e));
  const images = (await isDirectory(options.images))
    ? await listFiles(options.images, isImage)
    : [options.images];
  if (images.length === 0) {
    throw new TypeError(
      `Cannot segment: no images (${IMAGE_EXTENSIONS.join(", ")}) in ${options.images}`,
    );
  }
  const det = options.detections;
  if (det.kind === "text") {
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
  const files = await listFiles(
    det.path,
    (n) => /\.(txt|geojson|json)$/i.test(n),
  );
  const match = matchDetectionFiles(images, files);
  for (const a of match.ambiguous) {
    warn(`several ${a.kind} files share the stem "${a.stem}": ${a.paths.join(", ")}; skipped`);
  }
  for (const i of match.imagesWithoutDetections) warn(`no detection file for image ${i}`);
  for (const d of match.detectionsWithoutImages) warn(`no image for detection file ${d}`);
  return match.pairs.map((p) => ({
    image: p.image,
    detections: { kind: "path", path: p.detections } as DetectionsInput,
  }));
}

/**
 * Segment every detection of every image. Returns when all images are done;
 * failures of single images are reported and counted, not thrown.
 *
 * @example
 * ```ts ignore
 * const summary = await segmentRun(model, { images: "imgs/", detections: { kind: "path", path: "labels/" }, out: "out/" });
 * ```
 */
export async function segmentRun(
  model: SopsegModel,
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
    seconds: 0,
    timings,
    written: [],
  };
  const plan = await planRun(options, (message) => emit({ kind: "warning", message }));
  const out = options.out?.replace(/\/+$/, "") ?? null;
  const partsDir = out === null ? null : `${out}/.sopseg-parts`;
  if (out !== null) await Deno.mkdir(partsDir!, { recursive: true });

  for (let index = 0; index < plan.length; index++) {
    options.signal?.throwIfAborted();
    const { image, detections } = plan[index]!;
    const stem = fileStem(image);
    const geojsonPath = out === null ? null : `${out}/${stem}.geojson`;
    const partPath = partsDir === null ? null : `${partsDir}/${stem}.json`;
    if (
      options.resume && geojsonPath && partPath && await exists(geojsonPath) &&
      await exists(partPath)
    ) {
      summary.imagesSkipped++;
      emit({ kind: "image-skipped", image, reason: `${geojsonPath} exists (--resume)` });
      continue;
    }
    const t0 = performance.now();
    try {
      const n = await segmentOneImage(model, options, {
        image,
        detections,
        geojsonPath,
        partPath,
        overlayPath: out !== null && options.overlay ? `${out}/${stem}.overlay.png` : null,
        index,
        total: plan.length,
        timings,
        summary,
        emit,
      });
      summary.imagesDone++;
      summary.instances += n;
      emit({ kind: "image-done", image, instances: n, seconds: (performance.now() - t0) / 1e3 });
    } catch (e) {
      if (options.signal?.aborted) throw e;
      summary.imagesFailed++;
      emit({ kind: "image-failed", image, message: (e as Error).message });
    }
  }

  if (out !== null) {
    const t0 = performance.now();
    const coco = new CocoWriter({
      info: { description: "sopseg instance masks", model: model.manifest.name },
    });
    for (const { image } of plan) {
      const partPath = `${partsDir}/${fileStem(image)}.json`;
      if (!(await exists(partPath))) continue;
      const part = JSON.parse(await Deno.readTextFile(partPath)) as PartFile;
      const imageId = coco.addImage(part.image);
      for (const a of part.annotations) {
        coco.addAnnotation(imageId, {
          detectionIndex: a.detectionIndex,
          detection: {
            box: a.box,
            className: a.className,
            score: a.score,
            difficult: false,
            source: "",
            line: 0,
          },
          polygons: [],
          rle: a.rle,
          area: a.area,
          bbox: a.bbox,
          predictedIou: a.predictedIou,
        });
      }
    }
    await writeFileAtomic(`${out}/coco.json`, coco.chunks());
    summary.written.push(`${out}/coco.json`);
    timings.write += (performance.now() - t0) / 1e3;
  }
  summary.seconds = (performance.now() - started) / 1e3;
  return summary;
}

interface ImageJob {
  image: string;
  detections: DetectionsInput;
  geojsonPath: string | null;
  partPath: string | null;
  overlayPath: string | null;
  index: number;
  total: number;
  timings: Timings;
  summary: RunSummary;
  emit: (e: RunEvent) => void;
}

async function segmentOneImage(
  model: SopsegModel,
  options: SegmentRunOptions,
  job: ImageJob,
): Promise<number> {
  const { image, emit, timings } = job;
  const source = await openRaster(image, { bands: options.bands });
  try {
    const det = job.detections;
    const text = det.kind === "text" ? det.text : await Deno.readTextFile(det.path);
    const parsed = parseDetections(text, {
      source: det.kind === "text" ? det.source : det.path,
      format: options.format,
      imageWidth: source.width,
      imageHeight: source.height,
      georef: source.georef,
      classNames: options.classNames,
    });
    for (const issue of parsed.issues) {
      job.summary.issues++;
      emit({ kind: "issue", issue });
    }
    const dets = parsed.detections;
    emit({ kind: "image-start", image, index: job.index, total: job.total, boxes: dets.length });
    const results: InstanceResult[] = [];
    const masks: MaskWindow[] = [];
    const writerOptions = { sourceImage: baseName(image), georef: source.georef };
    for await (
      const r of segmentBoxes(model, { source, boxes: dets.map((d) => d.box) }, {
        batchSize: options.batchSize,
        promptMode: options.promptMode,
        simplify: options.simplify,
        keepPromptComponents: options.keepPromptComponents,
        timings,
        signal: options.signal,
        onProgress: (done, boxes) =>
          emit({ kind: "progress", image, done, boxes, instances: job.summary.instances + done }),
      })
    ) {
      const result: InstanceResult = {
        detectionIndex: r.index,
        detection: dets[r.index]!,
        polygons: r.polygons,
        rle: r.rle!,
        area: r.area,
        bbox: r.bbox,
        predictedIou: r.predictedIou,
      };
      if (job.overlayPath) masks.push(r.mask);
      if (job.geojsonPath === null) {
        const t0 = performance.now();
        options.onFeature?.(instanceToFeature(result, writerOptions));
        timings.write += (performance.now() - t0) / 1e3;
      } else {
        results.push(result);
      }
    }
    if (job.geojsonPath !== null && job.partPath !== null) {
      const t0 = performance.now();
      const fc = instancesToFeatureCollection(results, writerOptions);
      await writeFileAtomic(job.geojsonPath, featureCollectionToText(fc));
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
        })),
      };
      if (job.overlayPath) {
        const png = await renderOverlay(source, { masks, boxes: dets.map((d) => d.box) });
        if (png) {
          await writeFileAtomic(job.overlayPath, png);
          job.summary.written.push(job.overlayPath);
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
