/**
 * Backend parity: run the same graph on two backends and compare.
 *
 * @module
 */
import type { Float32Tensor } from "./ort_adapter.ts";

/** How far one output of a graph is from the reference backend's. */
export interface OutputDifference {
  /** Output name. */
  readonly name: string;
  /** Largest absolute difference. */
  readonly maxAbsDiff: number;
  /** Largest absolute value of the reference output. */
  readonly refMaxAbs: number;
  /** `maxAbsDiff / max(refMaxAbs, 1)`. */
  readonly relDiff: number;
}

/** Result of comparing all outputs of a run. */
export interface ParityResult {
  /** True when every output's `relDiff` is within tolerance. */
  readonly ok: boolean;
  /** The tolerance used. */
  readonly tolerance: number;
  /** Per output. */
  readonly outputs: readonly OutputDifference[];
  /** The output with the largest `relDiff`. */
  readonly worst: OutputDifference | null;
}

/**
 * The relative tolerance of the backend self-check: every output's largest
 * absolute difference, divided by `max(1, largest absolute reference value)`,
 * must be at most this. Float32 kernels that reorder sums differ by ~1e-6 here;
 * the WebGPU attention failure described in USERS.md is ~0.3.
 */
export const PARITY_TOLERANCE = 1e-3;

/**
 * Compare the outputs of two runs of the same graph.
 *
 * @example
 * ```ts
 * import { compareOutputs } from "./parity.ts";
 * const a = { y: { data: new Float32Array([1, 2, 3]), dims: [3] } };
 * const b = { y: { data: new Float32Array([1, 2, 3.5]), dims: [3] } };
 * const r = compareOutputs(a, b);
 * if (r.ok || r.worst?.maxAbsDiff !== 0.5) throw new Error(JSON.stringify(r));
 * ```
 */
export function compareOutputs(
  reference: Readonly<Record<string, Float32Tensor>>,
  candidate: Readonly<Record<string, Float32Tensor>>,
  tolerance: number = PARITY_TOLERANCE,
): ParityResult {
  const outputs: OutputDifference[] = [];
  for (const [name, ref] of Object.entries(reference)) {
    const cand = candidate[name];
    if (!cand || cand.data.length !== ref.data.length) {
      outputs.push({ name, maxAbsDiff: Infinity, refMaxAbs: 0, relDiff: Infinity });
      continue;
    }
    let maxAbsDiff = 0;
    let refMaxAbs = 0;
    for (let i = 0; i < ref.data.length; i++) {
      const r = ref.data[i]!;
      const d = Math.abs(r - cand.data[i]!);
      // NaN anywhere is a disagreement.
      if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
      if (Math.abs(r) > refMaxAbs) refMaxAbs = Math.abs(r);
    }
    outputs.push({ name, maxAbsDiff, refMaxAbs, relDiff: maxAbsDiff / Math.max(1, refMaxAbs) });
  }
  let worst: OutputDifference | null = null;
  for (const o of outputs) if (!worst || o.relDiff > worst.relDiff) worst = o;
  return { ok: outputs.every((o) => o.relDiff <= tolerance), tolerance, outputs, worst };
}
