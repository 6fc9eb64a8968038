/**
 * The model manifest: what a model directory promises to the runtime.
 *
 * A model is a directory holding `manifest.json`, `encoder.onnx` and
 * `decoder.onnx`. The manifest names the input size, the normalisation, the
 * tensor names and their shapes (`-1` is the dynamic batch dimension). See
 * `docs/CONTRACT.md`. It may also name the same two graphs pre-optimised for
 * the WASM backend (`wasm_graphs`, ORT format), which load faster.
 *
 * @module
 */

import { type ModelClass, normalizeClassName } from "./model_classes.ts";
import { sha256Hex } from "../sha256.ts";

/** Shape of a tensor as the manifest states it; `-1` marks the batch dimension. */
export type TensorShape = readonly number[];

/** One ONNX graph of a model: its file and its named inputs and outputs. */
export interface GraphSpec {
  /** File name of the graph, relative to the model directory. */
  readonly file: string;
  /** Input name -> shape. */
  readonly inputs: Readonly<Record<string, TensorShape>>;
  /** Output name -> shape. */
  readonly outputs: Readonly<Record<string, TensorShape>>;
}

/** RAM parameters of METHOD.md section 2 that the model was trained with. */
export interface RamSpec {
  readonly m: number;
  readonly k0: number;
  readonly sMax: number;
  readonly sMin: number;
  /** `ram.context`, the smallest crop side over object size (1 when absent). */
  readonly context?: number;
}

/**
 * One encoder-decoder pair at one input size: the manifest's own (its top-level fields) or
 * its `small_graphs`.
 */
export interface GraphSet {
  /** Side of the square network input, `S_in`. */
  readonly inputSize: number;
  readonly encoder: GraphSpec;
  readonly decoder: GraphSpec;
  /**
   * The two graphs pre-optimised for onnxruntime's CPU kernels (`wasm_graphs`, made by
   * `training/optimize_graphs.ts`), or `null`. The WASM backend loads these with the
   * optimiser off, which saves about half a second of start-up; WebGPU loads the `.onnx`
   * files.
   */
  readonly wasmGraphs: WasmGraphs | null;
}

/**
 * The model exported at a smaller input size (`small_graphs` in the manifest), from the main
 * graphs' weights or their own fine-tune of the same lineage (`small_graphs.training`), for
 * the objects whose crop is at most `maxCropSide` pixels: their crop is not shrunk, and
 * the smaller graphs cost less (docs/CONTRACT.md).
 */
export interface SmallGraphSet extends GraphSet {
  /** Crops up to this side, in source pixels, run on these graphs. */
  readonly maxCropSide: number;
  /**
   * The manifest's `max_crop_side` when a load set `maxCropSide` to another value
   * (`SopsegModel.load`'s `smallGraphs` as a number); absent otherwise.
   */
  readonly manifestMaxCropSide?: number;
  /**
   * Whether a load that does not say (`smallGraphs` unset) uses them (`small_graphs.default`;
   * false when absent): the model's owner measured them close enough to the main graphs.
   */
  readonly byDefault: boolean;
}

/** A parsed, validated `manifest.json`; its own graph set is the main one. */
export interface ModelManifest extends GraphSet {
  /** Model directory the manifest was read from. */
  readonly dir: string;
  readonly name: string;
  /** Per-channel mean on 0..255 values, RGB. */
  readonly mean: readonly [number, number, number];
  /** Per-channel standard deviation on 0..255 values, RGB. */
  readonly std: readonly [number, number, number];
  /** Number of prompt tokens per instance (5: P1, C, P2, box corners). */
  readonly numPromptTokens: number;
  readonly ram: RamSpec;
  /** The small graph set (`small_graphs`), or `null` when the model has none. */
  readonly smallGraphs: SmallGraphSet | null;
  /**
   * The classes the model was trained on (`classes` in the manifest), or `null` when the
   * manifest does not say (then no detection is flagged as outside them).
   */
  readonly classes: readonly ModelClass[] | null;
  /**
   * The decoder's class prompt (`class_prompt` in the manifest), or `null` for a model
   * without one: a one-hot `float32[B, size]` input named `input`, index = the class's
   * id in `classes`, `unknownIndex` for any other class.
   */
  readonly classPrompt: ClassPromptSpec | null;
}

/** File names of the pre-optimised graphs, and the `.onnx` files they were made from. */
export interface WasmGraphs {
  readonly encoder: string;
  readonly decoder: string;
  /** SHA-256 of each source `.onnx` file, by file name. */
  readonly madeFromSha256: Readonly<Record<string, string>>;
}

/** A model's class prompt input. */
export interface ClassPromptSpec {
  /** Decoder input name (`class_onehot`). */
  readonly input: string;
  /** One-hot length. */
  readonly size: number;
  /** Index of the unknown class (0). */
  readonly unknownIndex: number;
}

/** The tensors the runtime feeds and reads, by graph. */
export const ENCODER_INPUTS = ["image"] as const;
/** Encoder outputs that the decoder consumes. */
export const ENCODER_OUTPUTS = ["image_embeddings", "shallow_features"] as const;
/** Decoder inputs. */
export const DECODER_INPUTS = [
  "image",
  "image_embeddings",
  "shallow_features",
  "point_coords",
  "point_labels",
] as const;
/**
 * Decoder outputs the runtime reads. A decoder may also output `edge_logits` (the edge map
 * it was trained to predict, which the runtime does not use).
 */
export const DECODER_OUTPUTS = ["mask_logits", "iou_predictions"] as const;

function fail(path: string, why: string): never {
  throw new TypeError(`Cannot load model manifest ${path}: ${why}`);
}

function num(path: string, obj: Record<string, unknown>, key: string, field = key): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    fail(path, `field "${field}" must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function triple(path: string, obj: Record<string, unknown>, key: string) {
  const v = obj[key];
  if (
    !Array.isArray(v) || v.length !== 3 ||
    !v.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    fail(path, `field "${key}" must be an array of 3 numbers, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1], v[2]] as const;
}

function shapes(
  path: string,
  v: unknown,
  field: string,
  required: readonly string[],
): Record<string, TensorShape> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(path, `field "${field}" must be an object of name -> shape`);
  }
  const out: Record<string, TensorShape> = {};
  for (const [name, shape] of Object.entries(v as Record<string, unknown>)) {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d > 0 || d === -1))) {
      fail(path, `field "${field}.${name}" must be a shape of positive integers or -1`);
    }
    out[name] = shape as number[];
  }
  for (const name of required) {
    if (!(name in out)) {
      fail(path, `field "${field}" lacks tensor "${name}" (has: ${Object.keys(out).join(", ")})`);
    }
  }
  return out;
}

function classList(path: string, v: unknown): ModelClass[] | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) fail(path, `field "classes" must be an array of {name, aliases}`);
  return v.map((c, i) => {
    const rec = (typeof c === "object" && c !== null ? c : {}) as Record<string, unknown>;
    if (typeof rec.name !== "string" || rec.name.trim() === "") {
      fail(path, `field "classes[${i}].name" must be a non-empty string`);
    }
    const aliases = rec.aliases ?? [];
    if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === "string")) {
      fail(path, `field "classes[${i}].aliases" must be an array of strings`);
    }
    const id = rec.id;
    if (id !== undefined && (!Number.isInteger(id) || (id as number) < 0)) {
      fail(path, `field "classes[${i}].id" must be a non-negative integer`);
    }
    return {
      name: normalizeClassName(rec.name),
      aliases: aliases.map(normalizeClassName),
      ...(id === undefined ? {} : { id: id as number }),
    };
  });
}

function classPromptOf(
  path: string,
  v: unknown,
  decoder: GraphSpec,
  classes: readonly ModelClass[] | null,
): ClassPromptSpec | null {
  if (v === undefined) return null;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(path, `field "class_prompt" must be an object {input, size, unknown_index}`);
  }
  const rec = v as Record<string, unknown>;
  const input = rec.input;
  if (typeof input !== "string" || input === "") {
    fail(path, `field "class_prompt.input" must be a decoder input name`);
  }
  const size = num(path, rec, "size", "class_prompt.size");
  const unknownIndex = num(path, rec, "unknown_index", "class_prompt.unknown_index");
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(unknownIndex)) {
    fail(path, `field "class_prompt" needs an integer size >= 1 and unknown_index`);
  }
  if (unknownIndex < 0 || unknownIndex >= size) {
    fail(path, `field "class_prompt.unknown_index" must be in [0, ${size})`);
  }
  const shape = decoder.inputs[input];
  if (shape?.length !== 2 || shape[0] !== -1 || shape[1] !== size) {
    fail(path, `decoder input "${input}" must be [-1, ${size}] (class_prompt.size)`);
  }
  for (const c of classes ?? []) {
    if (c.id === undefined || c.id >= size || c.id === unknownIndex) {
      fail(path, `class "${c.name}" needs an id in [0, ${size}) other than the unknown index`);
    }
  }
  return { input, size, unknownIndex };
}

function wasmGraphsOf(path: string, raw: unknown, prefix = ""): WasmGraphs | null {
  if (raw === undefined) return null;
  if (typeof raw !== "object" || raw === null) {
    fail(path, `field "${prefix}wasm_graphs" must be an object`);
  }
  const rec = raw as Record<string, unknown>;
  const file = (key: string) => {
    const v = rec[key];
    if (typeof v !== "string" || v === "" || v.includes("/") || v.includes("..")) {
      fail(
        path,
        `field "${prefix}wasm_graphs.${key}" must be a file name inside the model directory`,
      );
    }
    return v;
  };
  const from = rec.made_from_sha256;
  if (
    typeof from !== "object" || from === null ||
    !Object.values(from).every((v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v))
  ) {
    fail(
      path,
      `field "${prefix}wasm_graphs.made_from_sha256" must map file names to SHA-256 hex digests`,
    );
  }
  return {
    encoder: file("encoder"),
    decoder: file("decoder"),
    madeFromSha256: from as Record<string, string>,
  };
}

function graph(
  path: string,
  obj: Record<string, unknown>,
  key: string,
  inputs: readonly string[],
  outputs: readonly string[],
  prefix = "",
): GraphSpec {
  const g = obj[key];
  const field = prefix + key;
  if (typeof g !== "object" || g === null) fail(path, `field "${field}" is missing`);
  const rec = g as Record<string, unknown>;
  if (typeof rec.file !== "string" || rec.file === "" || rec.file.includes("..")) {
    fail(path, `field "${field}.file" must be a file name inside the model directory`);
  }
  return {
    file: rec.file,
    inputs: shapes(path, rec.inputs, `${field}.inputs`, inputs),
    outputs: shapes(path, rec.outputs, `${field}.outputs`, outputs),
  };
}

/** The graph set of `obj` (the manifest itself, or its `small_graphs` with that prefix). */
function graphSetOf(path: string, obj: Record<string, unknown>, prefix = ""): GraphSet {
  const inputSize = num(path, obj, "input_size", `${prefix}input_size`);
  if (!Number.isInteger(inputSize) || inputSize % 16 !== 0 || inputSize <= 0) {
    fail(
      path,
      `field "${prefix}input_size" must be a positive multiple of 16, got ${inputSize}`,
    );
  }
  const encoder = graph(path, obj, "encoder", ENCODER_INPUTS, ENCODER_OUTPUTS, prefix);
  const decoder = graph(path, obj, "decoder", DECODER_INPUTS, DECODER_OUTPUTS, prefix);
  for (const [name, spec] of [["encoder", encoder], ["decoder", decoder]] as const) {
    const imageShape = spec.inputs.image;
    if (
      imageShape?.length !== 4 || imageShape[1] !== 3 || imageShape[2] !== inputSize ||
      imageShape[3] !== inputSize
    ) {
      fail(
        path,
        `${prefix}${name} input "image" must be [-1, 3, ${inputSize}, ${inputSize}] (${prefix}input_size)`,
      );
    }
  }
  return {
    inputSize,
    encoder,
    decoder,
    wasmGraphs: wasmGraphsOf(path, obj.wasm_graphs, prefix),
  };
}

function smallGraphsOf(path: string, raw: unknown, main: GraphSet): SmallGraphSet | null {
  if (raw === undefined) return null;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(path, `field "small_graphs" must be an object`);
  }
  const rec = raw as Record<string, unknown>;
  const set = graphSetOf(path, rec, "small_graphs.");
  if (set.inputSize >= main.inputSize) {
    fail(
      path,
      `field "small_graphs.input_size" (${set.inputSize}) must be under "input_size" (${main.inputSize})`,
    );
  }
  const maxCropSide = num(path, rec, "max_crop_side", "small_graphs.max_crop_side");
  if (!(maxCropSide > 0)) fail(path, `field "small_graphs.max_crop_side" must be positive`);
  const mainNames = [main.encoder.file, main.decoder.file];
  if (mainNames.includes(set.encoder.file) || mainNames.includes(set.decoder.file)) {
    fail(path, `field "small_graphs" must name other graph files than the main ones`);
  }
  const byDefault = rec.default ?? false;
  if (typeof byDefault !== "boolean") {
    fail(path, `field "small_graphs.default" must be true or false`);
  }
  return { ...set, maxCropSide, byDefault };
}

/**
 * The model's graph sets: the main one first, then the small one when it has one.
 *
 * @example
 * ```ts
 * import { graphSets, loadManifest } from "./manifest.ts";
 * const m = await loadManifest(new URL("../../models/sopseg-lite", import.meta.url).pathname);
 * if (graphSets(m)[0]!.inputSize !== m.inputSize) throw new Error("the main set comes first");
 * ```
 */
export function graphSets(manifest: ModelManifest): GraphSet[] {
  return manifest.smallGraphs ? [manifest, manifest.smallGraphs] : [manifest];
}

/**
 * Validate a parsed manifest object. Errors name the file and the field.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * let message = "";
 * try {
 *   parseManifest({ format: "something-else" }, "models/x");
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.includes("format")) throw new Error(message);
 * ```
 */
export function parseManifest(raw: unknown, dir: string): ModelManifest {
  const path = `${dir}/manifest.json`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(path, "the file is not a JSON object");
  }
  const obj = raw as Record<string, unknown>;
  if (obj.format !== "sopseg-model") {
    fail(path, `field "format" must be "sopseg-model", got ${JSON.stringify(obj.format)}`);
  }
  const version = num(path, obj, "format_version");
  if (version !== 1) fail(path, `format_version ${version} is not supported (this build reads 1)`);
  const main = graphSetOf(path, obj);
  const std = triple(path, obj, "std");
  if (std.some((s) => s <= 0)) fail(path, `field "std" must be positive`);
  const numPromptTokens = num(path, obj, "num_prompt_tokens");
  if (numPromptTokens !== 5) {
    fail(path, `field "num_prompt_tokens" must be 5 (P1, C, P2, two box corners)`);
  }
  if (obj.prompt_frame !== "model-continuous") {
    fail(path, `field "prompt_frame" must be "model-continuous"`);
  }
  const ramRaw = (obj.ram ?? {}) as Record<string, unknown>;
  const ram: RamSpec = {
    m: num(path, ramRaw, "m", "ram.m"),
    k0: num(path, ramRaw, "k0", "ram.k0"),
    sMax: num(path, ramRaw, "s_max", "ram.s_max"),
    sMin: num(path, ramRaw, "s_min", "ram.s_min"),
    ...(ramRaw.context === undefined
      ? {}
      : { context: num(path, ramRaw, "context", "ram.context") }),
  };
  if (ram.context !== undefined && !(ram.context >= 1)) {
    fail(path, `field "ram.context" must be >= 1`);
  }
  const smallGraphs = smallGraphsOf(path, obj.small_graphs, main);
  const classes = classList(path, obj.classes);
  const classPrompt = classPromptOf(path, obj.class_prompt, main.decoder, classes);
  if (classPrompt && smallGraphs) {
    const shape = smallGraphs.decoder.inputs[classPrompt.input];
    if (shape?.length !== 2 || shape[1] !== classPrompt.size) {
      fail(
        path,
        `small_graphs.decoder input "${classPrompt.input}" must be [-1, ${classPrompt.size}] (class_prompt.size)`,
      );
    }
  }
  return {
    dir,
    name: typeof obj.name === "string" ? obj.name : "unnamed",
    ...main,
    mean: triple(path, obj, "mean"),
    std,
    numPromptTokens,
    ram,
    smallGraphs,
    classes,
    classPrompt,
  };
}

/**
 * Read and validate `<dir>/manifest.json`.
 *
 * @example
 * ```ts
 * import { loadManifest } from "./manifest.ts";
 * const m = await loadManifest(new URL("../../models/sopseg-lite", import.meta.url).pathname);
 * // the crop side of the model frame: a positive multiple of 16 (192 for the shipped model)
 * if (m.inputSize % 16 !== 0 || m.encoder.inputs.image?.[2] !== m.inputSize) throw new Error();
 * ```
 */
export async function loadManifest(dir: string): Promise<ModelManifest> {
  const path = `${dir}/manifest.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(
        `Cannot load model ${dir}: no manifest.json there (a model directory holds manifest.json, encoder.onnx, decoder.onnx)`,
      );
    }
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot load model manifest ${path}: ${(e as Error).message}`);
  }
  return parseManifest(raw, dir);
}

/**
 * The two graph files a backend loads: for WASM the pre-optimised ones when the model has
 * them (`preoptimized`: load with the optimiser off), otherwise the `.onnx` files (they hold
 * onnxruntime CPU kernels' fused operators, so WebGPU reads the `.onnx`).
 *
 * @example
 * ```ts
 * import { graphFiles, loadManifest } from "./manifest.ts";
 * const m = await loadManifest(new URL("../../models/sopseg-lite", import.meta.url).pathname);
 * if (graphFiles(m, false).encoder !== m.encoder.file) throw new Error("WebGPU reads the .onnx");
 * ```
 */
export function graphFiles(
  set: GraphSet,
  wasm: boolean,
): { encoder: string; decoder: string; preoptimized: boolean } {
  const pre = wasm ? set.wasmGraphs : null;
  return pre
    ? { encoder: pre.encoder, decoder: pre.decoder, preoptimized: true }
    : { encoder: set.encoder.file, decoder: set.decoder.file, preoptimized: false };
}

const filesSha256 = new WeakMap<ModelManifest, Promise<Readonly<Record<string, string>>>>();

/**
 * SHA-256 of `manifest.json` and of every graph file it names (the `.onnx` files and the
 * WASM graphs), by file name: what a run record keeps to tell models apart. Computed once
 * per loaded manifest; {@linkcode SopsegModel.load} starts it while the sessions are
 * created, so that reading and hashing the files overlaps the model's start.
 *
 * @example
 * ```ts
 * import { loadManifest, modelFilesSha256 } from "./manifest.ts";
 * const m = await loadManifest(new URL("../../models/sopseg-lite", import.meta.url).pathname);
 * const sha = await modelFilesSha256(m);
 * if (!/^[0-9a-f]{64}$/.test(sha["manifest.json"] ?? "")) throw new Error("no manifest hash");
 * ```
 */
export function modelFilesSha256(
  manifest: ModelManifest,
): Promise<Readonly<Record<string, string>>> {
  let p = filesSha256.get(manifest);
  if (p === undefined) {
    const files = ["manifest.json"];
    for (const set of graphSets(manifest)) {
      files.push(set.encoder.file, set.decoder.file);
      if (set.wasmGraphs) files.push(set.wasmGraphs.encoder, set.wasmGraphs.decoder);
    }
    // all reads at once: they proceed off the main thread while it creates sessions
    p = Promise.all(files.map((f) => Deno.readFile(`${manifest.dir}/${f}`)))
      .then((all) => Promise.all(all.map((bytes) => sha256Hex(bytes))))
      .then((hex) => Object.fromEntries(files.map((f, i) => [f, hex[i]!])));
    filesSha256.set(manifest, p);
  }
  return p;
}
