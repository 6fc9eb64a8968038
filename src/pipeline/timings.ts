/**
 * Where the time goes: an accumulator of seconds per stage, filled by the
 * pipeline and read by the benchmark and the progress line.
 *
 * @module
 */

/** The stages of the pipeline, in order. */
export const STAGES = [
  "read",
  "crop",
  "encoder",
  "decoder",
  "mask",
  "polygon",
  "write",
] as const;

/** One stage name. */
export type Stage = typeof STAGES[number];

/** Seconds spent per stage. */
export type Timings = Record<Stage, number>;

/**
 * A zeroed timings record.
 *
 * @example
 * ```ts
 * import { newTimings } from "./timings.ts";
 * const t = newTimings();
 * if (t.encoder !== 0) throw new Error();
 * ```
 */
export function newTimings(): Timings {
  return { read: 0, crop: 0, encoder: 0, decoder: 0, mask: 0, polygon: 0, write: 0 };
}

/**
 * Add `b` into `a`.
 *
 * @example
 * ```ts
 * import { addTimings, newTimings } from "./timings.ts";
 * const a = newTimings();
 * addTimings(a, { ...newTimings(), read: 2 });
 * if (a.read !== 2) throw new Error();
 * ```
 */
export function addTimings(a: Timings, b: Readonly<Timings>): Timings {
  for (const s of STAGES) a[s] += b[s];
  return a;
}
