/**
 * The detection record that every reader produces, the issue record for
 * input that could not be read, and small helpers to select detections.
 *
 * @module
 */

import type { OrientedBox, Point } from "../geometry/oriented_box.ts";

/** One oriented detection, in the pixel frame of its image. */
export interface Detection {
  /** The oriented box, pixel frame (docs/CONTRACT.md). */
  box: OrientedBox;
  /** The class name (a YOLO-OBB class id without a name list becomes its decimal string). */
  className: string;
  /** The detector's confidence, or `null` when the file gives none (ground-truth labels). */
  score: number | null;
  /** DOTA's `difficult` flag; `false` for formats without one. */
  difficult: boolean;
  /** Where the detection was read from (usually a file path). */
  source: string;
  /**
   * 1-based line of the record in `source`; `0` for formats without lines
   * (GeoJSON, where {@linkcode Detection.feature} locates the record).
   */
  line: number;
  /**
   * 0-based index of the record in a JSON array (a GeoJSON `features` array,
   * mmrotate's results); absent for text formats.
   */
  feature?: number;
  /**
   * The four corners as the file gave them, in the pixel frame and the file's
   * order (the first corner can carry meaning, e.g. a plane's nose). `box` is
   * the minimum-area rectangle of these corners.
   */
  corners?: [Point, Point, Point, Point];
}

/** A record that could not be read; the reader skipped it and went on. */
export interface ParseIssue {
  /** Where the record was read from (usually a file path). */
  source: string;
  /** 1-based line of the record; `0` when the format has no lines (see `feature`). */
  line: number;
  /** 0-based index of the record in a JSON array (GeoJSON `features`, mmrotate's results). */
  feature?: number;
  /** What went wrong, as "Cannot <do what>: <why>". */
  message: string;
}

/** What a reader returns: the detections it could read and the records it skipped. */
export interface ParsedDetections {
  /** Detections in file order. */
  detections: Detection[];
  /** Skipped records in file order. */
  issues: ParseIssue[];
}

/** Options for {@linkcode selectDetections}. */
export interface SelectDetectionsOptions {
  /**
   * Keep detections whose score is at least this. Detections without a score
   * (`score: null`) are always kept. Default: no threshold.
   */
  minScore?: number;
  /** Keep only these class names. Default: all classes. */
  classes?: Iterable<string>;
  /** Keep detections flagged `difficult`. Default: `true`. */
  includeDifficult?: boolean;
}

/**
 * Selects detections by score, class and the `difficult` flag; the order is kept.
 *
 * @example Keep confident ships
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectDetections, type Detection } from "./detection.ts";
 *
 * const box = { cx: 5, cy: 5, width: 4, height: 2, angle: 0 };
 * const base = { box, difficult: false, source: "a.txt", line: 1 };
 * const detections: Detection[] = [
 *   { ...base, className: "ship", score: 0.9 },
 *   { ...base, className: "ship", score: 0.2 },
 *   { ...base, className: "harbor", score: 0.8 },
 * ];
 * const kept = selectDetections(detections, { minScore: 0.5, classes: ["ship"] });
 * assert.deepEqual(kept.map((d) => d.score), [0.9]);
 * ```
 *
 * @param detections The detections to filter.
 * @param options What to keep.
 * @returns A new array with the kept detections.
 */
export function selectDetections(
  detections: readonly Detection[],
  options: SelectDetectionsOptions = {},
): Detection[] {
  const { minScore, includeDifficult = true } = options;
  const classes = options.classes === undefined ? null : new Set(options.classes);
  return detections.filter((d) =>
    (minScore === undefined || d.score === null || d.score >= minScore) &&
    (classes === null || classes.has(d.className)) &&
    (includeDifficult || !d.difficult)
  );
}

/**
 * Counts detections per class name, in first-seen order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countByClass, type Detection } from "./detection.ts";
 *
 * const box = { cx: 5, cy: 5, width: 4, height: 2, angle: 0 };
 * const base = { box, score: null, difficult: false, source: "a.txt", line: 1 };
 * const detections: Detection[] = [
 *   { ...base, className: "ship" },
 *   { ...base, className: "harbor" },
 *   { ...base, className: "ship" },
 * ];
 * assert.deepEqual([...countByClass(detections)], [["ship", 2], ["harbor", 1]]);
 * ```
 *
 * @param detections The detections to count.
 * @returns A map from class name to count.
 */
export function countByClass(detections: Iterable<Detection>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of detections) counts.set(d.className, (counts.get(d.className) ?? 0) + 1);
  return counts;
}

/**
 * Where a detection was read from, as the writers record it: the file with the record's 1-based
 * line (text formats) or its 0-based index in the file's JSON array (GeoJSON features, mmrotate
 * results). All `null` for a detection that locates no record (given as a list, or as the server's
 * `boxes`). These, not `detection_index` (which counts the detections kept after `--min-score` and
 * `--classes`), join a mask back to the detector's output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectionOrigin, type Detection } from "./detection.ts";
 *
 * const d: Detection = {
 *   box: { cx: 5, cy: 5, width: 4, height: 2, angle: 0 },
 *   className: "ship", score: 0.8, difficult: false, source: "P0001.txt", line: 7,
 * };
 * assert.deepEqual(detectionOrigin(d), { file: "P0001.txt", line: 7, record: null });
 * assert.deepEqual(detectionOrigin({ ...d, line: 0 }), { file: null, line: null, record: null });
 * ```
 */
export function detectionOrigin(
  detection: Detection,
): { file: string | null; line: number | null; record: number | null } {
  const line = detection.line > 0 ? detection.line : null;
  const record = detection.feature ?? null;
  const file = line !== null || record !== null ? detection.source : null;
  return { file, line, record };
}
