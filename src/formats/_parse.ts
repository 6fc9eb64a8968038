// Internal helpers shared by the text readers. Not exported from mod.ts.

import { type OrientedBox, orientedBoxFromCorners, type Point } from "../geometry/oriented_box.ts";

/** A non-blank, non-comment line with its 1-based number and its whitespace-split fields. */
export interface TextRecord {
  line: number;
  text: string;
  fields: string[];
}

/** Yields the records of a text file: blank lines and `#` comments skipped, a BOM ignored. */
export function* textRecords(text: string): Generator<TextRecord> {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? "").trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    yield { line: i + 1, text: trimmed, fields: trimmed.split(/\s+/) };
  }
}

/** Parses a finite decimal number; `null` for anything else ("", "NaN", "Infinity", "1px"). */
export function parseFiniteNumber(token: string): number | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(token)) return null;
  const value = Number(token);
  return Number.isFinite(value) ? value : null;
}

/** Thrown by {@linkcode readCoordinates}; the message is the issue's "why". */
export class FieldError extends Error {}

/** Reads `count` numbers from `fields[start..]`, naming the first bad one. */
export function readNumbers(
  fields: readonly string[],
  start: number,
  count: number,
  names: readonly string[],
): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const token = fields[start + i] ?? "";
    const value = parseFiniteNumber(token);
    if (value === null) {
      throw new FieldError(`${names[i] ?? `field ${start + i + 1}`} is not a number: "${token}"`);
    }
    out.push(value);
  }
  return out;
}

/** Corner field names in DOTA / YOLO-OBB order. */
export const CORNER_NAMES = ["x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"] as const;

/** Turns 8 numbers into 4 points. */
export function cornersFromNumbers(v: readonly number[]): [Point, Point, Point, Point] {
  const at = (i: number) => v[i] ?? NaN;
  return [
    { x: at(0), y: at(1) },
    { x: at(2), y: at(3) },
    { x: at(4), y: at(5) },
    { x: at(6), y: at(7) },
  ];
}

/**
 * The min-area box of four corners; a RangeError from the geometry (degenerate
 * box) becomes a {@linkcode FieldError} carrying its message.
 */
export function boxFromCorners(corners: readonly Point[]): OrientedBox {
  try {
    return orientedBoxFromCorners(corners);
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new FieldError(`degenerate box: ${error.message.replace(/^Cannot [^:]*: /, "")}`);
    }
    throw error;
  }
}

/** Thrown by {@linkcode pixelBoxFromCorners}: a box under a pixel both ways. */
export class SubPixelBoxError extends FieldError {
  /**
   * @param size The box's sides, `"<width> x <height> px"`.
   * @param question What the reader asks of such coordinates.
   */
  constructor(readonly size: string, question: string) {
    super(`box smaller than a pixel: ${size}; ${question}`);
  }
}

/** The question a box smaller than a pixel raises, unless a reader asks another. */
const SUB_PIXEL_QUESTION = "are these coordinates in degrees or normalised?";

/**
 * {@linkcode boxFromCorners} for corners in pixels: a box whose sides are both
 * under a pixel is no detector's box but coordinates in another unit read as
 * pixels (degrees, normalised), and becomes a {@linkcode SubPixelBoxError}.
 */
export function pixelBoxFromCorners(
  corners: readonly Point[],
  question = SUB_PIXEL_QUESTION,
): OrientedBox {
  const box = boxFromCorners(corners);
  if (box.width < 1 && box.height < 1) {
    const px = (v: number) => String(Number(v.toPrecision(2)));
    throw new SubPixelBoxError(`${px(box.width)} x ${px(box.height)} px`, question);
  }
  return box;
}

/**
 * Counts a file's boxes smaller than a pixel ({@linkcode SubPixelBoxError}),
 * each skipped with its own issue, so that a file of nothing else fails once
 * ({@linkcode SubPixelBoxes.check}) instead of yielding no detections.
 */
export class SubPixelBoxes {
  /** Boxes smaller than a pixel so far. */
  count = 0;
  #first = "";

  /** Counts `error` when it is a {@linkcode SubPixelBoxError} of the record at `line`. */
  note(error: unknown, line: number): void {
    if (!(error instanceof SubPixelBoxError)) return;
    if (this.count++ === 0) this.#first = `line ${line}: ${error.size}`;
  }

  /**
   * Throws a TypeError for the file when it gave no box (`read` is 0) and
   * some were smaller than a pixel: "Cannot read `what` from `source`", the
   * first such box, and `why` (what the format's coordinates are, and what
   * these may be instead).
   */
  check(source: string, what: string, read: number, why: string): void {
    if (read > 0 || this.count === 0) return;
    throw new TypeError(
      `Cannot read ${what} from "${source}": all ${this.count} box(es) are smaller than a ` +
        `pixel (${this.#first}); ${why}`,
    );
  }
}

/**
 * A value from a user's file, for an error message: JSON, numbers as written
 * (`Infinity`, which JSON would print as `null`), cut to `max` characters; a
 * value too deep to print is described instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shown } from "./_parse.ts";
 *
 * assert.equal(shown("x"), '"x"');
 * assert.equal(shown(Infinity), "Infinity");
 * assert.equal(shown("a".repeat(100)).length, 83);
 * ```
 */
export function shown(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === "number") text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? typeof value;
    } catch {
      text = `(${Array.isArray(value) ? "an array" : typeof value} too deeply nested to show)`;
    }
  }
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** The message of an error as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
