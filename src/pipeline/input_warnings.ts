/**
 * Warnings about one image's inputs that `deno task segment` prints and the
 * server sends its client (`$/warning`): the same words on both doors.
 * Those about the raster and the detections come before any model call; the
 * one about boxes over nodata when the image is done.
 *
 * @module
 */
import type { Detection } from "../formats/detection.ts";
import type { RasterSource } from "../raster/source.ts";
import { isOutsideImage } from "./segment_image.ts";

/**
 * What the raster's reader noted about `image` (a georeference from ground
 * control points or a CRS worked out from GeoKeys; no valid pixels), one
 * message each, prefixed with the image.
 *
 * @example
 * ```ts
 * import { rasterWarnings } from "./input_warnings.ts";
 * const notes = rasterWarnings("a.tif", { pixelsNote: "every pixel is nodata" });
 * if (notes[0] !== "a.tif: every pixel is nodata") throw new Error(notes[0]);
 * ```
 */
export function rasterWarnings(
  image: string,
  source: Pick<RasterSource, "georefNote" | "pixelsNote">,
): string[] {
  return [source.georefNote, source.pixelsNote].filter((n) => n !== undefined).map((n) =>
    `${image}: ${n}`
  );
}

/**
 * The warning for detections of `image` that lie entirely outside it (their
 * masks are empty), or `undefined` when none does.
 *
 * @example
 * ```ts
 * import { outsideImageWarning } from "./input_warnings.ts";
 * const far = { box: { cx: 900, cy: 900, width: 10, height: 4, angle: 0 } };
 * if (!outsideImageWarning("a.png", [far], 100, 100)?.includes("1 of 1")) throw new Error();
 * ```
 */
export function outsideImageWarning(
  image: string,
  detections: readonly Pick<Detection, "box">[],
  width: number,
  height: number,
): string | undefined {
  const outside = detections.filter((d) => isOutsideImage(d.box, width, height)).length;
  if (outside === 0) return undefined;
  return `${image}: ${outside} of ${detections.length} detection(s) lie entirely outside the ` +
    `image (${width} x ${height} px): their masks are empty` +
    (outside === detections.length
      ? ": all of them (another image's detections, map coordinates read as pixels, " +
        "or normalised ones?)"
      : "");
}

/**
 * The warning for a detection file that is not UTF-8 (its text, as decoded,
 * holds U+FFFD), or `undefined`.
 */
export function notUtf8Warning(path: string, text: string): string | undefined {
  if (!text.includes("\uFFFD")) return undefined;
  return `${path} is not UTF-8 text: bytes it cannot decode are read as "\uFFFD" ` +
    `(class names may not match; save it as UTF-8)`;
}

/** Share of a box's pixels that must be nodata for {@linkcode nodataWarning} to name it. */
export const MOSTLY_NODATA = 0.5;

/**
 * The warning for detections of `image` that lie mostly (over half of their
 * pixels) on nodata, given each detection's nodata share in detection order,
 * or `undefined` when none does.
 *
 * @example
 * ```ts
 * import { nodataWarning } from "./input_warnings.ts";
 * const w = nodataWarning("a.tif", [0, 0.8, 0.2, 1]);
 * if (!w?.startsWith("a.tif: 2 of 4 detection(s) lie mostly on nodata")) throw new Error(w);
 * ```
 */
export function nodataWarning(image: string, shares: readonly number[]): string | undefined {
  const named = shares.flatMap((s, i) => s > MOSTLY_NODATA ? [i] : []);
  if (named.length === 0) return undefined;
  return `${image}: ${named.length} of ${shares.length} detection(s) lie mostly on nodata ` +
    `(over half of their pixels; detection_index ${named.slice(0, 5).join(", ")}${
      named.length > 5 ? ", ..." : ""
    }): their masks may be empty, or hold a neighbour's pixels`;
}
