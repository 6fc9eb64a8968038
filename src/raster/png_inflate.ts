/**
 * PNG decoding with the runtime's own zlib (`DecompressionStream`), for the
 * common case: non-interlaced images of any colour type and bit depth. fast-png
 * inflates in JavaScript: opening a 712 x 557 RGB image took 300-430 ms in a fresh
 * process with it, 35-85 ms with this (BENCHMARKS.md); interlaced (Adam7) PNGs, rare in
 * remote sensing, go to fast-png (`null` from {@linkcode decodePngNative}).
 *
 * @module
 */

/** A decoded PNG as fast-png gives it: samples, row-packed below 8 bits. */
export interface PngPixels {
  width: number;
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  depth: number;
  /** Samples per pixel (1 for a palette image: its indices). */
  channels: number;
  /** Rows of samples; 16-bit samples as numbers, below 8 bits packed per row. */
  data: Uint8Array | Uint16Array;
  /** Palette entries `[r, g, b]`, or `[r, g, b, a]` for all entries when a tRNS chunk is there. */
  palette?: number[][];
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function bad(why: string): never {
  throw new TypeError(why);
}

async function inflate(parts: Uint8Array[]): Promise<Uint8Array> {
  const stream = new Blob(parts as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Undoes the per-row filters (PNG spec section 9): the rows without their filter bytes. */
function unfilter(raw: Uint8Array, height: number, rowBytes: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * rowBytes);
  for (let y = 0; y < height; y++) {
    const src = y * (rowBytes + 1);
    const filter = raw[src]!;
    const o = y * rowBytes;
    const p = o - rowBytes; // the row above in `out`
    if (filter === 0) {
      out.set(raw.subarray(src + 1, src + 1 + rowBytes), o);
    } else if (filter === 1) {
      for (let i = 0; i < rowBytes; i++) {
        out[o + i] = raw[src + 1 + i]! + (i >= bpp ? out[o + i - bpp]! : 0);
      }
    } else if (filter === 2) {
      for (let i = 0; i < rowBytes; i++) out[o + i] = raw[src + 1 + i]! + (y > 0 ? out[p + i]! : 0);
    } else if (filter === 3) {
      for (let i = 0; i < rowBytes; i++) {
        const left = i >= bpp ? out[o + i - bpp]! : 0;
        const up = y > 0 ? out[p + i]! : 0;
        out[o + i] = raw[src + 1 + i]! + ((left + up) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? out[o + i - bpp]! : 0;
        const b = y > 0 ? out[p + i]! : 0;
        const c = i >= bpp && y > 0 ? out[p + i - bpp]! : 0;
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        out[o + i] = raw[src + 1 + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    } else {
      bad(`row ${y} has filter type ${filter} (0-4 exist)`);
    }
  }
  return out;
}

/**
 * Decodes a PNG; `null` for an interlaced one (left to fast-png). Throws a
 * TypeError saying what is wrong with a broken file.
 *
 * @example Usage
 * ```ts
 * import { decodePngNative } from "./png_inflate.ts";
 * import { encode } from "fast-png";
 * const bytes = encode({ width: 2, height: 1, channels: 3, data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
 * const png = await decodePngNative(bytes);
 * console.log(png?.width, Array.from(png?.data ?? [])); // 2 [ 1, 2, 3, 4, 5, 6 ]
 * ```
 *
 * @param bytes The whole file.
 * @returns Its pixels, or `null` when it is interlaced.
 */
export async function decodePngNative(bytes: Uint8Array): Promise<PngPixels | null> {
  if (bytes.length < 8 || !SIGNATURE.every((v, i) => bytes[i] === v)) bad("no PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let header: { width: number; height: number; depth: number; colorType: number } | undefined;
  let plte: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (pos + 8 <= bytes.length && !ended) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    if (body.length !== length) bad(`chunk ${type} at byte ${pos} is cut short`);
    if (type === "IHDR") {
      if (length < 13) bad("IHDR is too short");
      header = {
        width: view.getUint32(pos + 8),
        height: view.getUint32(pos + 12),
        depth: body[8]!,
        colorType: body[9]!,
      };
      if (body[10] !== 0 || body[11] !== 0) bad("unknown compression or filter method");
      if (body[12] !== 0) return null; // interlaced
    } else if (type === "PLTE") plte = body;
    else if (type === "tRNS") trns = body;
    else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") ended = true;
    pos += 12 + length;
  }
  if (!header) bad("no IHDR chunk");
  const { width, height, depth, colorType } = header;
  const channels = CHANNELS[colorType] ?? bad(`colour type ${colorType} does not exist`);
  if (![1, 2, 4, 8, 16].includes(depth)) bad(`bit depth ${depth} does not exist`);
  if (width === 0 || height === 0) bad(`image size ${width} x ${height}`);
  if (idat.length === 0) bad("no IDAT chunk");
  const bitsPerPixel = channels * depth;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  let raw: Uint8Array;
  try {
    raw = await inflate(idat);
  } catch (e) {
    bad(`the image data does not inflate (${(e as Error).message})`);
  }
  if (raw.length < height * (rowBytes + 1)) {
    bad(`the image data holds ${raw.length} bytes, ${height * (rowBytes + 1)} expected`);
  }
  const rows = unfilter(raw, height, rowBytes, Math.max(1, bitsPerPixel >> 3));
  let data: Uint8Array | Uint16Array = rows;
  if (depth === 16) {
    const n = width * height * channels;
    data = new Uint16Array(n);
    for (let i = 0; i < n; i++) data[i] = (rows[2 * i]! << 8) | rows[2 * i + 1]!;
  }
  const out: PngPixels = { width, height, depth, channels, data };
  if (colorType === 3) {
    if (!plte) bad("a palette image without a PLTE chunk");
    const entries = Math.floor(plte.length / 3);
    out.palette = [];
    for (let i = 0; i < entries; i++) {
      const e = [plte[3 * i]!, plte[3 * i + 1]!, plte[3 * i + 2]!];
      if (trns) e.push(trns[i] ?? 255);
      out.palette.push(e);
    }
  }
  return out;
}
