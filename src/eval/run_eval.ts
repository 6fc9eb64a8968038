/**
 * The evaluation loop: for every ground-truth instance of the selected
 * classes, a prompt (the GT oriented box of METHOD.md section 6, a given
 * detection box, optionally with seeded noise), a mask (from the caller's
 * segmenter or a baseline fill), and its IoU and Boundary IoU against the GT
 * mask. Writes nothing: it returns the report and the COCO results. Image
 * degradation is the segmenter's to apply; the report records it.
 *
 * @module
 */

import { enclosingHBox, type HBox, type OrientedBox } from "../geometry/oriented_box.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import { encodeRle, type Rle } from "../masks/rle.ts";
import { EvalAccumulator, type EvalSummary } from "./accumulator.ts";
import { BASELINE_KINDS, type BaselineKind, fillHBox, fillOrientedBox } from "./baselines.ts";
import { normalizeClassName, selectClasses } from "./class_map.ts";
import type { Detection } from "../formats/detection.ts";
import { type MatchCounts, matchDetections } from "./match_detections.ts";
import {
  annotatedCategoryIds,
  type CocoGt,
  type CocoImage,
  type GtInstance,
  gtInstances,
} from "./coco_gt.ts";
import { boundaryDilation, DEFAULT_DILATION_RATIO, maskScores } from "./metrics.ts";
import { perturbBox, type PromptNoiseOptions } from "./prompt_noise.ts";
import type { ImageDegradeOptions } from "./image_degrade.ts";
import { longSide, SizeAccumulator, type SizeBinSummary } from "./size_bins.ts";

/** One prompt handed to the segmenter. */
export interface EvalPrompt {
  /** The GT annotation id the prompt stands for. */
  annotationId: number;
  /** Category name as the GT file spells it. */
  className: string;
  /** The oriented-box prompt, pixel frame. */
  box: OrientedBox;
  /**
   * The horizontal box, pixel frame: the instance's tight box for an
   * unchanged GT prompt, else the box enclosing `box`.
   */
  hbox: HBox;
}

/**
 * Produces one mask per prompt, in the prompts' order (image pixel frame;
 * pixels outside the image are ignored).
 */
export type SegmentFn = (
  image: CocoImage,
  prompts: EvalPrompt[],
  signal?: AbortSignal,
) => Promise<MaskWindow[]>;

/** Progress after each image. */
export interface EvalProgress {
  /** Images done. */
  images: number;
  /** Images to do. */
  totalImages: number;
  /** Instances scored so far. */
  instances: number;
}

/** Options for {@linkcode evaluate}. Exactly one of `segment` and `baseline` is required. */
export interface EvaluateOptions {
  /** The segmenter (the model pipeline). */
  segment?: SegmentFn;
  /**
   * Images whose `segment` calls may be in flight at once (a model with several
   * sessions); scores are still added in image order. Default: 1.
   */
  concurrency?: number;
  /** Score the prompt filled as the mask instead of a segmenter. */
  baseline?: BaselineKind;
  /** Class names to score (see class_map.ts for names across datasets). Default: all classes. */
  classes?: readonly string[];
  /** Extra class groups, `{ name: [member, ...] }`. Default: none. */
  classGroups?: Readonly<Record<string, readonly string[]>>;
  /**
   * Given prompts (e.g. detections matched to the GT) by GT annotation id.
   * Instances without an entry are skipped and counted in `skippedInstances`.
   * Default: the GT prompt of every instance.
   */
  prompts?: ReadonlyMap<number, OrientedBox>;
  /**
   * A detector's boxes as the prompts: each image's detections are matched to its
   * GT instances (class and rotated IoU, {@linkcode matchDetections}); an instance
   * no detection matched is skipped (`skippedInstances`), and the counts go to
   * `detections` of the report. Not with `prompts`.
   */
  detections?: EvalDetections;
  /** Seeded noise on the prompts. Default: none. */
  promptNoise?: PromptNoiseOptions;
  /**
   * The degradation the segmenter applies to the images (`segment` applies it; this
   * records it in the report). Not with `baseline`, which reads no pixels. Default: none.
   */
  imageDegrade?: ImageDegradeOptions;
  /** Evaluate only the first this many images (file order). Default: all. */
  maxImages?: number;
  /**
   * Score at most this many instances per reported class, the first ones in
   * image order (a class-capped subset: rare classes whole, common ones
   * capped). Default: all.
   */
  maxPerClass?: number;
  /** Boundary IoU band width as a fraction of the image diagonal. Default: `0.005`. */
  dilationRatio?: number;
  /**
   * Edges in pixels of the size bins of `bySize` (size: long side of the GT
   * oriented box). Default: `[64, 256]`, i.e. bins `<64`, `64-256`, `>=256`.
   */
  sizeEdges?: readonly number[];
  /** Build COCO results entries. Default: `true`. */
  cocoResults?: boolean;
  /** Free-form settings copied into the report (model, ablation switches, ...). Default: `{}`. */
  settings?: Record<string, unknown>;
  /** Called after each image. */
  onProgress?: (progress: EvalProgress) => void;
  /** Aborts between images (and is passed to the segmenter). */
  signal?: AbortSignal;
}

/** A detector's output for {@linkcode EvaluateOptions.detections}. */
export interface EvalDetections {
  /** Where they come from (a path), for the report. */
  source: string;
  /** One image's detections (none: an empty list). */
  forImage(image: CocoImage): Promise<readonly Detection[]> | readonly Detection[];
  /** Rotated IoU a match needs. Default: 0.5. */
  iouThreshold?: number;
  /**
   * The class a detector's or the GT's class name means (detectors spell classes
   * otherwise than datasets). Default: the name normalised.
   */
  classOf?: (name: string) => string;
}

/** How a detector's boxes matched the GT (`detections` of the report; the counts: all classes). */
export interface EvalDetectionsReport extends MatchCounts {
  /** Where the detections came from. */
  source: string;
  /** Rotated IoU a match needed. */
  iouThreshold: number;
  /** Counts per class (the matching's class names), sorted by name. */
  classes: ({ className: string } & MatchCounts)[];
  /**
   * Detections of classes the evaluation does not score (none of the GT's selected
   * classes), left out of the matching: their count per class, most first.
   */
  otherClasses: { className: string; detections: number }[];
}

/** What produced the masks. */
export type EvalMode = "model" | BaselineKind;

/** The evaluation report (scores as fractions, 0..1). */
export interface EvalReport {
  /** The GT source (path). */
  gt: string;
  /** `"model"` for a segmenter, else the baseline. */
  mode: EvalMode;
  /** Images evaluated. */
  images: number;
  /** GT instances of the selected classes skipped for lack of a given prompt. */
  skippedInstances: number;
  /** Boundary IoU band width as a fraction of the image diagonal. */
  dilationRatio: number;
  /** Band widths in pixels that occurred (one per distinct image size). */
  dilations: number[];
  /** The prompt noise, or `null`. */
  promptNoise: PromptNoiseOptions | null;
  /**
   * The degradation of the images the segmenter read, or `null` (always set by
   * {@linkcode evaluate}; absent from reports written before it was recorded).
   */
  imageDegrade?: ImageDegradeOptions | null;
  /** The detector's boxes matched to the GT, when they were the prompts. */
  detections?: EvalDetectionsReport;
  /** The caller's settings. */
  settings: Record<string, unknown>;
  /** The scores. */
  summary: EvalSummary;
  /**
   * The scores by object size, smallest bin first. An instance's size is the
   * long side of the oriented box derived from its GT polygon (before prompt
   * noise; also when a given prompt replaces that box). Every bin lists the
   * classes of `summary.classes`, in the same order.
   */
  bySize: SizeBinSummary[];
  /** Wall time in seconds. */
  seconds: number;
}

/** One COCO results entry: the mask produced for one GT instance. */
export interface CocoResultEntry {
  /** The GT annotation id the mask was prompted by. */
  annotation_id: number;
  /** COCO image id. */
  image_id: number;
  /** COCO category id of the GT instance. */
  category_id: number;
  /** The mask, COCO compressed RLE over the full image. */
  segmentation: Rle;
  /** Always 1 (one mask per prompt; COCO tools want a score). */
  score: number;
  /** The mask's IoU with its GT mask. */
  iou: number;
  /** The mask's Boundary IoU with its GT mask. */
  boundary_iou: number;
}

/** The output of {@linkcode evaluate}. */
export interface EvaluateResult {
  /** The report. */
  report: EvalReport;
  /** One entry per scored instance (empty when `cocoResults` is false). */
  results: CocoResultEntry[];
}

/**
 * The prompt for one GT instance: its own oriented box, or the given one
 * (`options.prompts`), then the noise; `null` when prompts are given but
 * none for this instance.
 */
function promptFor(
  inst: GtInstance,
  options: EvaluateOptions,
  prompts: ReadonlyMap<number, OrientedBox> | undefined,
): EvalPrompt | null {
  let box = inst.box;
  let changed = false;
  if (prompts) {
    const given = prompts.get(inst.annotationId);
    if (given === undefined) return null;
    box = given;
    changed = true;
  }
  if (options.promptNoise) {
    box = perturbBox(box, inst.annotationId, options.promptNoise);
    changed = true;
  }
  return {
    annotationId: inst.annotationId,
    className: inst.className,
    box,
    hbox: changed ? enclosingHBox(box) : inst.hbox,
  };
}

function clipToImage(mask: MaskWindow, width: number, height: number): MaskWindow {
  if (
    mask.x0 >= 0 && mask.y0 >= 0 && mask.x0 + mask.width <= width && mask.y0 + mask.height <= height
  ) {
    return mask;
  }
  const x0 = Math.max(0, mask.x0), y0 = Math.max(0, mask.y0);
  const x1 = Math.min(width, mask.x0 + mask.width), y1 = Math.min(height, mask.y0 + mask.height);
  if (x1 <= x0 || y1 <= y0) return { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) };
  const w = x1 - x0;
  const data = new Uint8Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) {
    const src = (y - mask.y0) * mask.width + (x0 - mask.x0);
    data.set(mask.data.subarray(src, src + w), (y - y0) * w);
  }
  return { x0, y0, width: w, height: y1 - y0, data };
}

/**
 * Evaluates masks for the GT instances of a COCO file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt } from "./coco_gt.ts";
 * import { evaluate } from "./run_eval.ts";
 *
 * const gt = parseCocoGt({
 *   images: [{ id: 1, file_name: "a.jpg", width: 64, height: 64 }],
 *   categories: [{ id: 1, name: "ship" }],
 *   annotations: [
 *     { id: 5, image_id: 1, category_id: 1, segmentation: [[2, 2, 9, 2, 9, 6, 2, 6]], iscrowd: 0 },
 *   ],
 * });
 * // an axis-aligned rectangle is its own oriented box
 * const { report, results } = await evaluate(gt, { baseline: "obb-fill" });
 * assert.equal(report.summary.mIoU, 1);
 * assert.equal(results[0]!.annotation_id, 5);
 * ```
 */
export async function evaluate(gt: CocoGt, options: EvaluateOptions): Promise<EvaluateResult> {
  const started = performance.now();
  const { segment, baseline, signal } = options;
  if ((segment === undefined) === (baseline === undefined)) {
    throw new TypeError("Cannot evaluate: give exactly one of a segmenter and a baseline");
  }
  if (baseline !== undefined && options.imageDegrade !== undefined) {
    throw new TypeError(
      `Cannot evaluate: baseline ${baseline} reads no pixels, so image degradation changes nothing`,
    );
  }
  if (baseline !== undefined && !BASELINE_KINDS.includes(baseline)) {
    throw new RangeError(
      `Cannot evaluate: unknown baseline "${baseline}" (baselines: ${BASELINE_KINDS.join(", ")})`,
    );
  }
  const dilationRatio = options.dilationRatio ?? DEFAULT_DILATION_RATIO;
  const selection = selectClasses(
    options.classes,
    gt.categories.map((c) => c.name),
    { groups: options.classGroups },
  );
  const categoryIds = new Set(
    gt.categories.filter((c) => selection.reportName.has(c.name)).map((c) => c.id),
  );
  const explicit = options.classes !== undefined && options.classes.length > 0;
  const images = gt.images.slice(0, options.maxImages ?? gt.images.length);
  // Without a selection, the rows are the classes the evaluated images annotate, scored or
  // not: a class no detection matched stays in the table (no score, said) instead of
  // leaving the mean without a word.
  const rows = explicit ? selection.reportNames : (() => {
    const nameOf = new Map(gt.categories.map((c) => [c.id, c.name]));
    const present = new Set<string>();
    for (const image of images) {
      for (const a of gt.annotationsByImage.get(image.id) ?? []) {
        const name = selection.reportName.get(nameOf.get(a.categoryId) ?? "");
        if (name !== undefined) present.add(name);
      }
    }
    return selection.reportNames.filter((n) => present.has(n));
  })();
  const acc = new EvalAccumulator(rows);
  const sizes = new SizeAccumulator({ edges: options.sizeEdges, classNames: rows });
  const results: CocoResultEntry[] = [];
  const dilations = new Set<number>();
  let scored = 0;
  let skipped = 0;
  const perClass = new Map<string, number>();

  const det = options.detections;
  if (det !== undefined && options.prompts !== undefined) {
    throw new TypeError("Cannot evaluate: give either prompts or detections, not both");
  }
  const classOf = det?.classOf ?? normalizeClassName;
  // the classes a detection can be matched in: those of the scored GT categories that the GT
  // annotates (a file may list categories it never annotates: iSAID's 7-class file lists 15)
  const annotated = annotatedCategoryIds(gt);
  const matchable = new Set(
    gt.categories.filter((c) => categoryIds.has(c.id) && annotated.has(c.id))
      .map((c) => classOf(c.name)),
  );
  const matchCounts = new Map<string, MatchCounts>();
  // detections of classes the evaluation does not score, by class: left out, counted
  const otherClasses = new Map<string, number>();
  // Prompts first, in image order (the seeded noise and --max-per-class follow that order).
  const jobs: { image: CocoImage; instances: GtInstance[]; prompts: EvalPrompt[] }[] = [];
  for (const image of images) {
    const instances: GtInstance[] = [];
    const prompts: EvalPrompt[] = [];
    let all: Iterable<GtInstance> = gtInstances(gt, image, { categoryIds });
    let given = options.prompts;
    if (det !== undefined) {
      const list = [...all];
      all = list;
      const dets = [];
      for (const d of await det.forImage(image)) {
        const name = classOf(d.className);
        if (matchable.has(name)) dets.push(d);
        else otherClasses.set(name, (otherClasses.get(name) ?? 0) + 1);
      }
      const m = matchDetections(list, dets, { iouThreshold: det.iouThreshold, classOf });
      given = m.prompts;
      for (const [name, c] of m.counts) {
        const t = matchCounts.get(name) ?? { gt: 0, detections: 0, matched: 0 };
        matchCounts.set(name, {
          gt: t.gt + c.gt,
          detections: t.detections + c.detections,
          matched: t.matched + c.matched,
        });
      }
    }
    for (const inst of all) {
      if (options.maxPerClass !== undefined) {
        const name = selection.reportName.get(inst.className) ?? inst.className;
        const n = perClass.get(name) ?? 0;
        if (n >= options.maxPerClass) continue;
        perClass.set(name, n + 1);
      }
      const prompt = promptFor(inst, options, given);
      if (prompt === null) {
        skipped++;
        continue;
      }
      instances.push(inst);
      prompts.push(prompt);
    }
    jobs.push({ image, instances, prompts });
  }
  const masksFor = (job: typeof jobs[number]): Promise<MaskWindow[]> | MaskWindow[] => {
    const { image, prompts } = job;
    if (prompts.length === 0) return [];
    if (segment) return segment(image, prompts, signal);
    const fill = { imageWidth: image.width, imageHeight: image.height };
    return prompts.map((p) =>
      baseline === "obb-fill" ? fillOrientedBox(p.box, fill) : fillHBox(p.hbox, fill)
    );
  };
  const window = Math.max(1, options.concurrency ?? 1);
  const inFlight: Promise<MaskWindow[]>[] = [];
  let launched = 0;
  const launch = () => {
    signal?.throwIfAborted();
    const p = Promise.resolve(masksFor(jobs[launched++]!));
    p.catch(() => undefined); // awaited in turn below
    inFlight.push(p);
  };

  for (const [index, { image, instances, prompts }] of jobs.entries()) {
    while (launched < jobs.length && inFlight.length < window) launch();
    const masks = await inFlight.shift()!;
    const { width, height } = image;
    const dilation = boundaryDilation(width, height, { dilationRatio });
    dilations.add(dilation);
    if (prompts.length > 0) {
      const fill = { imageWidth: width, imageHeight: height };
      if (masks.length !== prompts.length) {
        throw new RangeError(
          `Cannot evaluate image ${image.fileName}: the segmenter returned ${masks.length} masks for ${prompts.length} prompts`,
        );
      }
      for (const [i, inst] of instances.entries()) {
        const mask = clipToImage(masks[i]!, width, height);
        const s = maskScores(mask, inst.mask, { ...fill, dilation });
        const name = selection.reportName.get(inst.className) ?? inst.className;
        acc.add(name, s.iou, s.boundaryIou);
        sizes.add(name, { longSide: longSide(inst.box), iou: s.iou, boundaryIou: s.boundaryIou });
        scored++;
        if (options.cocoResults !== false) {
          results.push({
            annotation_id: inst.annotationId,
            image_id: image.id,
            category_id: inst.categoryId,
            segmentation: encodeRle(mask, width, height),
            score: 1,
            iou: s.iou,
            boundary_iou: s.boundaryIou,
          });
        }
      }
    }
    options.onProgress?.({ images: index + 1, totalImages: images.length, instances: scored });
  }

  const summary = acc.summary();
  if (!explicit) {
    summary.classes.sort((a, b) =>
      a.className < b.className ? -1 : a.className > b.className ? 1 : 0
    );
  }
  return {
    report: {
      gt: gt.source,
      mode: baseline ?? "model",
      images: images.length,
      skippedInstances: skipped,
      dilationRatio,
      dilations: [...dilations].sort((a, b) => a - b),
      promptNoise: options.promptNoise ? { ...options.promptNoise } : null,
      imageDegrade: options.imageDegrade ? { ...options.imageDegrade } : null,
      ...(det === undefined
        ? {}
        : { detections: detectionsReport(det, matchCounts, otherClasses) }),
      settings: { ...(options.settings ?? {}) },
      summary,
      bySize: sizes.summary(summary.classes.map((c) => c.className)),
      seconds: (performance.now() - started) / 1000,
    },
    results,
  };
}

function detectionsReport(
  det: EvalDetections,
  counts: ReadonlyMap<string, MatchCounts>,
  others: ReadonlyMap<string, number>,
): EvalDetectionsReport {
  const classes = [...counts].map(([className, c]) => ({ className, ...c }))
    .sort((a, b) => a.className < b.className ? -1 : a.className > b.className ? 1 : 0);
  const sum = (k: keyof MatchCounts) => classes.reduce((a, c) => a + c[k], 0);
  return {
    source: det.source,
    iouThreshold: det.iouThreshold ?? 0.5,
    gt: sum("gt"),
    detections: sum("detections"),
    matched: sum("matched"),
    classes,
    otherClasses: [...others].map(([className, detections]) => ({ className, detections }))
      .sort((a, b) => b.detections - a.detections || (a.className < b.className ? -1 : 1)),
  };
}
