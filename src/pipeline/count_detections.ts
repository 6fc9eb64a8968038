/**
 * How many detections an image's input holds, and a digest of them, read
 * without opening the image: the weight by which `--shard` balances the work,
 * and what tells a `--resume` that an image's detections changed.
 *
 * @module
 */
import { type Detection, selectDetections } from "../formats/detection.ts";
import { parseGeoJsonDetections } from "../formats/geojson_detections.ts";
import { parseDetections, perFileFormat, sniffDetectionFormat } from "./detections_input.ts";
import type { DetectionsInput, SegmentRunOptions } from "./segment_run.ts";
import { sha256Hex } from "../sha256.ts";

/** An image's detections as the plan sees them: how many, and a digest of them. */
export interface PlannedDetections {
  /** Detections after `minScore`. */
  count: number;
  /**
   * The SHA-256 of those detections ({@linkcode detectionsDigest}), or of the file's text when
   * it reads but does not parse as a whole (truncated, every box under a pixel: another text is
   * another digest, so that a resume reaches the image and fails it); `null` when the file could
   * not be read at all (not there, a link to nothing: the run reports it when it gets to the
   * image).
   */
  sha256: string | null;
}

/**
 * The version of what {@linkcode detectionsDigest} hashes: part of the hashed text, and recorded
 * in the run record (`detections_digest`), so that digests of another version are never compared
 * with these. `sopseg-detections-1` (no record field) hashed the boxes as computed; this one the
 * detections as read.
 */
export const DETECTIONS_DIGEST_VERSION = "sopseg-detections-2";

/**
 * The detections `input` yields after `minScore`: their number and digest.
 * Files are parsed with the run's format (coordinates do not matter here, so
 * no raster is opened: positions are read as pixels, YOLO-OBB's normalised
 * corners scaled as for an image of `COUNT_SIZE` pixels a side, a function of
 * the file's numbers); malformed records do not count and are not
 * reported here (the run reports them when it segments the image). A file
 * that cannot be read counts 0, with no digest; one that reads but does not
 * parse counts 0, with the digest of its text ({@linkcode unparsedDigest}).
 *
 * @example
 * ```ts
 * import { plannedDetections } from "./count_detections.ts";
 * const a = await plannedDetections(
 *   { kind: "text", text: "0 0 9 0 9 4 0 4 car 0\nbad\n", source: "<x>" },
 *   {},
 * );
 * const b = await plannedDetections(
 *   { kind: "text", text: "0 0 9 0 9 4 0 4 ship 0\nbad\n", source: "<x>" },
 *   {},
 * );
 * if (a.count !== 1 || b.count !== 1 || a.sha256 === b.sha256) throw new Error();
 * ```
 */
export async function plannedDetections(
  input: DetectionsInput,
  options: Pick<SegmentRunOptions, "format" | "classNames" | "minScore">,
): Promise<PlannedDetections> {
  let detections;
  if (input.kind === "list") {
    detections = input.detections;
  } else {
    let text;
    try {
      text = input.kind === "text" ? input.text : await Deno.readTextFile(input.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) throw e;
      return { count: 0, sha256: null }; // the run reports it when it gets to the image
    }
    const source = input.kind === "text" ? input.source : input.path;
    const asked = perFileFormat(options.format);
    const format = asked === "auto" ? sniffDetectionFormat(source, text) : asked;
    try {
      // GeoJSON positions count the same in any frame: read them as pixels (no raster needed).
      detections = format === "geojson"
        ? parseGeoJsonDetections(text, { source, coordinates: "pixel" }).detections
        : parseDetections(text, {
          source,
          format,
          // a size no image has: YOLO-OBB boxes under a pixel of the image stay so here
          imageWidth: COUNT_SIZE,
          imageHeight: COUNT_SIZE,
          georef: null,
          classNames: options.classNames,
        }).detections;
    } catch {
      // not the earlier run's detections: the run reaches the image and fails it with the error
      return { count: 0, sha256: await unparsedDigest(text) };
    }
  }
  const kept = options.minScore === undefined
    ? detections
    : selectDetections(detections, { minScore: options.minScore });
  return { count: kept.length, sha256: await detectionsDigest(kept) };
}

/**
 * The image size YOLO-OBB corners are scaled by for a count: large enough that
 * no box is smaller than a pixel at it unless it is on the image too.
 */
const COUNT_SIZE = 1e6;

/**
 * The number of detections `input` yields after `minScore`
 * ({@linkcode plannedDetections}): the weight by which `--shard` balances the work.
 *
 * @example
 * ```ts
 * import { countDetections } from "./count_detections.ts";
 * const n = await countDetections(
 *   { kind: "text", text: "0 0 9 0 9 4 0 4 car 0\nbad\n", source: "<x>" },
 *   {},
 * );
 * if (n !== 1) throw new Error(String(n));
 * ```
 */
export async function countDetections(
  input: DetectionsInput,
  options: Pick<SegmentRunOptions, "format" | "classNames" | "minScore">,
): Promise<number> {
  return (await plannedDetections(input, options)).count;
}

/**
 * The SHA-256 (hex) of `detections` as they were read, in a canonical form: per
 * detection, in order, its corners as the file gave them (or, for a format
 * that gives a box, the box), class, score, `difficult` flag and where in its
 * file it was read (line, record: the outputs carry them), after
 * {@linkcode DETECTIONS_DIGEST_VERSION}. Nothing the geometry code derives
 * (the box of a set of corners) is part of it, so a change there keeps the
 * digests; numbers are written as JSON writes them (the shortest text that
 * reads back the same double: the same on every platform and locale). The
 * file's path is not part of it: the same detections read from a moved folder
 * are the same.
 *
 * @example
 * ```ts
 * import { detectionsDigest } from "./count_detections.ts";
 * const d = await detectionsDigest([]);
 * if (d !== "cc3e24259a0e25b850d5391b4b069491cbcdb9c5b7881967f314ed24e9d1c563") throw new Error(d);
 * ```
 */
export async function detectionsDigest(detections: readonly Detection[]): Promise<string> {
  const canonical = JSON.stringify(detections.map((d) => [
    d.corners?.flatMap((p) => [p.x, p.y]) ??
      [d.box.cx, d.box.cy, d.box.width, d.box.height, d.box.angle],
    d.className,
    d.score,
    d.difficult,
    d.line,
    d.feature ?? null,
  ]));
  return await sha256Hex(`${DETECTIONS_DIGEST_VERSION}\n${canonical}`);
}

/**
 * The digest of a detection file's text that does not parse as a whole: it
 * differs from every {@linkcode detectionsDigest} and from that of another text.
 *
 * @example
 * ```ts
 * import { unparsedDigest } from "./count_detections.ts";
 * if ((await unparsedDigest("{")) === (await unparsedDigest("{\"type"))) throw new Error();
 * ```
 */
export async function unparsedDigest(text: string): Promise<string> {
  return await sha256Hex(`${DETECTIONS_DIGEST_VERSION}\nunparsed\n${text}`);
}
