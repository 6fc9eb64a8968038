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
import { type Crop, ramCrop } from "../geometry/ram.ts";
import { type PromptMode, promptTokens } from "../geometry/prompt.ts";
import { maskBounds, type MaskWindow } from "../masks/mask_window.ts";
import { pasteBack } from "../masks/paste_back.ts";
import { keepPromptComponents } from "../masks/components.ts";
import { type Polygon, simplifyPolygon, traceMask } from "../masks/polygon.ts";
import { encodeRle, type Rle, rleArea, rleBbox } from "../masks/rle.ts";
import type { RasterSource } from "../raster/source.ts";
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
}

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
}

/** The crops per model call that `options` ask for: `batchSize`, default 8, at least 1. */
export function batchSizeOf(options: Pick<SegmentOptions, "batchSize">): number {
  return Math.max(1, options.batchSize ?? 8);
}

/** Crop of a box under the chosen rule. */
export function cropFor(box: OrientedBox, rule: "ram" | number, ram?: {
  m: number;
  k0: number;
  sMax: number;
  sMin: number;
}): Crop {
  const h = enclosingHBox(box);
  if (rule === "ram") return ramCrop(h, ram ?? {});
  const w = h.x1 - h.x0, hh = h.y1 - h.y0;
  const size = Math.max(rule, w, hh);
  return { x0: h.x0 - (size - w) / 2, y0: h.y0 - (size - hh) / 2, size };
}

function maskStats(mask: MaskWindow): { area: number; bbox: [number, number, number, number] } {
  const b = maskBounds(mask);
  return b === null
    ? { area: 0, bbox: [0, 0, 0, 0] }
    : { area: b.area, bbox: [b.x0, b.y0, b.width, b.height] };
}

/**
 * Segment every box on one raster. Yields results in input order, batch by
 * batch. `input.classes` (optional, parallel to `boxes`): each box's class name as its
 * detector wrote it, for the model's class prompt (`options.classPrompt`).
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
  const { source, boxes } = input;
  const classNames = (options.classPrompt ?? true) ? input.classes : undefined;
  const n = model.manifest.inputSize;
  const batchSize = batchSizeOf(options);
  const mode = options.promptMode ?? "opm";
  const rule = options.crop ?? "ram";
  const keep = options.keepPromptComponents ?? true;
  const vectorize = options.vectorize ?? true;
  const tolerance = options.simplify ?? 0;
  const t = options.timings ?? newTimings();
  const { mean, std, ram } = model.manifest;

  const prepare = async (start: number) => {
    const size = Math.min(batchSize, boxes.length - start);
    const classes = new Int32Array(size).fill(model.classPromptIndex(""));
    const batch: PromptBatch = {
      size,
      images: new Float32Array(size * 3 * n * n),
      coords: new Float32Array(size * 10),
      labels: new Float32Array(size * 5),
      classes,
    };
    const crops: Crop[] = [];
    for (let i = 0; i < size; i++) {
      const box = boxes[start + i]!;
      const crop = cropFor(box, rule, ram);
      crops.push(crop);
      const win = cropReadWindow(crop, source.width, source.height);
      if (win) {
        const t0 = performance.now();
        const pixels = await source.readWindow(win);
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
      const name = classNames?.[start + i];
      if (name !== undefined) classes[i] = model.classPromptIndex(name);
    }
    return { start, batch, crops };
  };

  // A model with one session computes on this thread (onnxruntime-web's WASM
  // backend, plus its pool): batches run one after another, and preparing the
  // next one meanwhile would only wait for it. A model with several sessions
  // (workers) gets one batch per session plus one being prepared; crops are
  // still read one batch at a time, and results come out in input order.
  const depth = model.concurrency > 1 ? model.concurrency + 1 : 1;
  let reads: Promise<unknown> = Promise.resolve();
  const launch = (start: number) => {
    const prepared = reads.then(() => prepare(start));
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
  let next = 0;
  let done = 0;
  while (next < boxes.length || inFlight.length > 0) {
    while (inFlight.length < depth && next < boxes.length) {
      if (options.signal && next > 0) {
        // The model's promises resolve without I/O: let the event loop run once
        // per batch, or an abort requested by input (a server's cancel message)
        // would not be read before the whole list is done.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      options.signal?.throwIfAborted();
      inFlight.push(launch(next));
      next += batchSize;
    }
    const { start, batch, crops, out } = await inFlight.shift()!;
    t.encoder += out.timing.encoder;
    t.decoder += out.timing.decoder;
    for (let i = 0; i < batch.size; i++) {
      const t0 = performance.now();
      const box = boxes[start + i]!;
      const logits = out.maskLogits.subarray(i * n * n, (i + 1) * n * n);
      let mask = pasteBack(logits, crops[i]!, {
        inputSize: n,
        imageWidth: source.width,
        imageHeight: source.height,
      });
      if (keep) mask = keepPromptComponents(mask, box);
      const t1 = performance.now();
      let polygons: Polygon[] = [];
      let rle: Rle | null = null;
      let area: number;
      let bbox: [number, number, number, number];
      if (vectorize) {
        polygons = traceMask(mask);
        if (tolerance > 0) polygons = polygons.map((p) => simplifyPolygon(p, tolerance));
        rle = encodeRle(mask, source.width, source.height);
        area = rleArea(rle);
        bbox = rleBbox(rle);
      } else {
        ({ area, bbox } = maskStats(mask));
      }
      const t2 = performance.now();
      t.mask += (t1 - t0) / 1e3;
      t.polygon += (t2 - t1) / 1e3;
      yield {
        index: start + i,
        mask,
        predictedIou: out.iou[i]!,
        crop: crops[i]!,
        polygons,
        rle,
        area,
        bbox,
      };
    }
    done += batch.size;
    options.onProgress?.(done, boxes.length);
  }
}

/**
 * The writers' result for one segmented box of `detections` (the box's `index` picks its
 * detection), flagged against the model's training classes.
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
  };
}
