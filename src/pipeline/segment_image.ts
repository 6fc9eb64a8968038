/**
 * The per-image pipeline: oriented boxes + a raster -> one mask per box.
 *
 * For each detection: RAM crop around the enclosing horizontal box, a
 * windowed read of just the pixels the crop needs, the normalised crop tensor,
 * the OPM prompt tokens; crops run through the model in batches; each mask's
 * logits are pasted back into the image frame (threshold 0), optionally
 * reduced to the component(s) under the prompt, traced to polygons and
 * encoded as COCO RLE.
 *
 * @module
 */
import type { OrientedBox } from "../geometry/oriented_box.ts";
import { enclosingHBox } from "../geometry/oriented_box.ts";
import { type Crop, ramCrop, type RamSideOptions } from "../geometry/ram.ts";
import { type PromptMode, promptTokens } from "../geometry/prompt.ts";
import { emptyMaskWindow, maskBounds, type MaskWindow } from "../masks/mask_window.ts";
import { pasteBack } from "../masks/paste_back.ts";
import { keepPromptComponents } from "../masks/components.ts";
import { type Polygon, simplifyPolygon, traceMask } from "../masks/polygon.ts";
import { encodeRle, type Rle, rleArea, rleBbox } from "../masks/rle.ts";
import type { RasterSource, RgbWindow } from "../raster/source.ts";
import { cropReadWindow, writeCropTensor } from "../model/crop_tensor.ts";
import type { PromptBatch, SopsegModel } from "../model/sopseg_model.ts";
import { newTimings, type Timings } from "./timings.ts";
import type { Detection } from "../formats/detection.ts";
import type { InstanceResult } from "../formats/instance_result.ts";

/** Options of {@linkcode segmentBoxes}. */
export interface SegmentOptions {
  /** Crops per model call. Default: 8. */
  batchSize?: number;
  /** `opm`: 3 oriented points + box (the method); `box`: box only; `points`: points only. Default: `"opm"`. */
  promptMode?: PromptMode;
  /**
   * Crop rule. `ram`: region-adaptive magnification (METHOD.md 2). A number:
   * the ablation's fixed context, a square crop of that many pixels centred on
   * the object (grown to the object's size when smaller). Default: `"ram"`.
   */
  crop?: "ram" | number;
  /**
   * Give the model each box's class (`input.classes`) as its class prompt, for a model that
   * has one (the shipped model does: `class_prompt` in its manifest). false: every box's
   * class is unknown to it. Default: true.
   */
  classPrompt?: boolean;
  /** Keep only the mask component(s) under the prompt box. Default: true. */
  keepPromptComponents?: boolean;
  /** Produce polygons and RLE (false: masks only, e.g. for evaluation). Default: true. */
  vectorize?: boolean;
  /** Douglas-Peucker tolerance in pixels for polygons; 0 keeps every pixel edge. Default: 0. */
  simplify?: number;
  /** Adds seconds per stage. Default: a private record. */
  timings?: Timings;
  /** Called after each batch with the number of boxes done. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the work between batches. */
  signal?: AbortSignal;
  /**
   * Box search, for boxes a weak detector placed off their objects: a box whose crop runs
   * on the main graphs is also tried moved by `shift` times its long side, forwards and back
   * along each of its axes, and the mask of the moved box with the highest predicted IoU
   * is kept where that beats the given box's by more than `margin` (up to 5 model calls for
   * such a box). Default: off.
   */
  boxSearch?: BoxSearch;
}

/** {@linkcode SegmentOptions.boxSearch}. */
export interface BoxSearch {
  /** How far each moved box goes, as a share of the box's long side (e.g. 0.06). */
  shift: number;
  /** How much more predicted IoU a moved box needs than the given one (e.g. 0.05). */
  margin: number;
}

/**
 * What is wrong with `search` as a box search, the field and why (`shift` in (0, 1), `margin`
 * in [0, 1)); `null` when nothing is. The CLI and the server check their input with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxSearchProblem } from "./segment_image.ts";
 *
 * assert.equal(boxSearchProblem({ shift: 0.06, margin: 0.05 }), null);
 * assert.deepEqual(boxSearchProblem({ shift: 1.5, margin: 0 }), {
 *   field: "shift",
 *   message: "must be in (0, 1), got 1.5",
 * });
 * ```
 */
export function boxSearchProblem(
  search: BoxSearch,
): { field: keyof BoxSearch; message: string } | null {
  const { shift, margin } = search;
  if (!(shift > 0 && shift < 1)) {
    return { field: "shift", message: `must be in (0, 1), got ${shift}` };
  }
  if (!(margin >= 0 && margin < 1)) {
    return { field: "margin", message: `must be in [0, 1), got ${margin}` };
  }
  return null;
}

/** The box search of `--box-search on`: moves of 0.06 of the long side, margin 0.05. */
export const BOX_SEARCH_ON: Readonly<BoxSearch> = { shift: 0.06, margin: 0.05 };

/** One segmented box. */
export interface SegmentedBox {
  /** Index of the box in the input list. */
  readonly index: number;
  /** The mask in the image frame (a window of the image). */
  readonly mask: MaskWindow;
  /** The model's predicted IoU of the mask. */
  readonly predictedIou: number;
  /** The crop that was used, in the pixel frame. */
  readonly crop: Crop;
  /** Pixel-frame polygons (one per 4-connected part, holes kept); empty when `vectorize` is false. */
  readonly polygons: Polygon[];
  /** COCO RLE over the whole image; null when `vectorize` is false. */
  readonly rle: Rle | null;
  /** Mask area in pixels. */
  readonly area: number;
  /** `[x, y, w, h]` of the mask in pixels. */
  readonly bbox: [number, number, number, number];
  /**
   * Share of the image pixels under the box (centre inside it) that are nodata,
   * 0 to 1; 0 when the raster has no nodata (or the box is outside the image).
   */
  readonly nodataShare: number;
  /**
   * With the box search (`boxSearch`): whether the mask is a moved box's (`false`: the given
   * box's); absent for a box not searched (no search, the small graphs, outside the image).
   */
  readonly moved?: boolean;
}

/**
 * The share of the pixels of `pixels` (a window whose top-left pixel is at
 * `origin` in the image) whose centre lies in `box` that are nodata; 0 when
 * the window has no nodata or no pixel centre lies in the box.
 *
 * @example
 * ```ts
 * import { nodataShare } from "./segment_image.ts";
 * // a 4 x 1 window, its left half nodata; the box covers pixels 1 and 2
 * const pixels = { width: 4, height: 1, data: new Uint8Array(12), valid: Uint8Array.of(0, 0, 1, 1) };
 * const box = { cx: 2, cy: 0.5, width: 2, height: 1, angle: 0 };
 * if (nodataShare(pixels, [0, 0], box) !== 0.5) throw new Error();
 * ```
 */
export function nodataShare(
  pixels: RgbWindow,
  origin: readonly [number, number],
  box: OrientedBox,
): number {
  const valid = pixels.valid;
  if (valid === null) return 0;
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  const hw = box.width / 2, hh = box.height / 2;
  const h = enclosingHBox(box);
  const x0 = Math.max(0, Math.floor(h.x0) - origin[0]);
  const x1 = Math.min(pixels.width, Math.ceil(h.x1) - origin[0]);
  const y0 = Math.max(0, Math.floor(h.y0) - origin[1]);
  const y1 = Math.min(pixels.height, Math.ceil(h.y1) - origin[1]);
  let inside = 0, missing = 0;
  for (let y = y0; y < y1; y++) {
    const dy = origin[1] + y + 0.5 - box.cy;
    for (let x = x0; x < x1; x++) {
      const dx = origin[0] + x + 0.5 - box.cx;
      const u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
      if (Math.abs(u) > hw || Math.abs(v) > hh) continue;
      inside++;
      if (valid[y * pixels.width + x] === 0) missing++;
    }
  }
  return inside === 0 ? 0 : missing / inside;
}

/** The crops per model call that `options` ask for: `batchSize`, default 8, at least 1. */
export function batchSizeOf(options: Pick<SegmentOptions, "batchSize">): number {
  return Math.max(1, options.batchSize ?? 8);
}

/** Crop of a box under the chosen rule. */
export function cropFor(box: OrientedBox, rule: "ram" | number, ram?: RamSideOptions): Crop {
  const h = enclosingHBox(box);
  if (rule === "ram") return ramCrop(h, ram ?? {});
  const w = h.x1 - h.x0, hh = h.y1 - h.y0;
  const size = Math.max(rule, w, hh);
  return { x0: h.x0 - (size - w) / 2, y0: h.y0 - (size - hh) / 2, size };
}

/** The mask's polygons (simplified by `tolerance` px when > 0), COCO RLE, area and bbox. */
function vectorized(
  mask: MaskWindow,
  image: { width: number; height: number },
  tolerance: number,
): Pick<SegmentedBox, "polygons" | "rle" | "area" | "bbox"> {
  let polygons = traceMask(mask);
  if (tolerance > 0) polygons = polygons.map((p) => simplifyPolygon(p, tolerance));
  const rle = encodeRle(mask, image.width, image.height);
  return { polygons, rle, area: rleArea(rle), bbox: rleBbox(rle) };
}

function maskStats(mask: MaskWindow): { area: number; bbox: [number, number, number, number] } {
  const b = maskBounds(mask);
  return b === null
    ? { area: 0, bbox: [0, 0, 0, 0] }
    : { area: b.area, bbox: [b.x0, b.y0, b.width, b.height] };
}

/**
 * Segment every box on one raster. Yields results in input order, batch by
 * batch. Each crop runs on the graph set its side calls for
 * ({@linkcode SopsegModel.inputSizeFor}; {@linkcode batchPlan}). `input.classes`
 * (optional, parallel to `boxes`): each box's class name as its detector wrote it, for
 * the model's class prompt (`options.classPrompt`).
 *
 * @example
 * ```ts ignore
 * for await (const r of segmentBoxes(model, { source, boxes })) console.log(r.index, r.area);
 * ```
 */
export async function* segmentBoxes(
  model: SopsegModel,
  input: { source: RasterSource; boxes: readonly OrientedBox[]; classes?: readonly string[] },
  options: SegmentOptions = {},
): AsyncGenerator<SegmentedBox> {
  const search = options.boxSearch;
  if (search === undefined) {
    yield* segmentEach(model, input, options);
    return;
  }
  // Each searched box is followed by its moved boxes (owner: the box they stand for), so
  // results still come out box by box, in input order.
  const { source, boxes } = input;
  const tried: OrientedBox[] = [];
  const owner: number[] = [];
  // candidates still to run per box, and boxes done (those outside the image need no run)
  const left = new Int32Array(boxes.length);
  let finished = 0;
  boxes.forEach((box, k) => {
    tried.push(box);
    owner.push(k);
    if (isOutsideImage(box, source.width, source.height)) {
      finished += 1;
      return;
    }
    left[k] = 1;
    const side = cropFor(box, options.crop ?? "ram", model.manifest.ram).size;
    if (model.inputSizeFor(side) !== model.manifest.inputSize) return;
    for (const moved of movedBoxes(box, search.shift)) {
      tried.push(moved);
      owner.push(k);
      left[k] += 1;
    }
  });
  const onProgress = options.onProgress;
  // Progress counts boxes whose every candidate has run, after each batch (as without the
  // search; a batch may hold candidates of several boxes, or some of one box's).
  if (onProgress && finished === boxes.length && finished > 0) onProgress(finished, boxes.length);
  const counted = (indices: readonly number[]) => {
    for (const i of indices) if (--left[owner[i]!]! === 0) finished += 1;
    onProgress?.(finished, boxes.length);
  };
  const timings = options.timings ?? newTimings();
  const pick = (group: SegmentedBox[]): SegmentedBox => {
    const given = group[0]!;
    let best = given;
    for (const r of group.slice(1)) {
      if (r.predictedIou > Math.max(best.predictedIou, given.predictedIou + search.margin)) {
        best = r;
      }
    }
    const kept: SegmentedBox = {
      ...best,
      index: owner[given.index]!,
      nodataShare: given.nodataShare,
      ...(group.length > 1 ? { moved: best !== given } : {}),
    };
    if (!(options.vectorize ?? true)) return kept;
    const t0 = performance.now();
    const out = { ...kept, ...vectorized(kept.mask, source, options.simplify ?? 0) };
    timings.polygon += (performance.now() - t0) / 1e3;
    return out;
  };
  let group: SegmentedBox[] = [];
  for await (
    const r of segmentEach(model, {
      source,
      boxes: tried,
      classes: input.classes && owner.map((k) => input.classes![k]!),
    }, {
      ...options,
      timings,
      vectorize: false, // only the kept candidate's mask is traced, below
      onProgress: undefined,
    }, counted)
  ) {
    if (group.length > 0 && owner[r.index] !== owner[group[0]!.index]) {
      yield pick(group);
      group = [];
    }
    group.push(r);
  }
  if (group.length > 0) yield pick(group);
}

/**
 * `box` moved by `shift` times its long side, forwards and back along each of its axes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { movedBoxes } from "./segment_image.ts";
 *
 * const moved = movedBoxes({ cx: 10, cy: 10, width: 50, height: 10, angle: 0 }, 0.1);
 * assert.deepEqual(moved.map((b) => [b.cx, b.cy]), [[15, 10], [5, 10], [10, 15], [10, 5]]);
 * ```
 */
export function movedBoxes(box: OrientedBox, shift: number): OrientedBox[] {
  const d = shift * Math.max(box.width, box.height);
  const c = Math.cos(box.angle), s = Math.sin(box.angle);
  return [[d, 0], [-d, 0], [0, d], [0, -d]].map(([u, v]) => ({
    ...box,
    cx: box.cx + u! * c - v! * s,
    cy: box.cy + u! * s + v! * c,
  }));
}

/**
 * {@linkcode segmentBoxes} without the box search: one model call per box. `onBatch`: the
 * indices of the boxes each batch ran, after it ran (boxes outside the image run in none).
 */
async function* segmentEach(
  model: SopsegModel,
  input: { source: RasterSource; boxes: readonly OrientedBox[]; classes?: readonly string[] },
  options: SegmentOptions,
  onBatch?: (indices: readonly number[]) => void,
): AsyncGenerator<SegmentedBox> {
  const { source, boxes } = input;
  const classNames = (options.classPrompt ?? true) ? input.classes : undefined;
  const batchSize = batchSizeOf(options);
  const mode = options.promptMode ?? "opm";
  const rule = options.crop ?? "ram";
  const keep = options.keepPromptComponents ?? true;
  const vectorize = options.vectorize ?? true;
  const tolerance = options.simplify ?? 0;
  const t = options.timings ?? newTimings();
  const { mean, std, ram } = model.manifest;
  const crops = boxes.map((box) => cropFor(box, rule, ram));
  const nodata = new Float64Array(boxes.length);
  // A box entirely outside the image has nothing to segment: an empty mask, no model call
  // (its context could still reach the image's edge and give a sliver that is not it).
  const outside = boxes.map((box) => isOutsideImage(box, source.width, source.height));
  const plan = batchPlan(
    crops.map((c, k) => outside[k] ? 0 : model.inputSizeFor(c.size)),
    batchSize,
  );

  const prepare = async ({ indices, inputSize: n }: PlannedBatch) => {
    const size = indices.length;
    const classes = new Int32Array(size).fill(model.classPromptIndex(""));
    const batch: PromptBatch = {
      size,
      inputSize: n,
      images: new Float32Array(size * 3 * n * n),
      coords: new Float32Array(size * 10),
      labels: new Float32Array(size * 5),
      classes,
    };
    for (let i = 0; i < size; i++) {
      const k = indices[i]!;
      const box = boxes[k]!;
      const crop = crops[k]!;
      const win = cropReadWindow(crop, source.width, source.height);
      if (win) {
        const t0 = performance.now();
        const pixels = await source.readWindow(win);
        nodata[k] = nodataShare(pixels, [win[0], win[1]], box);
        const t1 = performance.now();
        writeCropTensor(pixels, { origin: [win[0], win[1]], crop }, {
          inputSize: n,
          mean,
          std,
          out: batch.images,
          offset: i * 3 * n * n,
        });
        t.read += (t1 - t0) / 1e3;
        t.crop += (performance.now() - t1) / 1e3;
      }
      const p = promptTokens(box, crop, { inputSize: n, mode });
      batch.coords.set(p.coords, i * 10);
      batch.labels.set(p.labels, i * 5);
      const name = classNames?.[k];
      if (name !== undefined) classes[i] = model.classPromptIndex(name);
    }
    return { indices, n, batch };
  };

  // A model with one session computes on this thread (onnxruntime-web's WASM
  // backend, plus its pool): batches run one after another, and preparing the
  // next one meanwhile would only wait for it. A model with several sessions
  // (workers) gets one batch per session plus one being prepared; crops are
  // still read one batch at a time.
  const depth = model.concurrency > 1 ? model.concurrency + 1 : 1;
  let reads: Promise<unknown> = Promise.resolve();
  const launch = (planned: PlannedBatch) => {
    const prepared = reads.then(() => prepare(planned));
    reads = prepared.catch(() => undefined);
    // The crops are not read again: a worker may take their buffers instead of a copy.
    const run = prepared.then(async (p) => ({
      ...p,
      out: await model.predict(p.batch, { transfer: true }),
    }));
    run.catch(() => undefined); // awaited in turn below; never an unhandled rejection
    return run;
  };
  const inFlight: ReturnType<typeof launch>[] = [];
  // Results wait here until every box before them is done: they come out in input order.
  const ready = new Map<number, SegmentedBox>();
  let done = 0;
  for (let k = 0; k < boxes.length; k++) {
    if (!outside[k]) continue;
    const mask = emptyMaskWindow({ x0: 0, y0: 0, width: 0, height: 0 });
    ready.set(k, {
      index: k,
      mask,
      predictedIou: 0,
      crop: crops[k]!,
      polygons: [],
      rle: vectorize ? encodeRle(mask, source.width, source.height) : null,
      area: 0,
      bbox: [0, 0, 0, 0],
      nodataShare: 0,
    });
    done++;
  }
  if (plan.length === 0 && done > 0) options.onProgress?.(done, boxes.length);
  let nextOut = 0;
  let next = 0;
  while (next < plan.length || inFlight.length > 0) {
    while (inFlight.length < depth && next < plan.length) {
      if (options.signal && next > 0) {
        // The model's promises resolve without I/O: let the event loop run once
        // per batch, or an abort requested by input (a server's cancel message)
        // would not be read before the whole list is done.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      options.signal?.throwIfAborted();
      inFlight.push(launch(plan[next]!));
      next += 1;
    }
    const { indices, n, batch, out } = await inFlight.shift()!;
    t.encoder += out.timing.encoder;
    t.decoder += out.timing.decoder;
    for (let i = 0; i < batch.size; i++) {
      const t0 = performance.now();
      const k = indices[i]!;
      const box = boxes[k]!;
      const logits = out.maskLogits.subarray(i * n * n, (i + 1) * n * n);
      let mask = pasteBack(logits, crops[k]!, {
        inputSize: n,
        imageWidth: source.width,
        imageHeight: source.height,
      });
      if (keep) mask = keepPromptComponents(mask, box);
      const t1 = performance.now();
      const { polygons, rle, area, bbox } = vectorize
        ? vectorized(mask, source, tolerance)
        : { polygons: [], rle: null, ...maskStats(mask) };
      const t2 = performance.now();
      t.mask += (t1 - t0) / 1e3;
      t.polygon += (t2 - t1) / 1e3;
      ready.set(k, {
        index: k,
        mask,
        // an empty mask overlaps nothing, whatever the model expected of it
        predictedIou: area === 0 ? 0 : out.iou[i]!,
        crop: crops[k]!,
        polygons,
        rle,
        area,
        bbox,
        nodataShare: nodata[k]!,
      });
    }
    done += batch.size;
    options.onProgress?.(done, boxes.length);
    onBatch?.(indices);
    for (let r = ready.get(nextOut); r !== undefined; r = ready.get(nextOut)) {
      ready.delete(nextOut);
      nextOut += 1;
      yield r;
    }
  }
  // boxes outside the image after the last batch (or every box, with no batch at all)
  for (let r = ready.get(nextOut); r !== undefined; r = ready.get(nextOut)) {
    ready.delete(nextOut);
    nextOut += 1;
    yield r;
  }
}

/**
 * Whether `box` has no point inside a `width` x `height` image (its enclosing
 * horizontal box does not meet the image).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOutsideImage } from "./segment_image.ts";
 *
 * assert.equal(isOutsideImage({ cx: -10, cy: 5, width: 8, height: 4, angle: 0 }, 100, 100), true);
 * assert.equal(isOutsideImage({ cx: -3, cy: 5, width: 8, height: 4, angle: 0 }, 100, 100), false);
 * ```
 */
export function isOutsideImage(box: OrientedBox, width: number, height: number): boolean {
  const h = enclosingHBox(box);
  return h.x1 <= 0 || h.y1 <= 0 || h.x0 >= width || h.y0 >= height;
}

/** One model call of {@linkcode batchPlan}: box indices, and the graph set's input size. */
export interface PlannedBatch {
  readonly indices: readonly number[];
  readonly inputSize: number;
}

/**
 * The model calls for boxes whose graph sets are `inputSizes` (one per box, from
 * {@linkcode SopsegModel.inputSizeFor}): window by window of `16 * batchSize` boxes, the
 * boxes of each set in input order, cut into batches of at most `batchSize`. A model with
 * one graph set gets the boxes in input order in full batches; with two, a result waits
 * at most about a window for the boxes before it. A size of 0 is a box without a model
 * call (outside the image): in no batch.
 *
 * @example
 * ```ts
 * import { batchPlan } from "./segment_image.ts";
 * const plan = batchPlan([224, 160, 160, 224, 160], 2);
 * const got = plan.map((b) => `${b.inputSize}:${b.indices.join(",")}`).join(" ");
 * if (got !== "224:0,3 160:1,2 160:4") throw new Error(got);
 * ```
 */
export function batchPlan(inputSizes: readonly number[], batchSize: number): PlannedBatch[] {
  const window = 16 * batchSize;
  const plan: PlannedBatch[] = [];
  for (let w0 = 0; w0 < inputSizes.length; w0 += window) {
    const bySize = new Map<number, number[]>();
    for (let k = w0; k < Math.min(inputSizes.length, w0 + window); k++) {
      const n = inputSizes[k]!;
      if (n === 0) continue; // no model call for this box
      const list = bySize.get(n) ?? [];
      if (list.length === 0) bySize.set(n, list);
      list.push(k);
    }
    for (const [inputSize, list] of bySize) {
      for (let i = 0; i < list.length; i += batchSize) {
        plan.push({ indices: list.slice(i, i + batchSize), inputSize });
      }
    }
  }
  return plan;
}

/**
 * The writers' result for one segmented box of `detections` (the box's `index` picks its
 * detection), flagged against the model's training classes and, with the box search, as a
 * moved box's mask or not (`boxMoved`).
 */
export function instanceResult(
  model: SopsegModel,
  box: SegmentedBox,
  detections: readonly Detection[],
): InstanceResult {
  const detection = detections[box.index]!;
  return {
    detectionIndex: box.index,
    detection,
    polygons: box.polygons,
    rle: box.rle!,
    area: box.area,
    bbox: box.bbox,
    predictedIou: box.predictedIou,
    inTrainingClasses: model.trainingClasses?.flag(detection.className),
    boxMoved: box.moved,
  };
}
