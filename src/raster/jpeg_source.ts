/**
 * JPEG images, decoded once into planes (`jpeg_decode.ts`): in the main thread,
 * or for a large image in a worker, whose memory goes with it.
 *
 * @module
 */

import { decodedRasterSource, keptChannels } from "./decoded_source.ts";
import { decodeJpegPlanes, jpegEnds, jpegFrame, type JpegPlanes } from "./jpeg_decode.ts";
import type { JpegReply, JpegRequest } from "./jpeg_worker.ts";
import type { OpenRasterOptions, RasterSource } from "./source.ts";
import { readSidecarGeoref } from "./world_file.ts";
import { readPamDataset } from "./pam_dataset.ts";

/**
 * The Web Worker constructor, kept at load time (onnxruntime-web's Node build
 * replaces `globalThis.Worker` when it starts; see `session_pool.ts`).
 */
const WebWorker = globalThis.Worker;

async function decodeInWorker(bytes: Uint8Array, kept: number[]): Promise<JpegPlanes> {
  const worker = new WebWorker(new URL("./jpeg_worker.ts", import.meta.url), { type: "module" });
  try {
    const reply = await new Promise<JpegReply>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<JpegReply>) => resolve(e.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        reject(new Error(`the JPEG worker failed: ${e.message}`));
      };
      const request: JpegRequest = { bytes, kept };
      worker.postMessage(request, [bytes.buffer as ArrayBuffer]);
    });
    if ("error" in reply) throw new Error(reply.error);
    const planes = new Map(reply.channels.map((c, i) => [c, reply.planes[i]!]));
    return { width: reply.width, height: reply.height, planes };
  } finally {
    worker.terminate();
  }
}

/** Options of {@linkcode openJpeg}. */
export interface OpenJpegOptions extends OpenRasterOptions {
  /** Largest image decoded, in megapixels (read from the header, before decoding). @default {1000} */
  maxMegapixels?: number;
  /**
   * Images above this many megapixels are decoded in a worker: the decoder's WASM memory
   * (the whole image, and more) goes when the worker ends, instead of staying next to the
   * image's planes while it is segmented. @default {16}
   */
  workerMegapixels?: number;
}

/**
 * Opens a JPEG (baseline or progressive; gray images come out as three equal
 * bands), decoding it once, as a 3-band {@linkcode RasterSource}. The
 * `<GeoTransform>` of GDAL's `<jpeg>.aux.xml` (what `gdal_translate -of JPEG`
 * writes) gives the georeference, else a world file beside it (`.jgw`,
 * `.jpgw`, `.wld`): GDAL's JPEG driver's order; that file's `<NoDataValue>`
 * gives the nodata.
 *
 * @example Usage
 * ```ts
 * import { openJpeg } from "./jpeg_source.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jpg" });
 * // An 8x8 grey baseline JPEG made by GDAL.
 * const gdal = new Deno.Command("gdal_create", {
 *   args: ["-of", "JPEG", "-outsize", "8", "8", "-bands", "3", "-burn", "200", path],
 * });
 * if (!(await gdal.output()).success) throw new Error("gdal_create failed");
 * const src = await openJpeg(path);
 * console.log(src.width, src.bandCount); // 8 3
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path Path of the JPEG.
 * @param options Band selection, size limit.
 * @returns The source.
 */
export async function openJpeg(path: string, options: OpenJpegOptions = {}): Promise<RasterSource> {
  const bytes = await Deno.readFile(path);
  const maxMegapixels = options.maxMegapixels ?? 1000;
  // three bands (gray JPEGs come out as three equal ones)
  const kept = keptChannels(options.bands, { channels: 3, alphaChannel: null, path });
  // what the decoder cannot do, said plainly before it is tried (its own words are an exit code)
  const frame = jpegFrame(bytes);
  if (frame !== null && frame.precision !== 8) {
    throw new TypeError(
      `Cannot open ${path}: a ${frame.precision}-bit JPEG, which sopseg does not read (8-bit ` +
        `only); convert it, e.g. gdal_translate -ot Byte -scale in.jpg out.tif`,
    );
  }
  if (frame !== null && frame.components === 4) {
    throw new TypeError(
      `Cannot open ${path}: a CMYK (4-component) JPEG, which sopseg does not read; convert it ` +
        `to RGB, e.g. gdal_translate in.jpg out.tif (GDAL reads it as RGB)`,
    );
  }
  let decoded: JpegPlanes;
  try {
    const size = frame; // refused before any pixel is decoded
    const tooLarge = (width: number, height: number) => {
      if (width * height > maxMegapixels * 1e6) {
        throw new RangeError(`${width}x${height} exceeds ${maxMegapixels} megapixels`);
      }
    };
    if (size !== null) tooLarge(size.width, size.height);
    if (size !== null && !jpegEnds(bytes)) {
      throw new RangeError(
        `cut short: no end-of-image marker after its image data, ${bytes.length} bytes`,
      );
    }
    const workerPixels = (options.workerMegapixels ?? 16) * 1e6;
    decoded = size !== null && size.width * size.height > workerPixels
      ? await decodeInWorker(bytes, kept)
      : await decodeJpegPlanes(bytes, kept);
    tooLarge(decoded.width, decoded.height);
  } catch (error) {
    throw new TypeError(`Cannot open ${path}: not a readable JPEG (${(error as Error).message})`, {
      cause: error,
    });
  }
  return decodedRasterSource(
    path,
    {
      width: decoded.width,
      height: decoded.height,
      channels: 3,
      planes: decoded.planes,
      alphaChannel: null,
    },
    {
      ...options,
      georef: await readSidecarGeoref(path, { worldFileFirst: false }),
      bandNodata: (await readPamDataset(path))?.bandNodata,
    },
  );
}
