/**
 * sopseg: oriented detections in aerial and satellite imagery -> instance
 * masks, following the SOPSeg method (region-adaptive magnification, oriented
 * prompts, an edge-aware decoder with progressive refinement), on
 * onnxruntime-web (WASM SIMD, or WebGPU after a parity self-check).
 *
 * A model is loaded once and serves many images, and is closed when done;
 * nothing here exits, and nothing prints but onnxruntime-web's WASM loader
 * when it fails (e.g. without read access to Deno's cache). The CLI
 * (`cli.ts`) is one front end over this API.
 *
 * ```ts ignore
 * import { SopsegModel, segmentRun } from "./mod.ts";
 * const model = await SopsegModel.load("models/sopseg-lite", { backend: "auto" });
 * try {
 *   const summary = await segmentRun(model, {
 *     images: "imagery/",
 *     detections: { kind: "path", path: "labels/" },
 *     out: "out/",
 *   });
 * } finally {
 *   await model.close();
 * }
 * ```
 *
 * @module
 */
export * from "./src/geometry/mod.ts";
export * from "./src/masks/mod.ts";
export * from "./src/raster/mod.ts";
export * from "./src/formats/mod.ts";
export {
  boundaryIou,
  evaluate,
  formatJsonReport,
  formatMarkdownReport,
  formatTextReport,
  maskIou,
  readCocoGt,
} from "./src/eval/mod.ts";
export type { EvalReport, EvaluateOptions, EvaluateResult, SegmentFn } from "./src/eval/mod.ts";
export { SopsegModel } from "./src/model/sopseg_model.ts";
export type { BatchPrediction, ModelLoadOptions, PromptBatch } from "./src/model/sopseg_model.ts";
export type { ModelManifest } from "./src/model/manifest.ts";
export { BACKEND_CHOICES, parseBackendChoice } from "./src/model/backends.ts";
export type { BackendChoice, BackendName } from "./src/model/backends.ts";
export { cropReadWindow, writeCropTensor } from "./src/model/crop_tensor.ts";
export { cropFor, segmentBoxes } from "./src/pipeline/segment_image.ts";
export type { SegmentedBox, SegmentOptions } from "./src/pipeline/segment_image.ts";
export { RunBusyError, RunSetupError, segmentRun } from "./src/pipeline/segment_run.ts";
export { assignShards, parseShard } from "./src/pipeline/shard.ts";
export type { Shard, ShardItem } from "./src/pipeline/shard.ts";
export { mergeRuns, UnfinishedShardError } from "./src/pipeline/merge_runs.ts";
export type { MergeEvent, MergeRunsOptions, MergeSummary } from "./src/pipeline/merge_runs.ts";
export { readRunRecord, RunRecordError } from "./src/pipeline/run_record.ts";
export type { RunRecord } from "./src/pipeline/run_record.ts";
export type {
  ModelOpener,
  RunEvent,
  RunSummary,
  SegmentRunOptions,
} from "./src/pipeline/segment_run.ts";
export { parseDetections, sniffDetectionFormat } from "./src/pipeline/detections_input.ts";
export { newTimings, STAGES } from "./src/pipeline/timings.ts";
export type { Timings } from "./src/pipeline/timings.ts";
export { openImage, segmentDetections } from "./src/pipeline/segment_detections.ts";
export { MissingInputError, readResults, ResultsCache } from "./src/pipeline/results_input.ts";
export type { ReadResultsOptions, ResultsByImage } from "./src/pipeline/results_input.ts";
export type {
  DetectionsSpec,
  SegmentDetectionsOptions,
} from "./src/pipeline/segment_detections.ts";
export { INPUT_ERROR_KINDS, InputError } from "./src/pipeline/input_error.ts";
export type { InputErrorKind, InputErrorOptions, InputIssue } from "./src/pipeline/input_error.ts";
export { modelSegmentFn } from "./src/pipeline/model_segment_fn.ts";
export type { ModelSegmentFnOptions } from "./src/pipeline/model_segment_fn.ts";
export { DEFAULT_MODEL_DIR } from "./src/model/default_model.ts";
