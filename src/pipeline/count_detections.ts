/**
 * How many detections an image's input holds, read without opening the
 * image: the weight by which `--shard` balances the work.
 *
 * @module
 */
import { selectDetections } from "../formats/detection.ts";
import { parseGeoJsonDetections } from "../formats/geojson_detections.ts";
import { parseDetections, perFileFormat, sniffDetectionFormat } from "./detections_input.ts";
import type { DetectionsInput, SegmentRunOptions } from "./segment_run.ts";

/**
 * The number of detections `input` yields after `minScore`. Files are parsed
 * with the run's format (coordinates do not matter for a count, so no raster
 * is opened); malformed records do not count and are not reported here (the
 * run reports them when it segments the image); an unreadable file counts 0.
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
  let detections;
  if (input.kind === "list") {
    detections = input.detections;
  } else {
    let text;
    try {
      text = input.kind === "text" ? input.text : await Deno.readTextFile(input.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) throw e;
      return 0; // the run reports it when it gets to the image
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
          imageWidth: 1,
          imageHeight: 1,
          georef: null,
          classNames: options.classNames,
        }).detections;
    } catch {
      return 0;
    }
  }
  return options.minScore === undefined
    ? detections.length
    : selectDetections(detections, { minScore: options.minScore }).length;
}
