/**
 * Pairs images with detection files by file stem (`P0706.png` with `P0706.txt`).
 *
 * @module
 */

/** One image and the detection file that goes with it. */
export interface DetectionFilePair {
  /** The file stem both share. */
  stem: string;
  /** The image path, as given. */
  image: string;
  /** The detection file path, as given. */
  detections: string;
}

/** Several files of one kind with the same stem; none of them is paired. */
export interface AmbiguousStem {
  /** The shared stem. */
  stem: string;
  /** Which list the files came from. */
  kind: "image" | "detections";
  /** The paths, as given. */
  paths: string[];
}

/** What {@linkcode matchDetectionFiles} returns. */
export interface DetectionFileMatch {
  /** Pairs, sorted by stem. */
  pairs: DetectionFilePair[];
  /** Images that have no detection file, sorted. */
  imagesWithoutDetections: string[];
  /** Detection files that have no image, sorted. */
  detectionsWithoutImages: string[];
  /** Stems shared by several images or several detection files, sorted by stem. */
  ambiguous: AmbiguousStem[];
}

/** Options for {@linkcode matchDetectionFiles}. */
export interface MatchDetectionFilesOptions {
  /** Compare stems ignoring letter case (`p0706.PNG` with `P0706.txt`). Default: `false`. */
  ignoreCase?: boolean;
}

/**
 * The stem of a path: its last component without the last extension
 * (`a/b/P0706.png` -> `P0706`, `x.tar.gz` -> `x.tar`). Both `/` and `\` separate
 * components.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileStem } from "./detection_files.ts";
 *
 * assert.equal(fileStem("data/images/P0706.png"), "P0706");
 * assert.equal(fileStem("C:\\labels\\P0706.txt"), "P0706");
 * assert.equal(fileStem(".hidden"), ".hidden");
 * ```
 *
 * @param path A file path.
 * @returns The stem.
 */
export function fileStem(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * Pairs image files with detection files that have the same stem, and reports
 * images without detections, detection files without images, and stems that
 * several images (or several detection files) share, which are left unpaired.
 * Pure: it only looks at the path strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchDetectionFiles } from "./detection_files.ts";
 *
 * const match = matchDetectionFiles(
 *   ["images/P0706.png", "images/P1888.png"],
 *   ["labels/P0706.txt", "labels/P9999.txt"],
 * );
 * assert.deepEqual(match.pairs, [
 *   { stem: "P0706", image: "images/P0706.png", detections: "labels/P0706.txt" },
 * ]);
 * assert.deepEqual(match.imagesWithoutDetections, ["images/P1888.png"]);
 * assert.deepEqual(match.detectionsWithoutImages, ["labels/P9999.txt"]);
 * ```
 *
 * @param images Image paths.
 * @param detections Detection file paths.
 * @param options How to compare stems.
 * @returns The pairs and what could not be paired.
 */
export function matchDetectionFiles(
  images: readonly string[],
  detections: readonly string[],
  options: MatchDetectionFilesOptions = {},
): DetectionFileMatch {
  const key = options.ignoreCase
    ? (p: string) => fileStem(p).toLowerCase()
    : (p: string) => fileStem(p);
  const group = (paths: readonly string[]) => {
    const map = new Map<string, string[]>();
    for (const p of paths) {
      const k = key(p);
      const list = map.get(k);
      if (list === undefined) map.set(k, [p]);
      else if (!list.includes(p)) list.push(p);
    }
    return map;
  };
  const imageGroups = group(images);
  const detectionGroups = group(detections);
  const result: DetectionFileMatch = {
    pairs: [],
    imagesWithoutDetections: [],
    detectionsWithoutImages: [],
    ambiguous: [],
  };
  const ambiguousStems = new Set<string>();
  for (const [kind, groups] of [["image", imageGroups], ["detections", detectionGroups]] as const) {
    for (const [k, paths] of groups) {
      if (paths.length > 1) {
        ambiguousStems.add(k);
        result.ambiguous.push({ stem: fileStem(paths[0] ?? ""), kind, paths: [...paths].sort() });
      }
    }
  }
  for (const [k, paths] of imageGroups) {
    if (ambiguousStems.has(k)) continue;
    const image = paths[0] ?? "";
    const partner = detectionGroups.get(k)?.[0];
    if (partner === undefined) result.imagesWithoutDetections.push(image);
    else result.pairs.push({ stem: fileStem(image), image, detections: partner });
  }
  for (const [k, paths] of detectionGroups) {
    if (!ambiguousStems.has(k) && !imageGroups.has(k)) {
      result.detectionsWithoutImages.push(paths[0] ?? "");
    }
  }
  const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  result.pairs.sort((a, b) => byString(a.stem, b.stem) || byString(a.image, b.image));
  result.imagesWithoutDetections.sort(byString);
  result.detectionsWithoutImages.sort(byString);
  result.ambiguous.sort((a, b) => byString(a.stem, b.stem) || byString(a.kind, b.kind));
  return result;
}
