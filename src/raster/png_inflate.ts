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
  stream: ReadableStream<Uint8Array>,
  height: number,
  rowBytes: number,
  bpp: number,
  onRow: (y: number, row: Uint8Array) => void,
): Promise<void> {
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
  await stream.cancel().catch(() => {}); // what follows the last row is not read
  if (y < height) {
    bad(`the image data holds ${total} bytes, ${height * (rowBytes + 1)} expected`);
  }
}

/** The IHDR chunk's fields, and the channel count its colour type means. */
interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  channels: number;
  interlaced: boolean;
}

/** The IHDR chunk's fields, checked. */
function readHeader(body: Uint8Array): PngHeader {
  if (body.length < 13) bad("IHDR is too short");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const width = view.getUint32(0), height = view.getUint32(4);
  const depth = body[8]!, colorType = body[9]!;
  if (body[10] !== 0 || body[11] !== 0) bad("unknown compression or filter method");
  const channels = CHANNELS[colorType] ?? bad(`colour type ${colorType} does not exist`);
  if (![1, 2, 4, 8, 16].includes(depth)) bad(`bit depth ${depth} does not exist`);
  if (width === 0 || height === 0) bad(`image size ${width} x ${height}`);
  return { width, height, depth, colorType, channels, interlaced: body[12] !== 0 };
}

/** Reads a byte stream in pieces of a given length, across the stream's own chunks. */
class StreamBytes {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #more(): Promise<boolean> {
    while (this.#pos >= this.#buf.length) {
      const r = await this.#reader.read();
      if (r.done) return false;
      this.#buf = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /** The next `n` bytes, copied; fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let o = 0;
    await this.pass(n, (piece) => {
      out.set(piece, o);
      o += piece.length;
    });
    return out.subarray(0, o);
  }

  /** Hands the next `n` bytes on in pieces (views: copy what you keep); how many there were. */
  async pass(n: number, onPiece: (piece: Uint8Array) => void | Promise<void>): Promise<number> {
    let done = 0;
    while (done < n && await this.#more()) {
      const k = Math.min(n - done, this.#buf.length - this.#pos);
      await onPiece(this.#buf.subarray(this.#pos, this.#pos + k));
      this.#pos += k;
      done += k;
    }
    this.offset += done;
    return done;
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
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
  source: Uint8Array | ReadableStream<Uint8Array>,
  keep: (channels: number) => readonly number[],
): Promise<PngPlanes | null> {
  let png: PngPlanes | undefined;
  const read = await decodeRows(source, (header) => {
    const { width, height, depth, channels } = header;
    if (header.interlaced || header.colorType === 3 || depth < 8) return null;
    const wide = depth === 16;
    const n = width * height;
    const planes = new Map<number, Uint8Array | Uint16Array>();
    for (const c of keep(channels)) planes.set(c, wide ? new Uint16Array(n) : new Uint8Array(n));
    png = { width, height, depth, channels, planes };
    const kept = [...planes];
    return (y, row) => {
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
    };
  });
  return read && png ? png : null;
}

/** Where one decode sends its unfiltered rows (the buffer is reused: copy what you keep). */
type RowSink = (y: number, row: Uint8Array) => void;

/**
 * Walks a PNG's chunks as they arrive and inflates its image data as it arrives, handing
 * each unfiltered row to the sink `start` returns for the header (`null`: this decode does
 * not take such an image, and the walk stops). Returns the palette chunks with the header,
 * or `null` when `start` declined.
 */
async function decodeRows(
  source: Uint8Array | ReadableStream<Uint8Array>,
  start: (header: PngHeader) => RowSink | null,
): Promise<{ header: PngHeader; plte?: Uint8Array; trns?: Uint8Array } | null> {
  const input = new StreamBytes(
    source instanceof Uint8Array ? new Blob([source as BlobPart]).stream() : source,
  );
  try {
    const signature = await input.read(8);
    if (signature.length < 8 || !SIGNATURE.every((v, i) => signature[i] === v)) {
      bad("no PNG signature");
    }
    let header: PngHeader | undefined;
    let sink: RowSink | undefined;
    let plte: Uint8Array | undefined;
    let trns: Uint8Array | undefined;
    let inflate: { writer: WritableStreamDefaultWriter<BufferSource>; rows: Promise<void> } | null =
      null;
    while (true) {
      const pos = input.offset;
      const head = await input.read(8);
      if (head.length < 8) break;
      const length = new DataView(head.buffer).getUint32(0);
      const type = String.fromCharCode(...head.subarray(4, 8));
      const cutShort = () => bad(`chunk ${type} at byte ${pos} is cut short`);
      if (type === "IDAT") {
        if (!header || !sink) bad("no IHDR chunk");
        inflate ??= startInflate(header, sink);
        const { writer } = inflate;
        let failed = false;
        const got = await input.pass(length, async (piece) => {
          if (failed) return;
          // a write fails when the rows did (filter, inflate): their error is the one to say
          await writer.write(piece.slice()).catch(() => (failed = true));
        });
        if (failed) break;
        if (got < length) cutShort();
      } else if (type === "IHDR" || type === "PLTE" || type === "tRNS") {
        const body = await input.read(length);
        if (body.length < length) cutShort();
        if (type === "IHDR") {
          header = readHeader(body);
          sink = start(header) ?? undefined;
          if (!sink) return null;
        } else if (type === "PLTE") plte = body;
        else trns = body;
      } else {
        if (await input.pass(length, () => {}) < length) cutShort();
        if (type === "IEND") break;
      }
      if (await input.pass(4, () => {}) < 4) cutShort(); // the CRC
    }
    if (!header) bad("no IHDR chunk");
    if (!inflate) bad("no IDAT chunk");
    await inflate.writer.close().catch(() => {});
    await inflate.rows;
    return { header, plte, trns };
  } finally {
    await input.close();
  }
}

/** Starts inflating `header`'s image data into `sink`: a writer for the zlib data, the rows. */
function startInflate(
  header: PngHeader,
  sink: RowSink,
): { writer: WritableStreamDefaultWriter<BufferSource>; rows: Promise<void> } {
  const zlib = new DecompressionStream("deflate");
  const writer = zlib.writable.getWriter();
  const bitsPerPixel = header.channels * header.depth;
  const rowBytes = Math.ceil((header.width * bitsPerPixel) / 8);
  const rows = inflateRows(
    zlib.readable,
    header.height,
    rowBytes,
    Math.max(1, bitsPerPixel >> 3),
    sink,
  );
  // the rows may fail before all is written (a bad filter): stop the writer then
  rows.catch((e) => writer.abort(e).catch(() => {}));
  return { writer, rows };
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
  let rows = new Uint8Array(0);
  const read = await decodeRows(bytes, (header) => {
    if (header.interlaced) return null;
    const rowBytes = Math.ceil((header.width * header.channels * header.depth) / 8);
    rows = new Uint8Array(header.height * rowBytes);
    return (y, row) => rows.set(row, y * rowBytes);
  });
  if (!read) return null;
  const { plte, trns } = read;
  const { width, height, depth, colorType, channels } = read.header;
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
