/**
 * JPEG decoding into planes, through MozJPEG's decoder compiled to WASM
 * (`@jsquash/jpeg`, the only file that imports it). Used in the main thread for
 * small images and in a worker (`jpeg_worker.ts`) for large ones.
 *
 * @module
 */

// The decoder (WASM) is loaded on the first JPEG, not at start-up.
const jpegDecoder = () => import("@jsquash/jpeg/decode");

/** A decoded JPEG: one row-major plane per kept channel (0 R, 1 G, 2 B). */
export interface JpegPlanes {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The kept channels' planes. */
  planes: Map<number, Uint8Array>;
}

/**
 * Decodes a JPEG (baseline or progressive; gray ones come out as three equal
 * channels) and keeps the channels `kept` names, each as its own plane, never
 * through an interleaved RGB copy. MozJPEG's decoder is libjpeg-turbo: the
 * samples are bit-identical to what OpenCV and GDAL decode, so crops match the
 * training data exactly. Throws the decoder's error for a file it cannot read.
 *
 * @example Usage
 * ```ts
 * import { decodeJpegPlanes } from "./jpeg_decode.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jpg" });
 * const gdal = new Deno.Command("gdal_create", {
 *   args: ["-of", "JPEG", "-outsize", "8", "8", "-bands", "3", "-burn", "200", path],
 * });
 * if (!(await gdal.output()).success) throw new Error("gdal_create failed");
 * const img = await decodeJpegPlanes(await Deno.readFile(path), [1]);
 * console.log(img.width, [...img.planes.keys()], img.planes.get(1)![0]); // 8 [ 1 ] 200
 * await Deno.remove(path);
 * ```
 *
 * @param bytes The JPEG file.
 * @param kept 0-based channels to keep.
 * @returns The size and the kept planes.
 */
export async function decodeJpegPlanes(
  bytes: Uint8Array,
  kept: readonly number[],
): Promise<JpegPlanes> {
  const decoder = await jpegDecoder();
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer;
  const image = await decoder.default(buffer);
  // RGBA with opaque alpha
  const n = image.width * image.height;
  const rgba = image.data;
  const planes = new Map<number, Uint8Array>();
  for (const c of kept) {
    const plane = new Uint8Array(n);
    for (let i = 0, j = c; i < n; i++, j += 4) plane[i] = rgba[j]!;
    planes.set(c, plane);
  }
  return { width: image.width, height: image.height, planes };
}

/** A JPEG's frame header: size, sample precision in bits, colour components. */
export interface JpegFrame {
  width: number;
  height: number;
  /** Bits per sample: 8, or 12 (and 16) for extended and lossless JPEGs. */
  precision: number;
  /** 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK. */
  components: number;
}

/**
 * The frame header (SOFn) of a JPEG, read from its markers without decoding:
 * what decides whether it can be decoded, and how large it is. `null` when
 * the bytes are not a JPEG or hold no frame before the image data.
 *
 * @example Usage
 * ```ts
 * import { jpegFrame } from "./jpeg_decode.ts";
 * // SOI, then a baseline SOF0 of 17 rows x 640 columns, 8 bits, one component
 * const bytes = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 17, 2, 128, 1, 1, 0x11, 0);
 * console.log(jpegFrame(bytes)); // { width: 640, height: 17, precision: 8, components: 1 }
 * ```
 *
 * @param bytes The JPEG file (or its first bytes).
 * @returns The frame, or `null`.
 */
export function jpegFrame(bytes: Uint8Array): JpegFrame | null {
  for (const { marker, at } of jpegMarkers(bytes)) {
    if (marker === 0xda || marker === 0xd9) return null; // image data or end: no frame
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
      marker !== 0xcc;
    if (isFrame) {
      if (at + 9 >= bytes.length) return null;
      return {
        precision: bytes[at + 4]!,
        height: (bytes[at + 5]! << 8) | bytes[at + 6]!,
        width: (bytes[at + 7]! << 8) | bytes[at + 8]!,
        components: bytes[at + 9]!,
      };
    }
  }
  return null;
}

/**
 * The markers of a JPEG's header, from SOI to the first image data (SOS) or end
 * (EOI) included: each marker's code and offset. Stops at bytes that are not a
 * marker.
 */
function* jpegMarkers(bytes: Uint8Array): Generator<{ marker: number; at: number }> {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return;
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) { // fill byte
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { // no length
      i += 2;
      continue;
    }
    yield { marker, at: i };
    if (marker === 0xda || marker === 0xd9) return;
    i += 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
}

/**
 * Whether a JPEG ends: an end-of-image marker (EOI) follows its first image data
 * (SOS). A file cut short has none there, and libjpeg decodes its missing rows as
 * grey with only a warning. (In image data a 0xFF byte is always followed by 0x00 or
 * a restart marker, so 0xFF 0xD9 there is the end.)
 *
 * @example Usage
 * ```ts
 * import { jpegEnds } from "./jpeg_decode.ts";
 * const head = [0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2, 3];
 * console.log(jpegEnds(Uint8Array.from([...head, 0xff, 0xd9])), jpegEnds(Uint8Array.from(head))); // true false
 * ```
 *
 * @param bytes The JPEG file.
 * @returns `false` when there is no EOI after the first SOS.
 */
export function jpegEnds(bytes: Uint8Array): boolean {
  let sos = -1;
  for (const { marker, at } of jpegMarkers(bytes)) if (marker === 0xda) sos = at;
  if (sos < 0) return false;
  for (let i = bytes.length - 2; i > sos; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

/**
 * Width and height from a JPEG's frame header ({@linkcode jpegFrame}), or `null`.
 *
 * @example Usage
 * ```ts
 * import { jpegSize } from "./jpeg_decode.ts";
 * const bytes = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 17, 2, 128, 1, 1, 0x11, 0);
 * console.log(jpegSize(bytes)); // { width: 640, height: 17 }
 * ```
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  const frame = jpegFrame(bytes);
  return frame === null ? null : { width: frame.width, height: frame.height };
}
