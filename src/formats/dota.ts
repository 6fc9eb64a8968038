/**
 * Readers for DOTA labelTxt files and DOTA Task1 result files.
 *
 * @module
 */

import type { Detection, ParsedDetections, ParseIssue } from "./detection.ts";
import {
  CORNER_NAMES,
  cornersFromNumbers,
  errorMessage,
  FieldError,
  parseFiniteNumber,
  pixelBoxFromCorners,
  readNumbers,
  SubPixelBoxes,
  textRecords,
} from "./_parse.ts";

/** What a file of DOTA boxes all smaller than a pixel is told. */
const DOTA_PIXELS = "are the coordinates in degrees or normalised? DOTA corners are the " +
  "image's pixels: give map coordinates as GeoJSON (with its crs), normalised ones as YOLO-OBB";

/** What {@linkcode parseDota} returns: the detections, the skipped lines and the header. */
export interface ParsedDota extends ParsedDetections {
  /** The `imagesource:` header value, or `null` when absent. */
  imageSource: string | null;
  /** The `gsd:` header value (ground sample distance, metres per pixel), or `null`. */
  gsd: number | null;
}

/** Options for {@linkcode parseDota}. */
export interface ParseDotaOptions {
  /** Where the text comes from (a file path); copied into detections and issues. */
  source: string;
  /**
   * What the optional 10th field holds: DOTA's `difficult` flag (`0` or `1`),
   * or a detector `score` (for detector output written in labelTxt layout);
   * `"auto"`: scores when any line has a number between 0 and 1 other than
   * `0` and `1` there, else `difficult`. Default: `"difficult"`.
   */
  lastField?: "difficult" | "score" | "auto";
}

/**
 * Reads a DOTA labelTxt file: optional `imagesource:` and `gsd:` header lines,
 * then one box per line, `x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]`, corners
 * in the pixel frame (they may fall outside the image).
 *
 * Blank lines and `#` comments are skipped. A line that cannot be read (wrong
 * field count, a non-number, a degenerate box, a box whose sides are both
 * under a pixel) becomes a {@linkcode ParseIssue} and is skipped; reading goes
 * on. Throws (a TypeError) only for a file whose every box is smaller than a
 * pixel: coordinates in degrees or normalised, not pixels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDota } from "./dota.ts";
 *
 * const text = [
 *   "imagesource:GoogleEarth",
 *   "gsd:0.25",
 *   "10 10 30 10 30 20 10 20 ship 0",
 *   "10 10 30 10 30 ship 0",
 * ].join("\n");
 * const { detections, issues, gsd } = parseDota(text, { source: "P0001.txt" });
 * assert.equal(gsd, 0.25);
 * assert.equal(detections.length, 1);
 * assert.equal(detections[0]!.className, "ship");
 * assert.equal(detections[0]!.box.cx, 20);
 * assert.equal(issues[0]!.line, 4);
 * ```
 *
 * @param text The file's text.
 * @param options Where it comes from and how to read the last field.
 * @returns The detections, the issues and the header values.
 */
export function parseDota(text: string, options: ParseDotaOptions): ParsedDota {
  const { source } = options;
  const lastField = options.lastField === "auto"
    ? (holdsScores(text) ? "score" : "difficult")
    : options.lastField ?? "difficult";
  const detections: Detection[] = [];
  const issues: ParseIssue[] = [];
  let imageSource: string | null = null;
  let gsd: number | null = null;
  const subPixel = new SubPixelBoxes();

  for (const { line, text: lineText, fields } of textRecords(text)) {
    const header = /^(imagesource|gsd)\s*:\s*(.*)$/i.exec(lineText);
    if (header) {
      const key = (header[1] ?? "").toLowerCase();
      const value = (header[2] ?? "").trim();
      if (key === "imagesource") {
        imageSource = value;
      } else if (value === "" || value.toLowerCase() === "null") {
        gsd = null;
      } else {
        const parsed = parseFiniteNumber(value);
        if (parsed === null || parsed <= 0) {
          issues.push({
            source,
            line,
            message: `Cannot read gsd header: "${value}" is not a positive number`,
          });
        } else {
          gsd = parsed;
        }
      }
      continue;
    }
    try {
      if (fields.length !== 9 && fields.length !== 10) {
        throw new FieldError(
          `expected 9 or 10 fields (x1 y1 x2 y2 x3 y3 x4 y4 class [${lastField}]), got ${fields.length}`,
        );
      }
      const corners = cornersFromNumbers(readNumbers(fields, 0, 8, CORNER_NAMES));
      const className = fields[8] ?? "";
      let difficult = false;
      let score: number | null = null;
      const last = fields[9];
      if (last !== undefined) {
        if (lastField === "difficult") {
          if (last !== "0" && last !== "1") {
            throw new FieldError(
              `difficult must be 0 or 1, got "${last}"` +
                (options.lastField === "auto" ? " (or a detector's score, between 0 and 1)" : ""),
            );
          }
          difficult = last === "1";
        } else {
          score = parseFiniteNumber(last);
          if (score === null) throw new FieldError(`score is not a number: "${last}"`);
        }
      }
      const box = pixelBoxFromCorners(corners);
      detections.push({ box, className, score, difficult, source, line, corners });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      subPixel.note(error, line);
      issues.push({ source, line, message: `Cannot read DOTA box: ${errorMessage(error)}` });
    }
  }
  subPixel.check(source, "DOTA boxes", detections.length, DOTA_PIXELS);
  return { detections, issues, imageSource, gsd };
}

/**
 * Whether a labelTxt-layout text's 10th fields are a detector's scores: any
 * of them a number between 0 and 1 other than DOTA's `0` and `1` flags.
 */
function holdsScores(text: string): boolean {
  for (const { fields } of textRecords(text)) {
    const last = fields.length === 10 ? fields[9]! : undefined;
    if (last === undefined || last === "0" || last === "1") continue;
    const v = parseFiniteNumber(last);
    if (v !== null && v >= 0 && v <= 1) return true;
  }
  return false;
}

/** What {@linkcode parseDotaTask1} returns. */
export interface ParsedDotaTask1 {
  /** Detections grouped by image name (the file's first field), in first-seen order. */
  byImage: Map<string, Detection[]>;
  /** Skipped lines in file order. */
  issues: ParseIssue[];
}

/** Options for {@linkcode parseDotaTask1}. */
export interface ParseDotaTask1Options {
  /** Where the text comes from (a file path); copied into detections and issues. */
  source: string;
  /**
   * The class of every detection in the file. Default: taken from a source
   * named `Task1_<class>.txt` (any directory); a TypeError if the source has
   * another name.
   */
  className?: string;
  /**
   * Detections scored below this are checked (a bad line is still an issue)
   * but not kept; their image id is still listed. Default: all kept.
   */
  minScore?: number;
}

/**
 * Reads a DOTA Task1 result file (one file per class, as written by the DOTA
 * devkit and mmrotate): `image score x1 y1 x2 y2 x3 y3 x4 y4` per line, corners
 * in the pixel frame. Bad lines become issues, as in {@linkcode parseDota}, and a
 * file whose every box is smaller than a pixel is a TypeError.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDotaTask1 } from "./dota.ts";
 *
 * const text = [
 *   "P0706 0.93 10 10 30 10 30 20 10 20",
 *   "P1888 0.51 5 5 9 5 9 7 5 7",
 *   "P0706 0.40 40 40 60 40 60 50 40 50",
 * ].join("\n");
 * const { byImage, issues } = parseDotaTask1(text, { source: "results/Task1_ship.txt" });
 * assert.deepEqual([...byImage.keys()], ["P0706", "P1888"]);
 * assert.equal(byImage.get("P0706")!.length, 2);
 * assert.equal(byImage.get("P0706")![0]!.className, "ship");
 * assert.equal(byImage.get("P0706")![0]!.score, 0.93);
 * assert.equal(issues.length, 0);
 * ```
 *
 * @param text The file's text.
 * @param options Where it comes from and its class.
 * @returns Detections per image name, and the issues.
 */
export function parseDotaTask1(text: string, options: ParseDotaTask1Options): ParsedDotaTask1 {
  const { source, minScore } = options;
  let className = options.className;
  if (className === undefined) {
    // from the file's own name: a folder may be called task1_<something> too
    const match = /^Task1_(.+)\.txt$/i.exec(source.split(/[\\/]/).pop() ?? "");
    if (!match) {
      throw new TypeError(
        `Cannot read DOTA Task1 file "${source}": no className given and the file is not named Task1_<class>.txt`,
      );
    }
    className = match[1] ?? "";
  }
  const byImage = new Map<string, Detection[]>();
  const issues: ParseIssue[] = [];
  const subPixel = new SubPixelBoxes();
  let boxes = 0; // read, whatever their score
  for (const { line, fields } of textRecords(text)) {
    try {
      if (fields.length !== 10) {
        throw new FieldError(
          `expected 10 fields (image score x1 y1 x2 y2 x3 y3 x4 y4), got ${fields.length}`,
        );
      }
      const image = fields[0] ?? "";
      const [score = NaN] = readNumbers(fields, 1, 1, ["score"]);
      const corners = cornersFromNumbers(readNumbers(fields, 2, 8, CORNER_NAMES));
      const box = pixelBoxFromCorners(corners);
      boxes++;
      let list = byImage.get(image);
      if (list === undefined) byImage.set(image, list = []);
      if (minScore !== undefined && !(score >= minScore)) continue;
      list.push({ box, className, score, difficult: false, source, line, corners });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      subPixel.note(error, line);
      issues.push({ source, line, message: `Cannot read DOTA Task1 box: ${errorMessage(error)}` });
    }
  }
  subPixel.check(source, "DOTA Task1 results", boxes, DOTA_PIXELS);
  return { byImage, issues };
}
