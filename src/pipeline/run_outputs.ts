/**
 * The files a segmentation run writes in its `out` folder, and the check, made
 * before anything is written, that none of them is one of the run's inputs
 * (`--out` given as the folder of GeoJSON detections would replace them with
 * the masks).
 *
 * @module
 */
import { fileStem } from "../formats/detection_files.ts";
import { overwrittenInput } from "./paths.ts";
import { RUN_RECORD_FILE } from "./run_record.ts";
import type { DetectionsInput, SegmentRunOptions } from "./segment_run.ts";

/** The end of an overlay's name: `<stem>.overlay.png`, beside its world file and `.aux.xml`. */
export const OVERLAY_SUFFIX = ".overlay.png";

/**
 * The names of the files a run writes in its `out` folder for the image of
 * `stem`: the vector file and, with `overlay`, the overlay with its world file
 * and `.aux.xml`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageOutputNames } from "./run_outputs.ts";
 *
 * assert.deepEqual(imageOutputNames("P0001", { vectorFormat: "fgb" }), ["P0001.fgb"]);
 * assert.equal(imageOutputNames("a", { overlay: true })[1], "a.overlay.png");
 * ```
 */
export function imageOutputNames(
  stem: string,
  options: Pick<SegmentRunOptions, "vectorFormat" | "overlay">,
): string[] {
  const names = [`${stem}.${options.vectorFormat === "fgb" ? "fgb" : "geojson"}`];
  if (options.overlay) {
    names.push(
      `${stem}${OVERLAY_SUFFIX}`,
      `${stem}.overlay.pgw`,
      `${stem}${OVERLAY_SUFFIX}.aux.xml`,
    );
  }
  return names;
}

/** The files a run writes once in its `out` folder. */
export const RUN_OUTPUT_NAMES: readonly string[] = ["coco.json", RUN_RECORD_FILE];

/**
 * Throws a TypeError naming both paths when a file the run would write in
 * `options.out` is one of its inputs (a planned image, a detection file, a
 * results file), compared as files (symbolic links resolved, case as the file
 * system has it: {@linkcode overwrittenInput}, which stats only the inputs
 * named as an output is). Every planned image's outputs count, not only a
 * shard's: every shard of such a run stops alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseOverwritingInputs } from "./run_outputs.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.geojson`, '{"type": "FeatureCollection", "features": []}');
 * const planned = [{ image: "imgs/a.tif", detections: { kind: "path" as const, path: `${dir}/a.geojson` } }];
 * await assert.rejects(
 *   refuseOverwritingInputs(planned, { out: dir, detections: { kind: "path", path: dir } }),
 *   /a\.geojson, which is an input/,
 * );
 * await refuseOverwritingInputs(planned, { out: `${dir}/out`, detections: { kind: "path", path: dir } });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function refuseOverwritingInputs(
  planned: readonly { image: string; detections: DetectionsInput }[],
  options: Pick<SegmentRunOptions, "out" | "detections" | "vectorFormat" | "overlay">,
): Promise<void> {
  if (options.out === null) return;
  const out = options.out.replace(/(.)\/+$/, "$1");
  // the outputs already there (one listing of `out`) and inputs of their names are compared
  const outputs = [
    ...RUN_OUTPUT_NAMES,
    ...planned.flatMap((p) => imageOutputNames(fileStem(p.image), options)),
  ].map((name) => `${out}/${name}`);
  const det = options.detections;
  const inputs = [
    ...planned.map((p) => p.image),
    ...planned.flatMap((p) => p.detections.kind === "path" ? [p.detections.path] : []),
    ...(det.kind === "path" ? [det.path] : []), // a results file (Task1, mmrotate JSON)
  ];
  const hit = await overwrittenInput(outputs, inputs);
  if (hit !== null) {
    throw new TypeError(
      `Cannot write to --out ${options.out}: the run would write ${hit.output}, which is an ` +
        `input of the run${hit.output === hit.input ? "" : ` (${hit.input}, the same file)`}; ` +
        `give another --out (a folder of its own)`,
    );
  }
}
