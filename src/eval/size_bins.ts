/**
 * Scores by object size, for questions like "how well are small objects
 * segmented?". The size of an instance is the long side, in pixels, of its
 * ground-truth oriented-box prompt (the min-area rectangle of its polygon in
 * the pixel frame, before any prompt noise or given detection box), so an
 * instance lands in the same bin whatever the prompt or the segmenter. Bins
 * are half-open intervals of that size, by default `<64`, `64-256`, `>=256`.
 *
 * Each bin is summarised like the whole evaluation ({@linkcode EvalSummary}):
 * per class, the mean over classes (mIoU / mBIoU within the bin, so a class
 * with many instances does not dominate) and the mean over the bin's
 * instances.
 *
 * @module
 */

import type { OrientedBox } from "../geometry/oriented_box.ts";
import { type ClassScores, EvalAccumulator, type EvalSummary } from "./accumulator.ts";

/** Default size bin edges, pixels: bins `<64`, `64-256`, `>=256`. */
export const SIZE_EDGES: readonly number[] = [64, 256];

/** A size bin: the instances whose long side is in `[minLongSide, maxLongSide)` pixels. */
export interface SizeBin {
  /** Label: `"<64"`, `"64-256"`, `">=256"` for the default edges. */
  name: string;
  /** Smallest long side in the bin, pixels (inclusive). */
  minLongSide: number;
  /** Long sides in the bin are below this, pixels; `null` for the last, open bin. */
  maxLongSide: number | null;
}

/** The scores of one size bin: its definition and a summary of its instances. */
export interface SizeBinSummary extends SizeBin, EvalSummary {}

function checkEdges(edges: readonly number[]): void {
  const what = "Cannot make size bins";
  if (edges.length === 0) throw new RangeError(`${what}: give at least one edge`);
  for (const [i, e] of edges.entries()) {
    if (!(Number.isFinite(e) && e > 0)) {
      throw new RangeError(`${what}: edge ${e} is not a finite number > 0`);
    }
    if (i > 0 && e <= edges[i - 1]!) {
      throw new RangeError(`${what}: edges must increase, got ${edges.join(", ")}`);
    }
  }
}

/**
 * The bins that `edges` (pixels, increasing) cut the sizes into: below the
 * first edge, between consecutive edges, from the last edge up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeBins } from "./size_bins.ts";
 *
 * assert.deepEqual(sizeBins().map((b) => b.name), ["<64", "64-256", ">=256"]);
 * assert.deepEqual(sizeBins([32])[1], { name: ">=32", minLongSide: 32, maxLongSide: null });
 * ```
 */
export function sizeBins(edges: readonly number[] = SIZE_EDGES): SizeBin[] {
  checkEdges(edges);
  const last = edges.length - 1;
  return [
    { name: `<${edges[0]}`, minLongSide: 0, maxLongSide: edges[0]! },
    ...edges.slice(0, last).map((e, i) => ({
      name: `${e}-${edges[i + 1]}`,
      minLongSide: e,
      maxLongSide: edges[i + 1]!,
    })),
    { name: `>=${edges[last]}`, minLongSide: edges[last]!, maxLongSide: null },
  ];
}

/**
 * The index in {@linkcode sizeBins}`(edges)` of the bin holding `longSide`
 * (pixels): an edge belongs to the bin above it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeBinIndex } from "./size_bins.ts";
 *
 * assert.equal(sizeBinIndex(63.9), 0);
 * assert.equal(sizeBinIndex(64), 1);
 * assert.equal(sizeBinIndex(256), 2);
 * ```
 */
export function sizeBinIndex(longSide: number, edges: readonly number[] = SIZE_EDGES): number {
  if (!(Number.isFinite(longSide) && longSide >= 0)) {
    throw new RangeError(`Cannot bin a size: long side ${longSide} is not a finite number >= 0`);
  }
  let i = 0;
  while (i < edges.length && longSide >= edges[i]!) i++;
  return i;
}

/**
 * The size of an instance: the long side of its oriented box, in the box's
 * units (pixels for a pixel-frame box).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { longSide } from "./size_bins.ts";
 *
 * assert.equal(longSide({ cx: 0, cy: 0, width: 10, height: 80, angle: 0.3 }), 80);
 * ```
 */
export function longSide(box: OrientedBox): number {
  return Math.max(box.width, box.height);
}

/** Options for {@linkcode SizeAccumulator}. */
export interface SizeAccumulatorOptions {
  /** Bin edges in pixels, increasing. Default: {@linkcode SIZE_EDGES} (`[64, 256]`). */
  edges?: readonly number[];
  /** Classes that get a row (and an order) in every bin even with no instance. Default: none. */
  classNames?: readonly string[];
}

/** One instance's size and scores, for {@linkcode SizeAccumulator.add}. */
export interface SizedScores {
  /** The instance's size: long side of its ground-truth oriented box, pixels. */
  longSide: number;
  /** IoU, 0..1. */
  iou: number;
  /** Boundary IoU, 0..1. */
  boundaryIou: number;
}

/**
 * Collects per-instance scores by size bin and summarises each bin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SizeAccumulator } from "./size_bins.ts";
 *
 * const acc = new SizeAccumulator();
 * acc.add("ship", { longSide: 20, iou: 0.5, boundaryIou: 0.25 });
 * acc.add("ship", { longSide: 30, iou: 0.7, boundaryIou: 0.25 });
 * acc.add("plane", { longSide: 40, iou: 0.9, boundaryIou: 0.75 });
 * const [small, medium] = acc.summary();
 * assert.equal(small!.all.instances, 3);
 * assert.equal(small!.mIoU, (0.6 + 0.9) / 2); // over classes
 * assert.equal(small!.all.iou, 2.1 / 3); // over instances
 * assert.equal(medium!.mIoU, null);
 * ```
 */
export class SizeAccumulator {
  /** The bins, in increasing size. */
  readonly bins: readonly SizeBin[];
  #edges: readonly number[];
  #accumulators: EvalAccumulator[];
  #classNames: Set<string>;

  /** Makes empty bins (see {@linkcode SizeAccumulatorOptions}). */
  constructor(options: SizeAccumulatorOptions = {}) {
    this.#edges = [...(options.edges ?? SIZE_EDGES)];
    this.bins = sizeBins(this.#edges);
    this.#accumulators = this.bins.map(() => new EvalAccumulator());
    this.#classNames = new Set(options.classNames ?? []);
  }

  /** Adds one instance's size and scores (fractions, 0..1) to its bin. */
  add(className: string, scores: SizedScores): void {
    const i = sizeBinIndex(scores.longSide, this.#edges);
    this.#accumulators[i]!.add(className, scores.iou, scores.boundaryIou);
    this.#classNames.add(className);
  }

  /**
   * One summary per bin, in increasing size. Every bin lists the same
   * classes, in `classOrder` (default: declared, then first seen), with a
   * zero row where a class has no instance in the bin; such rows stay out of
   * the bin's mIoU / mBIoU.
   */
  summary(classOrder?: readonly string[]): SizeBinSummary[] {
    const order = [...(classOrder ?? this.#classNames)];
    for (const c of this.#classNames) if (!order.includes(c)) order.push(c);
    return this.bins.map((bin, i) => {
      const s = this.#accumulators[i]!.summary();
      const byName = new Map(s.classes.map((c) => [c.className, c]));
      const classes = order.map((className): ClassScores =>
        byName.get(className) ?? { className, instances: 0, iou: null, boundaryIou: null }
      );
      return { ...bin, classes, mIoU: s.mIoU, mBIoU: s.mBIoU, all: s.all };
    });
  }
}
