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

/** Undoes one row's filter (PNG spec section 9) into `out`; `prev` is the row above (zeros
 * for the first row, which is what the spec's predictors assume there). */
function unfilterRow(
  filter: number,
  src: Uint8Array,
  prev: Uint8Array,
  out: Uint8Array,
  bpp: number,
  y: number,
): void {
  const n = out.length;
  if (filter === 0) {
    out.set(src);
  } else if (filter === 1) {
    for (let i = 0; i < n; i++) out[i] = src[i]! + (i >= bpp ? out[i - bpp]! : 0);
  } else if (filter === 2) {
    for (let i = 0; i < n; i++) out[i] = src[i]! + prev[i]!;
  } else if (filter === 3) {
    for (let i = 0; i < n; i++) {
      out[i] = src[i]! + (((i >= bpp ? out[i - bpp]! : 0) + prev[i]!) >> 1);
    }
  } else if (filter === 4) {
    for (let i = 0; i < n; i++) {
      const a = i >= bpp ? out[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      out[i] = src[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }
  } else {
    bad(`row ${y} has filter type ${filter} (0-4 exist)`);
  }
}

/**
 * Inflates the IDAT data as a stream and hands each unfiltered row to `onRow` (the same
 * buffer is reused: copy what you keep). Only two rows are held at a time, never the
 * whole inflated image.
 */
async function inflateRows(
  idat: Uint8Array[],
  height: number,
  rowBytes: number,
  bpp: number,
  onRow: (y: number, row: Uint8Array) => void,
): Promise<void> {
  const stream = new Blob(idat as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  const filtered = new Uint8Array(rowBytes + 1);
  let prev = new Uint8Array(rowBytes);
  let cur = new Uint8Array(rowBytes);
  let fill = 0;
  let y = 0;
  let total = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        bad(`the image data does not inflate (${(e as Error).message})`);
      }
      if (chunk.done) break;
      const data = chunk.value;
      total += data.length;
      let i = 0;
      while (i < data.length && y < height) {
        const take = Math.min(rowBytes + 1 - fill, data.length - i);
        filtered.set(data.subarray(i, i + take), fill);
        fill += take;
        i += take;
        if (fill === rowBytes + 1) {
          unfilterRow(filtered[0]!, filtered.subarray(1), prev, cur, bpp, y);
          onRow(y, cur);
          [prev, cur] = [cur, prev];
          fill = 0;
          y++;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (y < height) {
    bad(`the image data holds ${total} bytes, ${height * (rowBytes + 1)} expected`);
  }
}

/** The chunks of a PNG that decoding needs, its header checked. */
interface PngChunks {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  channels: number;
  interlaced: boolean;
  plte?: Uint8Array;
  trns?: Uint8Array;
  idat: Uint8Array[];
}

function readChunks(bytes: Uint8Array): PngChunks {
  if (bytes.length < 8 || !SIGNATURE.every((v, i) => bytes[i] === v)) bad("no PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let header: { width: number; height: number; depth: number; colorType: number } | undefined;
  let interlaced = false;
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
      interlaced = body[12] !== 0;
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
  return { width, height, depth, colorType, channels, interlaced, plte, trns, idat };
}

/** A PNG decoded into planes: one array per kept channel, `width x height` samples each. */
export interface PngPlanes {
  width: number;
  height: number;
  /** Bits per sample: 8 or 16. */
  depth: number;
  /** Samples per pixel in the file. */
  channels: number;
  /** The channels asked for, by 0-based index. */
  planes: Map<number, Uint8Array | Uint16Array>;
}

/**
 * Decodes an 8- or 16-bit grey, grey+alpha, RGB or RGBA PNG straight into planes of the
 * channels `keep` picks (given the file's channel count), row by row: memory is the file
 * and those planes, not the inflated image. `null` for what it leaves to
 * {@linkcode decodePngNative}: interlaced, palette and below-8-bit PNGs. Throws a
 * TypeError saying what is wrong with a broken file.
 *
 * @example Usage
 * ```ts
 * import { decodePngPlanes } from "./png_inflate.ts";
 * import { encode } from "fast-png";
 * const bytes = encode({ width: 2, height: 1, channels: 3, data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
 * const png = await decodePngPlanes(bytes, () => [2]);
 * console.log(Array.from(png?.planes.get(2) ?? [])); // [ 3, 6 ]
 * ```
 *
 * @param bytes The whole file.
 * @param keep Which channels to keep, from the file's channel count.
 * @returns The planes, or `null`.
 */
export async function decodePngPlanes(
  bytes: Uint8Array,
  keep: (channels: number) => readonly number[],
): Promise<PngPlanes | null> {
  const png = readChunks(bytes);
  const { width, height, depth, channels } = png;
  if (png.interlaced || png.colorType === 3 || depth < 8) return null;
  const wide = depth === 16;
  const n = width * height;
  const planes = new Map<number, Uint8Array | Uint16Array>();
  for (const c of keep(channels)) planes.set(c, wide ? new Uint16Array(n) : new Uint8Array(n));
  const kept = [...planes];
  const rowBytes = width * channels * (wide ? 2 : 1);
  await inflateRows(png.idat, height, rowBytes, channels * (wide ? 2 : 1), (y, row) => {
    const o = y * width;
    for (const [c, plane] of kept) {
      if (wide) {
        for (let x = 0, j = 2 * c; x < width; x++, j += 2 * channels) {
          plane[o + x] = (row[j]! << 8) | row[j + 1]!;
        }
      } else {
        for (let x = 0, j = c; x < width; x++, j += channels) plane[o + x] = row[j]!;
      }
    }
  });
  return { width, height, depth, channels, planes };
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
  const png = readChunks(bytes);
  if (png.interlaced) return null;
  const { width, height, depth, colorType, channels, plte, trns } = png;
  const bitsPerPixel = channels * depth;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  const rows = new Uint8Array(height * rowBytes);
  await inflateRows(png.idat, height, rowBytes, Math.max(1, bitsPerPixel >> 3), (y, row) => {
    rows.set(row, y * rowBytes);
  });
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
