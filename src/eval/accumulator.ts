/**
 * Running means of the per-instance scores, per class and over all
 * instances (METHOD.md section 6: mIoU / mBIoU are means over classes).
 *
 * @module
 */

/** Scores of one class (or of all instances). Means are fractions, 0..1. */
export interface ClassScores {
  /** Report name of the class (`"all"` for the all-instance row). */
  className: string;
  /** Number of scored instances. */
  instances: number;
  /** Mean IoU over the instances; `null` when there are none. */
  iou: number | null;
  /** Mean Boundary IoU over the instances; `null` when there are none. */
  boundaryIou: number | null;
}

/** The summary of an evaluation. */
export interface EvalSummary {
  /** One row per class, in the order the classes were declared or first seen. */
  classes: ClassScores[];
  /** Mean over classes with at least one instance of their mean IoU; `null` if none. */
  mIoU: number | null;
  /** Mean over classes with at least one instance of their mean Boundary IoU; `null` if none. */
  mBIoU: number | null;
  /** Means over all instances (every instance weighs the same). */
  all: ClassScores;
}

/**
 * Collects per-instance IoU and Boundary IoU and summarises them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EvalAccumulator } from "./accumulator.ts";
 *
 * const acc = new EvalAccumulator(["ship", "plane"]);
 * acc.add("ship", 1, 0.5);
 * acc.add("ship", 0.5, 0.5);
 * acc.add("plane", 0.25, 0);
 * const s = acc.summary();
 * assert.equal(s.mIoU, (0.75 + 0.25) / 2);
 * assert.equal(s.all.iou, 1.75 / 3);
 * ```
 */
export class EvalAccumulator {
  #sums = new Map<string, { n: number; iou: number; biou: number }>();

  /** Declares classes up front so that they get a row (and an order) even with no instance. */
  constructor(classNames: readonly string[] = []) {
    for (const c of classNames) this.#row(c);
  }

  #row(className: string) {
    let row = this.#sums.get(className);
    if (row === undefined) {
      row = { n: 0, iou: 0, biou: 0 };
      this.#sums.set(className, row);
    }
    return row;
  }

  /** Adds one instance's scores (fractions, 0..1). */
  add(className: string, iou: number, boundaryIou: number): void {
    if (!Number.isFinite(iou) || !Number.isFinite(boundaryIou)) {
      throw new RangeError(
        `Cannot add scores for class "${className}": IoU ${iou} / Boundary IoU ${boundaryIou} is not finite`,
      );
    }
    const row = this.#row(className);
    row.n++;
    row.iou += iou;
    row.biou += boundaryIou;
  }

  /** The per-class rows, mIoU / mBIoU over classes and the all-instance means. */
  summary(): EvalSummary {
    const classes: ClassScores[] = [];
    let n = 0, iou = 0, biou = 0;
    for (const [className, row] of this.#sums) {
      classes.push({
        className,
        instances: row.n,
        iou: row.n ? row.iou / row.n : null,
        boundaryIou: row.n ? row.biou / row.n : null,
      });
      n += row.n;
      iou += row.iou;
      biou += row.biou;
    }
    const scored = classes.filter((c) => c.instances > 0);
    const mean = (xs: number[]) => xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
    return {
      classes,
      mIoU: mean(scored.map((c) => c.iou!)),
      mBIoU: mean(scored.map((c) => c.boundaryIou!)),
      all: {
        className: "all",
        instances: n,
        iou: n ? iou / n : null,
        boundaryIou: n ? biou / n : null,
      },
    };
  }
}
