/**
 * The sopseg methods of the protocol (docs/PROTOCOL.md): `initialize` and
 * `segment`, over one loaded model, the library's {@linkcode segmentDetections}
 * and the server's read/write roots.
 *
 * @module
 */
import { dirname } from "node:path";
import { writeFileAtomic } from "../formats/atomic_write.ts";
import { featureCollectionToText } from "../formats/geojson_writer.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";
import { RESULTS_DETECTION_FORMATS } from "../pipeline/detections_input.ts";
import { AngleConventionError } from "../formats/mmrotate_json.ts";
import { InputError } from "../pipeline/input_error.ts";
import { ResultsCache } from "../pipeline/results_input.ts";
import {
  type DetectionsSpec,
  openImage,
  segmentDetections,
} from "../pipeline/segment_detections.ts";
import { ERROR_CODES, RpcError } from "./errors.ts";
import type { PathRoots } from "./path_roots.ts";
import { RasterCache } from "./raster_cache.ts";
import { parseSegmentParams, PROMPT_MODES, SEGMENT_OPTION_KEYS } from "./segment_params.ts";
import type { MethodHandler } from "./server.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The protocol version `initialize` reports. */
export const PROTOCOL_VERSION = "1.4";

/** What the methods work with. */
export interface SopsegMethodsContext {
  /** The loaded model. */
  model: SopsegModel;
  /** Where requests may read and write. */
  roots: PathRoots;
  /** Crops per model call unless a request says otherwise. Default: 8. */
  batchSize?: number;
  /** The server's line limit, reported by `initialize`. */
  maxLineBytes: number;
}

/** The methods and a `close` that releases what they hold (cached rasters). */
export interface SopsegMethods {
  /** Method handlers by name. */
  methods: Record<string, MethodHandler>;
  /** Releases cached rasters. */
  close: () => Promise<void>;
}

function withFlag(e: unknown, flag: string): never {
  if (e instanceof InputError && e.kind === "path-not-allowed") {
    throw new RpcError(
      ERROR_CODES.pathNotAllowed,
      `${e.message} (the server was not started with a ${flag} folder that covers it)`,
      { kind: e.kind, path: e.path, flag },
    );
  }
  throw e;
}

/**
 * The handlers of `initialize` and `segment`.
 *
 * @example
 * ```ts ignore
 * const { methods, close } = sopsegMethods({ model, roots, maxLineBytes: 1 << 24 });
 * const code = await serveJsonRpc(Deno.stdin.readable, write, { methods });
 * await close();
 * ```
 */
export function sopsegMethods(ctx: SopsegMethodsContext): SopsegMethods {
  const { model, roots } = ctx;
  const cache = new RasterCache();
  const results = new ResultsCache();

  const initialize: MethodHandler = (params) => {
    if (params !== undefined && (typeof params !== "object" || Array.isArray(params))) {
      throw RpcError.invalidParams("params", "must be an object when given");
    }
    return Promise.resolve({
      protocolVersion: PROTOCOL_VERSION,
      server: { name: "sopseg", version: denoJson.version },
      model: {
        name: model.manifest.name,
        dir: model.manifest.dir,
        inputSize: model.manifest.inputSize,
        classes: model.manifest.classes?.map((c) => c.name) ?? null,
      },
      backend: model.backend,
      backendReason: model.backendReason,
      capabilities: {
        methods: ["initialize", "segment", "shutdown", "exit", "$/cancelRequest"],
        notifications: ["$/progress", "$/warning"],
        detectionInputs: ["boxes", "text", "path"],
        detectionFormats: RESULTS_DETECTION_FORMATS,
        imageFormats: ["tiff", "png", "jpeg"],
        promptModes: PROMPT_MODES,
        options: [...SEGMENT_OPTION_KEYS],
        out: true,
        readRoots: roots.read,
        writeRoots: roots.write,
        maxLineBytes: ctx.maxLineBytes,
      },
    });
  };

  const segment: MethodHandler = async (params, call) => {
    const req = parseSegmentParams(params);
    // Every path is checked before any file is touched.
    const image = roots.checkRead(req.image, "image");
    const detectionsPath = req.detections.kind === "path"
      ? roots.checkRead(req.detections.path, "detections.path")
      : null;
    const out = req.out === null ? null : roots.checkWrite(req.out, "out");
    if (out !== null && (/[\\/]$/.test(req.out!) || await isFolder(out))) {
      throw RpcError.invalidParams(
        "out",
        `must name a file (e.g. ${out.replace(/\/+$/, "")}/<name>.geojson), not a folder`,
      );
    }
    const bands = req.options.bands;
    const source = await cache.open(image, bands, (p) => openImage(p, { bands })).catch((e) =>
      withFlag(e, "--read")
    );
    const d = req.detections;
    const spec: DetectionsSpec = d.kind === "boxes"
      ? { kind: "list", detections: d.detections }
      : d.kind === "text"
      ? { ...d, source: "detections.text" }
      : { ...d, path: detectionsPath! };
    const batchSize = req.options.batch ?? ctx.batchSize ?? 8;
    const fc = await segmentDetections(model, { source, detections: spec }, {
      batchSize,
      promptMode: req.options.prompt,
      simplify: req.options.simplify,
      keepPromptComponents: !req.options.allComponents,
      classPrompt: req.options.classPrompt,
      boxSearch: req.options.boxSearch,
      signal: call.signal,
      resultsCache: results,
      onProgress: (done, total) => {
        if (total > batchSize) call.progress(done, total);
      },
      onWarning: call.warn,
    }).catch((e) => {
      if (e instanceof AngleConventionError) {
        const why = e.message.replace("--angle-convention ", "");
        throw RpcError.invalidParams("detections.angle_convention", `is required: ${why}`);
      }
      return withFlag(e, "--read");
    });
    if (out === null) return fc;
    call.signal.throwIfAborted();
    try {
      await Deno.mkdir(dirname(out), { recursive: true });
      await writeFileAtomic(out, featureCollectionToText(fc));
    } catch (e) {
      const cause = (e as Error).cause ?? e;
      if (cause instanceof Deno.errors.NotCapable) {
        withFlag(
          new InputError("path-not-allowed", `Cannot write ${out}: not allowed`, { path: out }),
          "--write",
        );
      }
      const why = (e as Error).message.replace(/^Cannot write "[^"]*": /, "");
      throw new InputError("output-unwritable", `Cannot write ${out}: ${why}`, {
        path: out,
        cause: e,
      });
    }
    if (req.options.boxSearch === undefined) return { out, features: fc.features.length };
    // the file's features say which boxes were searched (`box_moved` present) and moved
    const searched = fc.features.filter((f) => f.properties.box_moved !== undefined);
    return {
      out,
      features: fc.features.length,
      box_search: {
        searched: searched.length,
        moved: searched.filter((f) => f.properties.box_moved).length,
      },
    };
  };

  return { methods: { initialize, segment }, close: () => cache.close() };
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false; // not there yet (written then), or not to be looked at (refused when written)
  }
}
