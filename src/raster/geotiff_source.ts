/**
 * GeoTIFF windows through geotiff.js (the only file that imports it).
 *
 * The file is opened once: geotiff.js parses the header and the IFD, and
 * reads through a {@linkcode ByteSource} that fetches exactly the byte ranges
 * asked for (IFD entries, the tile/strip offsets it needs, the tiles or
 * strips of a window). Decoded blocks (tiles, or groups of strips) of the
 * selected bands sit in a byte-bounded LRU so that overlapping crops do not
 * decode the same tile twice.
 *
 * @module
 */

import type { GeoTIFF, GeoTIFFImage } from "geotiff";
import { BlockCache } from "./block_cache.ts";
import { type ByteSource, openFileByteSource } from "./byte_source.ts";
import { checkWindow } from "./check_window.ts";
import { findWorldFile, maskFileNames, readPrjCrs, sidecarCrs } from "./world_file.ts";
import { parseGdalNodata, readPamDataset, selectedBandsNodata } from "./pam_dataset.ts";
import { geoTransformFromTags } from "./geotiff_georef.ts";
import { type GeoKeysCrs, geoKeysCrs } from "./geokeys_crs.ts";
import { PercentileSampler, type PixelArray } from "./percentile_sampler.ts";
import { type BandMapping, RgbConverter } from "./rgb_converter.ts";
import { selectBands } from "./select_bands.ts";
import type { Georef, OpenRasterOptions, RasterSource, RgbWindow, Window } from "./source.ts";

// geotiff.js is loaded on the first TIFF: a PNG or JPEG run does not pay for it at start-up.
const geotiffJs = () => import("geotiff");

/** Options of {@linkcode openGeoTiff}. */
export interface OpenGeoTiffOptions extends OpenRasterOptions {
  /** Budget of the decoded-block cache in bytes. @default {67108864} (64 MiB) */
  cacheBytes?: number;
  /** Most pixels read to compute the stretch percentiles. @default {4000000} */
  sampleMaxPixels?: number;
  /** Where the bytes come from. @default {the file at `path`} */
  byteSource?: ByteSource;
}

/** Percentile range of one band used by the stretch. */
export interface StretchRange {
  /** 1-based band number. */
  band: number;
  /** Value mapped to 0. */
  low: number;
  /** Value mapped to 255. */
  high: number;
}

/** Minimal shape of geotiff.js's source interface (`BaseSource`). */
interface GeoTiffJsSource {
  fetch(slices: { offset: number; length: number }[], signal?: AbortSignal): Promise<ArrayBuffer[]>;
  readonly fileSize: number | null;
  close(): Promise<void>;
}

type Block = { width: number; arrays: Map<number, PixelArray> };

const STRIP_GROUP_BYTES = 4 << 20;
/** Compressions whose decoders need only the default parameters (none, LZW, deflate, packbits, zstd). */
/**
 * TIFF compressions geotiff.js cannot decode here, by tag value: WEBP needs a browser
 * canvas; the others have no decoder in it.
 */
const UNSUPPORTED_COMPRESSIONS: Record<number, string> = {
  2: "CCITT",
  34925: "LZMA",
  3: "CCITT fax 3",
  4: "CCITT fax 4",
  34712: "JPEG 2000",
  50001: "WEBP",
  50002: "JPEG XL",
};

const PLAIN_DECODERS = new Set([1, 5, 8, 32946, 32773, 50000]);

type Decoder = Parameters<GeoTIFFImage["getTileOrStrip"]>[3];
type PixelArrayConstructor = new (buffer: ArrayBufferLike | number) => PixelArray;

function arrayType(format: number, bits: number): PixelArrayConstructor | null {
  const table: Record<string, PixelArrayConstructor> = {
    "1/8": Uint8Array,
    "1/16": Uint16Array,
    "1/32": Uint32Array,
    "2/8": Int8Array,
    "2/16": Int16Array,
    "2/32": Int32Array,
    "3/32": Float32Array,
    "3/64": Float64Array,
  };
  return table[`${format}/${bits}`] ?? null;
}
const MAX_IFDS = 64;

function toGeoTiffJsSource(bytes: ByteSource): GeoTiffJsSource {
  return {
    fetch: (slices) =>
      Promise.all(
        slices.map(async ({ offset, length }) =>
          (await bytes.read(offset, length)).buffer as ArrayBuffer
        ),
      ),
    get fileSize() {
      return bytes.size;
    },
    close: () => bytes.close(),
  };
}

/** geotiff.js's reader of the TIFF in `bytes` (its header and first IFD parsed). */
async function openGeoTiffJs(bytes: ByteSource): Promise<GeoTIFF> {
  // deno-lint-ignore no-explicit-any
  return await (await geotiffJs()).GeoTIFF.fromSource(toGeoTiffJsSource(bytes) as any);
}

function numbers(value: unknown): number[] | undefined {
  if (typeof value === "number") return [value];
  if (ArrayBuffer.isView(value) || Array.isArray(value)) {
    return Array.from(value as ArrayLike<number | bigint>, Number);
  }
  return undefined;
}

/**
 * geotiff.js 3.0.5 reads lazily loaded tag arrays (TileOffsets,
 * StripByteCounts, ...) as little-endian whatever the file's byte order, so
 * big-endian files fail. Load those arrays ourselves with the right byte
 * order and hand them to the IFD as loaded values.
 */
async function loadBigEndianArrays(image: GeoTIFFImage, bytes: ByteSource): Promise<void> {
  if (image.littleEndian) return;
  // deno-lint-ignore no-explicit-any
  const ifd = image.fileDirectory as any;
  const deferred = ifd.deferredArrays as Map<
    number,
    { arrayOffset: number; fieldType: number; length: number; itemSize: number }
  >;
  for (const [tag, arr] of [...deferred]) {
    const raw = await bytes.read(arr.arrayOffset, arr.itemSize * arr.length);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = new Array<number>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      switch (arr.fieldType) {
        case 3: // SHORT
          values[i] = view.getUint16(i * 2, false);
          break;
        case 4: // LONG
        case 13: // IFD
          values[i] = view.getUint32(i * 4, false);
          break;
        case 16: // LONG8
        case 18: // IFD8
          values[i] = Number(view.getBigUint64(i * 8, false));
          break;
        default:
          continue; // not an offset/count array: leave it to geotiff.js
      }
    }
    if (![3, 4, 13, 16, 18].includes(arr.fieldType)) continue;
    ifd.actualizedFields.set(tag, values);
    deferred.delete(tag);
  }
}

/** Loads the tags geotiff.js's reader needs of an image other than the first. */
async function loadReadTags(image: GeoTIFFImage): Promise<void> {
  for (const tag of ["BitsPerSample", "SampleFormat", "PlanarConfiguration", "Predictor"]) {
    await loadTag(image, tag);
  }
}

async function loadTag(image: GeoTIFFImage, name: string): Promise<unknown> {
  // deno-lint-ignore no-explicit-any
  return await (image.fileDirectory as any).loadValue(name);
}

/**
 * Opens a GeoTIFF (or plain TIFF) for windowed reads as 8-bit RGB.
 *
 * Supports striped and tiled layouts, pixel- and band-interleaved, every
 * compression geotiff.js decodes (none, deflate, LZW, packbits, JPEG, ...),
 * unsigned/signed 8/16/32-bit integers and 32/64-bit floats, 8-bit palette
 * images. Data other than unsigned 8-bit is stretched per band between the
 * `stretch` percentiles of a bounded sample (an internal overview when there
 * is one, else evenly spread blocks, at most `sampleMaxPixels` pixels),
 * nodata excluded.
 *
 * @example Usage
 * ```ts
 * import { openGeoTiff } from "./geotiff_source.ts";
 * import { writeArrayBuffer } from "geotiff";
 * const tif = writeArrayBuffer(new Uint8Array([10, 20, 30, 40]), { width: 2, height: 2 });
 * const path = await Deno.makeTempFile({ suffix: ".tif" });
 * await Deno.writeFile(path, new Uint8Array(tif));
 * const src = await openGeoTiff(path);
 * const win = await src.readWindow([1, 0, 2, 2]);
 * console.log(src.width, src.bandCount, Array.from(win.data)); // 2 1 [ 20, 20, 20, 40, 40, 40 ]
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path Path of the file (named in errors; read unless `byteSource` is given).
 * @param options Band selection, stretch, nodata, cache budget.
 * @returns The opened source; close it when done.
 */
export async function openGeoTiff(
  path: string,
  options: OpenGeoTiffOptions = {},
): Promise<GeoTiffRasterSource> {
  const bytes = options.byteSource ?? await openFileByteSource(path);
  try {
    let tiff: GeoTIFF;
    let image: GeoTIFFImage;
    try {
      tiff = await openGeoTiffJs(bytes);
      image = await tiff.getImage(0);
    } catch (error) {
      throw new TypeError(
        `Cannot open ${path}: not a readable TIFF, or a damaged or truncated one (${
          describe(error)
        })`,
        { cause: error },
      );
    }
    await loadBigEndianArrays(image, bytes);
    const source = new GeoTiffRasterSource(path, bytes, tiff, image, options);
    try {
      await source.init(options);
    } catch (error) {
      await source.close(); // and its .msk, when opened
      throw error;
    }
    return source;
  } catch (error) {
    await bytes.close();
    throw error;
  }
}

/**
 * A GeoTIFF opened by {@linkcode openGeoTiff}.
 *
 * @example Usage
 * ```ts
 * import { GeoTiffRasterSource, openGeoTiff } from "./geotiff_source.ts";
 * import { writeArrayBuffer } from "geotiff";
 * const tif = writeArrayBuffer(new Uint16Array([0, 100, 200, 300]), { width: 2, height: 2 });
 * const path = await Deno.makeTempFile({ suffix: ".tif" });
 * await Deno.writeFile(path, new Uint8Array(tif));
 * const src: GeoTiffRasterSource = await openGeoTiff(path, { stretch: { low: 0, high: 100 } });
 * console.log(src.stretchRanges); // [ { band: 1, low: 0, high: 300 } ]
 * await src.close();
 * await Deno.remove(path);
 * ```
 */
export class GeoTiffRasterSource implements RasterSource {
  /** The path the raster was opened from. */
  readonly path: string;
  /** Image width in pixels. */
  readonly width: number;
  /** Image height in pixels. */
  readonly height: number;
  /** Number of bands (samples per pixel). */
  readonly bandCount: number;
  /** Georeferencing, or `null`. */
  georef: Georef | null = null;
  georefNote?: string;
  pixelsNote?: string;
  /** The stretch of each selected band (empty for unsigned 8-bit data). */
  stretchRanges: StretchRange[] = [];
  /** The nodata value in use, or `null`. */
  nodata: number | null = null;

  #bytes: ByteSource;
  #tiff: GeoTIFF;
  #image: GeoTIFFImage;
  #bands: [number, number, number] = [0, 0, 0];
  #alphaBand: number | null = null;
  /**
   * GDAL's mask when there is no alpha: internal (a full-resolution IFD, NewSubfileType 4) or
   * external (`<image>.msk`, its own file); `sample` is the mask band read.
   */
  #mask: Mask | null = null;
  #subImageList: Promise<{ img: GeoTIFFImage; type: number }[]> | null = null;
  #readSamples: number[] = [];
  #palette: Uint8Array | null = null;
  /** 8-bit JPEG-compressed YCbCr: blocks are converted to RGB once decoded. */
  #ycbcr = false;
  #converter: RgbConverter | null = null;
  #blockWidth: number;
  #blockHeight = 1;
  #blocksAcross: number;
  #blockBytesPerPixel = 1;
  #cache: BlockCache<Block>;
  #closed = false;
  /** Fast path: decode tiles/strips ourselves and copy with typed arrays. */
  #fast: { decoder: Decoder; ctor: PixelArrayConstructor } | null = null;

  /** Use {@linkcode openGeoTiff}. */
  constructor(
    path: string,
    bytes: ByteSource,
    tiff: GeoTIFF,
    image: GeoTIFFImage,
    options: OpenGeoTiffOptions,
  ) {
    this.path = path;
    this.#bytes = bytes;
    this.#tiff = tiff;
    this.#image = image;
    this.width = image.getWidth();
    this.height = image.getHeight();
    this.bandCount = image.getSamplesPerPixel();
    this.#blockWidth = image.isTiled ? image.getTileWidth() : this.width;
    this.#blocksAcross = Math.ceil(this.width / this.#blockWidth);
    this.#cache = new BlockCache(options.cacheBytes ?? 64 << 20);
  }

  /** Loads tags, picks bands, computes the stretch. Called by {@linkcode openGeoTiff}. */
  async init(options: OpenGeoTiffOptions): Promise<void> {
    const image = this.#image;
    const path = this.path;
    const bits = numbers(await loadTag(image, "BitsPerSample")) ?? [1];
    const formats = numbers(await loadTag(image, "SampleFormat")) ?? [1];
    const photometric = numbers(await loadTag(image, "PhotometricInterpretation"))?.[0];
    const extra = numbers(await loadTag(image, "ExtraSamples")) ?? [];
    await loadTag(image, "Predictor");
    await loadTag(image, "PlanarConfiguration");
    await loadTag(image, "RowsPerStrip");
    if (this.width <= 0 || this.height <= 0) {
      throw new TypeError(
        `Cannot open ${path}: not a readable TIFF (image size ${this.width}x${this.height})`,
      );
    }
    await checkComplete(image, this.#bytes.size, path);
    const format = (s: number) => formats[s] ?? formats[0] ?? 1;
    const bitDepth = (s: number) => bits[s] ?? bits[0] ?? 1;
    for (let s = 0; s < this.bandCount; s++) {
      const b = bitDepth(s), f = format(s);
      if (b === 0 || f === 0) {
        throw new TypeError(
          `Cannot open ${path}: a damaged or truncated TIFF (band ${s + 1} reads as ${b}-bit ` +
            `samples of format ${f}); copy or download it again`,
        );
      }
      if (![8, 16, 32, 64].includes(b) || f < 1 || f > 3 || (f === 3 && b < 32)) {
        const fix = f === 1 || f === 2
          ? `; rewrite it, e.g. gdal_translate -ot ${b < 8 ? "Byte" : f === 1 ? "UInt16" : "Int16"}`
          : "";
        throw new TypeError(
          `Cannot open ${path}: band ${s + 1} has ${b}-bit samples of format ${f}; ` +
            `supported are 8/16/32-bit integers and 32/64-bit floats${fix}`,
        );
      }
    }
    const compression = numbers(await loadTag(image, "Compression"))?.[0] ?? 1;
    const unsupported = UNSUPPORTED_COMPRESSIONS[compression];
    if (unsupported !== undefined) {
      throw new TypeError(
        `Cannot open ${path}: ${unsupported} compression is not supported; ` +
          "rewrite it with another, e.g. gdal_translate -co COMPRESS=DEFLATE (or JPEG)",
      );
    }
    // JPEG-compressed YCbCr (GDAL's COMPRESS=JPEG PHOTOMETRIC=YCBCR, the usual orthophoto
    // GeoTIFF): geotiff.js decodes the JPEG to full-resolution Y, Cb, Cr, converted here
    this.#ycbcr = photometric === 6 && compression === 7 && this.bandCount === 3 &&
      [0, 1, 2].every((s) => bitDepth(s) === 8 && format(s) === 1);
    if (photometric === 5 || photometric === 8 || (photometric === 6 && !this.#ycbcr)) {
      // geotiff.js returns the stored YCbCr/CMYK/Lab values; only its readRGB converts them
      const names: Record<number, string> = { 5: "CMYK", 6: "YCbCr", 8: "CIELab" };
      throw new TypeError(
        `Cannot open ${path}: ${names[photometric]} photometric interpretation is not supported` +
          (photometric === 6 ? " other than 8-bit JPEG-compressed YCbCr" : "") +
          "; convert it to RGB, e.g. gdal_translate -co PHOTOMETRIC=RGB",
      );
    }

    const interp = gdalColourInterp(await loadTag(image, "GDAL_METADATA"));
    const tagged = options.bands === undefined && photometric !== 3 && !this.#ycbcr
      ? taggedRgb(interp, this.bandCount)
      : null;
    this.#bands = selectBands(options.bands ?? tagged ?? undefined, {
      bandCount: this.bandCount,
      path,
    });
    if (photometric === 3) {
      const map = numbers(await loadTag(image, "ColorMap"));
      if (map === undefined || bitDepth(0) !== 8 || this.bandCount !== 1) {
        throw new TypeError(
          `Cannot open ${path}: only 8-bit single-band palette images are supported`,
        );
      }
      const n = map.length / 3;
      this.#palette = new Uint8Array(256 * 3);
      for (let i = 0; i < Math.min(256, n); i++) {
        for (let c = 0; c < 3; c++) this.#palette[i * 3 + c] = map[c * n + i]! >> 8;
      }
    }
    // first extra sample an alpha channel (1 associated, 2 unassociated) that is not selected
    const alpha = this.bandCount - extra.length;
    // (GDAL's colour interpretation of that band, when it gives one, overrides the TIFF's)
    const gdalSaysAlpha = (interp.get(alpha) ?? "alpha") === "alpha";
    if (
      extra.length > 0 && (extra[0] === 1 || extra[0] === 2) && alpha >= 0 &&
      !this.#bands.includes(alpha) && gdalSaysAlpha
    ) {
      this.#alphaBand = alpha;
    }
    if (this.#alphaBand === null) this.#mask = await this.#findMask() ?? await this.#externalMask();
    this.#readSamples = this.#ycbcr ? [0, 1, 2] : [
      ...new Set([...this.#bands, ...(this.#alphaBand === null ? [] : [this.#alphaBand])]),
    ];

    let nodata = options.nodata ?? await this.#fileNodata();
    if (nodata !== null && this.#bands.every((s) => format(s) === 3 && bitDepth(s) === 32)) {
      nodata = Math.fround(nodata);
    }
    this.nodata = nodata;
    await this.#readGeoref();

    // fast path when every sample has one type in host (little-endian) byte order
    const ctor = arrayType(format(0), bitDepth(0));
    const uniform = Array.from({ length: this.bandCount }, (_, s) => s)
      .every((s) => format(s) === format(0) && bitDepth(s) === bitDepth(0));
    if (
      PLAIN_DECODERS.has(compression) && ctor !== null && uniform &&
      (bitDepth(0) === 8 || image.littleEndian)
    ) {
      const decoder = await (await geotiffJs()).getDecoder(compression, {
        tileWidth: image.getTileWidth(),
        tileHeight: image.getTileHeight(),
        planarConfiguration: image.planarConfiguration,
        bitsPerSample: bits,
        predictor: numbers(await loadTag(image, "Predictor"))?.[0] ?? 1,
      });
      this.#fast = { decoder, ctor };
    }

    // block grid: tiles, or groups of strips of at most ~4 MiB decoded
    this.#blockBytesPerPixel = this.#readSamples.reduce((a, s) => a + bitDepth(s) / 8, 0) +
      (this.#mask === null ? 0 : 1);
    if (image.isTiled) {
      this.#blockHeight = image.getTileHeight();
    } else {
      const rowsPerStrip = Math.min(image.getTileHeight(), this.height);
      const rowBytes = this.width * this.#blockBytesPerPixel;
      const target = Math.max(
        rowsPerStrip,
        Math.min(256, Math.floor(STRIP_GROUP_BYTES / rowBytes)),
      );
      this.#blockHeight = Math.max(1, Math.floor(target / rowsPerStrip)) * rowsPerStrip;
    }

    // stretch
    const mappings: BandMapping[] = [];
    const isByte = (s: number) => format(s) === 1 && bitDepth(s) === 8;
    const toStretch = [...new Set(this.#bands.filter((s) => !isByte(s)))];
    let ranges = new Map<number, [number, number]>();
    if (toStretch.length > 0) {
      const low = options.stretch?.low ?? 2, high = options.stretch?.high ?? 98;
      if (!(low >= 0 && high <= 100 && low < high)) {
        throw new RangeError(
          `Cannot stretch ${path}: percentiles must satisfy 0 <= low < high <= 100, got ${low} and ${high}`,
        );
      }
      ranges = await this.#sampleRanges(toStretch, low, high, options.sampleMaxPixels ?? 4_000_000);
    }
    for (const s of this.#bands) {
      const r = ranges.get(s);
      mappings.push(
        r === undefined ? { kind: "identity" } : { kind: "linear", low: r[0], high: r[1] },
      );
    }
    this.stretchRanges = toStretch.map((s) => {
      const r = ranges.get(s) ?? [0, 0];
      return { band: s + 1, low: r[0], high: r[1] };
    });
    this.#converter = new RgbConverter(mappings as [BandMapping, BandMapping, BandMapping], {
      nodata,
    });
  }

  /**
   * Reads `window` as 8-bit RGB, decoding only the tiles/strips it covers
   * (or taking them from the block cache).
   *
   * @example Usage
   * ```ts
   * import { openGeoTiff } from "./geotiff_source.ts";
   * import { writeArrayBuffer } from "geotiff";
   * const tif = writeArrayBuffer(new Uint8Array([1, 2, 3, 4, 5, 6]), { width: 3, height: 2 });
   * const path = await Deno.makeTempFile({ suffix: ".tif" });
   * await Deno.writeFile(path, new Uint8Array(tif));
   * const src = await openGeoTiff(path);
   * const w = await src.readWindow([1, 1, 3, 2]);
   * console.log(w.width, w.height, Array.from(w.data)); // 2 1 [ 5, 5, 5, 6, 6, 6 ]
   * await src.close();
   * await Deno.remove(path);
   * ```
   *
   * @param window `[x0, y0, x1, y1]` inside the image.
   * @returns The RGB window.
   */
  async readWindow(window: Window): Promise<RgbWindow> {
    if (this.#closed) throw new TypeError(`Cannot read ${this.path}: the source is closed`);
    checkWindow(window, this);
    const [x0, y0, x1, y1] = window;
    const w = x1 - x0, h = y1 - y0;
    const data = new Uint8Array(w * h * 3);
    const valid = new Uint8Array(w * h);
    if (w === 0 || h === 0) return { width: w, height: h, data, valid: null };
    const bw = this.#blockWidth, bh = this.#blockHeight;
    const bx0 = Math.floor(x0 / bw), bx1 = Math.floor((x1 - 1) / bw);
    const by0 = Math.floor(y0 / bh), by1 = Math.floor((y1 - 1) / bh);
    const jobs: Promise<[number, number, Block]>[] = [];
    for (let by = by0; by <= by1; by++) {
      for (let bx = bx0; bx <= bx1; bx++) {
        jobs.push(this.#block(bx, by).then((b) => [bx, by, b]));
      }
    }
    const converter = this.#converter!;
    const alphaBand = this.#alphaBand;
    const palette = this.#palette;
    let invalid = 0;
    for (const [bx, by, block] of await Promise.all(jobs)) {
      const bands = this.#bands.map((s) => block.arrays.get(s)!) as [
        PixelArray,
        PixelArray,
        PixelArray,
      ];
      const alpha = block.arrays.get(alphaBand ?? MASK_SAMPLE) ?? null;
      const cx0 = Math.max(x0, bx * bw), cx1 = Math.min(x1, (bx + 1) * bw);
      const cy0 = Math.max(y0, by * bh), cy1 = Math.min(y1, (by + 1) * bh);
      const count = cx1 - cx0;
      for (let y = cy0; y < cy1; y++) {
        const src = (y - by * bh) * block.width + (cx0 - bx * bw);
        const dst = (y - y0) * w + (cx0 - x0);
        invalid += converter.convertRun(bands, src, alpha, data, valid, dst, count);
        if (palette !== null) {
          for (let i = dst * 3, end = (dst + count) * 3; i < end; i += 3) {
            const p = data[i]! * 3;
            data[i] = palette[p]!;
            data[i + 1] = palette[p + 1]!;
            data[i + 2] = palette[p + 2]!;
          }
        }
      }
    }
    return { width: w, height: h, data, valid: invalid > 0 ? valid : null };
  }

  /**
   * Closes the file.
   *
   * @example Usage
   * ```ts
   * import { openGeoTiff } from "./geotiff_source.ts";
   * import { writeArrayBuffer } from "geotiff";
   * const tif = writeArrayBuffer(new Uint8Array([1]), { width: 1, height: 1 });
   * const path = await Deno.makeTempFile({ suffix: ".tif" });
   * await Deno.writeFile(path, new Uint8Array(tif));
   * const src = await openGeoTiff(path);
   * await src.close();
   * await Deno.remove(path);
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    await this.#bytes.close();
    await this.#mask?.bytes?.close();
  }

  #block(bx: number, by: number): Promise<Block> {
    const bw = this.#blockWidth, bh = this.#blockHeight;
    const x0 = bx * bw, y0 = by * bh;
    const x1 = Math.min(this.width, x0 + bw), y1 = Math.min(this.height, y0 + bh);
    const bytes = (x1 - x0) * (y1 - y0) * this.#blockBytesPerPixel;
    return this.#cache.get(by * this.#blocksAcross + bx, bytes, async () => {
      const win: Window = [x0, y0, x1, y1];
      const arrays = this.#fast === null
        ? await readBlock(this.#image, win, this.#readSamples, this.path)
        : await this.#decodeBlock(win, this.#fast.decoder, this.#fast.ctor);
      if (this.#ycbcr) ycbcrToRgb(arrays);
      const m = this.#mask;
      if (m !== null) {
        const mask = await readBlock(m.image, win, [m.sample], m.path);
        arrays.set(MASK_SAMPLE, mask.get(m.sample)!);
      }
      return { width: x1 - x0, arrays };
    });
  }

  /**
   * Decodes the tiles/strips covering `window` with geotiff.js's decoder and
   * copies the selected samples out with typed arrays (geotiff.js's own
   * `readRasters` reads every value through a DataView call: ~6x slower).
   */
  async #decodeBlock(
    window: Window,
    decoder: Decoder,
    ctor: PixelArrayConstructor,
  ): Promise<Map<number, PixelArray>> {
    const image = this.#image;
    const [x0, y0, x1, y1] = window;
    const w = x1 - x0;
    const tw = image.getTileWidth(), th = image.getTileHeight();
    const spp = this.bandCount;
    const planar = image.planarConfiguration === 2;
    const arrays = new Map<number, PixelArray>();
    for (const s of this.#readSamples) arrays.set(s, new ctor(w * (y1 - y0)));
    const jobs: Promise<void>[] = [];
    for (let ty = Math.floor(y0 / th); ty * th < y1; ty++) {
      for (let tx = Math.floor(x0 / tw); tx * tw < x1; tx++) {
        const cx0 = Math.max(x0, tx * tw), cx1 = Math.min(x1, (tx + 1) * tw);
        const cy0 = Math.max(y0, ty * th), cy1 = Math.min(y1, (ty + 1) * th);
        const planes = planar ? this.#readSamples : [0];
        for (const plane of planes) {
          jobs.push((async () => {
            let tile;
            try {
              tile = await image.getTileOrStrip(tx, ty, plane, decoder);
            } catch (error) {
              throw new TypeError(
                `Cannot read window [${window.join(", ")}] of ${this.path}: ${describe(error)}`,
                { cause: error },
              );
            }
            const src = new ctor(tile.data);
            for (const s of planar ? [plane] : this.#readSamples) {
              const dst = arrays.get(s)!;
              for (let y = cy0; y < cy1; y++) {
                const rowIn = (y - ty * th) * tw - tx * tw;
                const rowOut = (y - y0) * w - x0;
                if (planar || spp === 1) {
                  dst.set(src.subarray(rowIn + cx0, rowIn + cx1), rowOut + cx0);
                } else {
                  for (let x = cx0, i = (rowIn + cx0) * spp + s; x < cx1; x++, i += spp) {
                    dst[rowOut + x] = src[i]!;
                  }
                }
              }
            }
          })());
        }
      }
    }
    await Promise.all(jobs);
    return arrays;
  }

  /**
   * The file's other images (IFDs after the first, at most {@linkcode MAX_IFDS}) with their
   * NewSubfileType (1: reduced resolution, 4: a transparency mask); as many as can be read when
   * the chain is damaged after the image, which is then read without them.
   */
  #subImages(): Promise<{ img: GeoTIFFImage; type: number }[]> {
    // read once: the internal mask and the stretch's overview both look
    this.#subImageList ??= this.#readSubImages();
    return this.#subImageList;
  }

  async #readSubImages(): Promise<{ img: GeoTIFFImage; type: number }[]> {
    const out: { img: GeoTIFFImage; type: number }[] = [];
    try {
      const count = Math.min(MAX_IFDS, await this.#tiff.getImageCount());
      for (let i = 1; i < count; i++) {
        const img = await this.#tiff.getImage(i);
        await loadBigEndianArrays(img, this.#bytes);
        out.push({ img, type: numbers(await loadTag(img, "NewSubfileType"))?.[0] ?? 0 });
      }
    } catch {
      // a damaged IFD chain after the image
    }
    return out;
  }

  /**
   * GDAL's internal mask of the full-resolution image (`GDAL_TIFF_INTERNAL_MASK`, COGs made from
   * RGBA or with a mask: the nodata of JPEG-compressed orthophotos), or `null`: the first IFD
   * with NewSubfileType 4 (a transparency mask, not an overview) of the image's size.
   */
  async #findMask(): Promise<Mask | null> {
    const mask = (await this.#subImages()).find(({ img, type }) =>
      (type & 4) === 4 && (type & 1) === 0 && img.getWidth() === this.width &&
      img.getHeight() === this.height && img.getSamplesPerPixel() === 1
    )?.img;
    if (mask === undefined) return null;
    await loadReadTags(mask);
    await checkComplete(mask, this.#bytes.size, this.path);
    return { image: mask, sample: 0, path: this.path, bytes: null };
  }

  /**
   * GDAL's external mask (`<image>.msk`: `GDAL_TIFF_INTERNAL_MASK=NO`), read like the internal
   * one: the first image of that TIFF, 0 where the image is nodata; one band for the whole
   * dataset, or one per band (then the first selected band's). `null` when there is none.
   */
  async #externalMask(): Promise<Mask | null> {
    for (const path of maskFileNames(this.path)) {
      let bytes: ByteSource;
      try {
        bytes = await openFileByteSource(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
          continue;
        }
        throw error;
      }
      try {
        let image: GeoTIFFImage;
        try {
          image = await (await openGeoTiffJs(bytes)).getImage(0);
        } catch (error) {
          throw new TypeError(
            `Cannot open ${this.path}: its mask ${path} is not a readable TIFF (${
              describe(error)
            })`,
            { cause: error },
          );
        }
        await loadBigEndianArrays(image, bytes);
        await loadReadTags(image);
        const bands = image.getSamplesPerPixel();
        if (
          image.getWidth() !== this.width || image.getHeight() !== this.height ||
          (bands !== 1 && bands !== this.bandCount)
        ) {
          throw new TypeError(
            `Cannot open ${this.path}: its mask ${path} is ${image.getWidth()}x` +
              `${image.getHeight()} with ${bands} band(s), the image ${this.width}x${this.height} ` +
              `with ${this.bandCount}; remove or remake the .msk`,
          );
        }
        await checkComplete(image, bytes.size, path);
        return { image, sample: bands === 1 ? 0 : this.#bands[0], path, bytes };
      } catch (error) {
        await bytes.close();
        throw error;
      }
    }
    return null;
  }

  /**
   * The file's nodata value as GDAL's GTiff driver gives it to each band (GTiffRasterBand's
   * GetNoDataValue): the band's `<NoDataValue>` in GDAL's `<image>.aux.xml` (what `gdal_edit
   * -a_nodata` writes for a read-only file), else the GDAL_NODATA tag (one value for every band);
   * the first selected band's, `null` for none or NaN (NaN is always treated as missing).
   */
  async #fileNodata(): Promise<number | null> {
    const bandNodata = new Map<number, number>();
    const tag = await loadTag(this.#image, "GDAL_NODATA");
    const tagValue = typeof tag === "string" ? parseGdalNodata(tag) : null;
    if (tagValue !== null) {
      for (const s of this.#bands) bandNodata.set(s + 1, tagValue);
    }
    for (const [band, v] of (await readPamDataset(this.path))?.bandNodata ?? []) {
      bandNodata.set(band, v);
    }
    return selectedBandsNodata(bandNodata, this.#bands);
  }

  /**
   * The georeference as GDAL's GTiff driver reads it (its default GDAL_GEOREF_SOURCES: PAM,
   * INTERNAL, WORLDFILE): the geotransform of GDAL's `<image>.aux.xml`, else of the GeoTIFF tags,
   * else of a world file (`.tfw`, `.tifw`, `.wld`); the CRS of the `.aux.xml`'s `<SRS>` whenever
   * it has one, whichever file gave the geotransform, else of the GeoKeys (as `gdalinfo` reports
   * them: `test/raster/gtiff_sidecar_test.ts`).
   */
  async #readGeoref(): Promise<void> {
    const image = this.#image;
    const tiepoints = numbers(await loadTag(image, "ModelTiepoint"));
    const geoKeys = numbers(await loadTag(image, "GeoKeyDirectory"));
    const geoDoubles = numbers(await loadTag(image, "GeoDoubleParams"));
    const pam = await readPamDataset(this.path);
    const geoTransform = pam?.geoTransform ??
      geoTransformFromTags({
        pixelScale: numbers(await loadTag(image, "ModelPixelScale")),
        tiepoint: tiepoints,
        transformation: numbers(await loadTag(image, "ModelTransformation")),
        geoKeyDirectory: geoKeys,
      }) ??
      (await findWorldFile(this.path))?.geoTransform ?? null;
    if (geoTransform === null) {
      if (tiepoints !== undefined && tiepoints.length > 6) {
        this.georefNote = `georeferenced by ${tiepoints.length / 6} ground control points, ` +
          `which sopseg does not read: output in pixels (gdalwarp it to a geotransform first)`;
      }
      return;
    }
    // GDAL (GTiffDataset::ApplyPamInfo) takes the PAM <SRS> over the GeoKeys, with or without a
    // PAM <GeoTransform>
    if (pam?.srs) {
      this.georef = { geoTransform, ...sidecarCrs(pam.srs) };
      return;
    }
    const crs: GeoKeysCrs = geoKeys === undefined
      ? { epsg: null, wkt: null }
      : geoKeysCrs(geoKeys, geoDoubles);
    if (crs.epsg !== null || crs.wkt !== null || crs.note !== undefined) {
      this.georef = { geoTransform, epsg: crs.epsg, wkt: crs.wkt };
      if (crs.note !== undefined) this.georefNote = crs.note;
      return;
    }
    // GDAL does not read a .prj beside a TIFF; sopseg does, but only here, where GDAL finds no
    // CRS at all (no .aux.xml <SRS>, no GeoKeys describing one), so that it never names another
    // CRS than gdalinfo
    const prj = await readPrjCrs(this.path);
    this.georef = { geoTransform, epsg: prj?.epsg ?? null, wkt: prj?.wkt ?? null };
  }

  async #sampleRanges(
    samples: number[],
    low: number,
    high: number,
    maxPixels: number,
  ): Promise<Map<number, [number, number]>> {
    // prefer the largest reduced-resolution image (internal overview) within the budget
    let best: GeoTIFFImage = this.#image;
    const overviews: GeoTIFFImage[] = [];
    for (const { img, type } of await this.#subImages()) {
      if ((type & 1) === 1 && (type & 4) === 0 && img.getSamplesPerPixel() === this.bandCount) {
        await loadReadTags(img);
        overviews.push(img);
      }
    }
    const pixels = (img: GeoTIFFImage) => img.getWidth() * img.getHeight();
    overviews.sort((a, b) => pixels(b) - pixels(a));
    const fitting = overviews.find((img) => pixels(img) <= maxPixels);
    if (fitting !== undefined) best = fitting;
    else if (overviews.length > 0) best = overviews[overviews.length - 1]!;

    const samplers = new Map(
      samples.map((s) => [s, new PercentileSampler({ nodata: this.nodata })]),
    );
    const bw = best.isTiled ? best.getTileWidth() : best.getWidth();
    const bh = Math.min(best.getTileHeight(), best.getHeight());
    const across = Math.ceil(best.getWidth() / bw), down = Math.ceil(best.getHeight() / bh);
    const total = across * down;
    const take = pixels(best) <= maxPixels
      ? total
      : Math.max(1, Math.min(total, Math.floor(maxPixels / (bw * bh))));
    for (let k = 0; k < take; k++) {
      const idx = Math.floor(((k + 0.5) * total) / take);
      const bx = idx % across, by = Math.floor(idx / across);
      const win: Window = [
        bx * bw,
        by * bh,
        Math.min(best.getWidth(), (bx + 1) * bw),
        Math.min(best.getHeight(), (by + 1) * bh),
      ];
      const arrays = await readBlock(best, win, samples, this.path);
      for (const [s, sampler] of samplers) sampler.add(arrays.get(s)!);
    }
    const ranges = new Map<number, [number, number]>();
    const empty: number[] = [];
    for (const [s, sampler] of samplers) {
      const r = sampler.range(low, high);
      if (r === null) empty.push(s + 1);
      ranges.set(s, r ?? [0, 0]);
    }
    if (empty.length > 0) {
      const what = this.nodata === null ? "not finite" : `nodata (${this.nodata}) or not finite`;
      this.pixelsNote =
        `every pixel sampled in band${empty.length > 1 ? "s" : ""} ${empty.join(", ")} ` +
        `is ${what}: ` +
        "its masks will be empty";
    }
    return ranges;
  }
}

/**
 * Y, Cb, Cr (samples 0, 1, 2 of `arrays`, 8-bit) to R, G, B in place: the JFIF
 * conversion that JPEG decoders and geotiff.js's `readRGB` apply, rounded and clamped.
 */
function ycbcrToRgb(arrays: Map<number, PixelArray>): void {
  const y = arrays.get(0)!, cb = arrays.get(1)!, cr = arrays.get(2)!;
  const clamp = (v: number) => v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  for (let i = 0; i < y.length; i++) {
    const l = y[i]!, b = cb[i]! - 128, r = cr[i]! - 128;
    y[i] = clamp(l + 1.402 * r);
    cb[i] = clamp(l - 0.34414 * b - 0.71414 * r);
    cr[i] = clamp(l + 1.772 * b);
  }
}

async function readBlock(
  image: GeoTIFFImage,
  window: Window,
  samples: number[],
  path: string,
): Promise<Map<number, PixelArray>> {
  let rasters: ArrayLike<unknown>;
  try {
    rasters = await image.readRasters({ window, samples: [...samples], interleave: false });
  } catch (error) {
    throw new TypeError(
      `Cannot read window [${window.join(", ")}] of ${path}: ${describe(error)}`,
      { cause: error },
    );
  }
  const arrays = new Map<number, PixelArray>();
  samples.forEach((s, i) => arrays.set(s, rasters[i] as PixelArray));
  return arrays;
}

/** Where {@linkcode GeoTiffRasterSource} keeps a block's mask values (not a band index). */
const MASK_SAMPLE = -1;

/** A GDAL mask image: in the TIFF itself (`bytes` `null`) or in its `.msk` (`bytes` its file). */
type Mask = { image: GeoTIFFImage; sample: number; path: string; bytes: ByteSource | null };

/**
 * Throws when `image`'s tiles or strips reach past the end of the file (a partial copy or
 * download): their bytes would read as zeros and give masks of an image that is not there.
 */
async function checkComplete(image: GeoTIFFImage, fileSize: number, path: string): Promise<void> {
  const kind = image.isTiled ? "Tile" : "Strip";
  const offsets = numbers(await loadTag(image, `${kind}Offsets`)) ?? [];
  const counts = numbers(await loadTag(image, `${kind}ByteCounts`)) ?? [];
  let end = 0, block = -1;
  for (let i = 0; i < offsets.length; i++) {
    const e = offsets[i]! + (counts[i] ?? 0);
    if (e > end) [end, block] = [e, i];
  }
  if (end > fileSize) {
    throw new TypeError(
      `Cannot open ${path}: the file is truncated: its ${kind.toLowerCase()} ${block} ends at ` +
        `byte ${end}, the file has ${fileSize} bytes (an incomplete copy or download?)`,
    );
  }
}

/** A decoder's error as text: some throw strings, or errors without a message. */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text && text !== "undefined"
    ? text
    : "a damaged tile or strip (the decoder gave no reason)";
}

/**
 * The colour interpretation GDAL's metadata tag gives each band (`gdal_translate -colorinterp`,
 * a B, G, R, NIR export), by 0-based sample, lower case: GDAL reads it over the TIFF's own tags.
 *
 * @example
 * ```ts ignore
 * gdalColourInterp('<Item name="COLORINTERP" sample="0" role="colorinterp">Blue</Item>');
 * // Map { 0 => "blue" }
 * ```
 */
function gdalColourInterp(metadata: unknown): Map<number, string> {
  const found = new Map<number, string>();
  if (typeof metadata !== "string") return found;
  const item = /<Item\s+name="COLORINTERP"\s+sample="(\d+)"[^>]*>\s*(\w+)\s*<\/Item>/gi;
  for (const [, sample, name] of metadata.matchAll(item)) {
    found.set(Number(sample), name!.toLowerCase());
  }
  return found;
}

/** The 1-based bands `interp` calls red, green and blue, or `null` unless it names all three. */
function taggedRgb(interp: Map<number, string>, bandCount: number): number[] | null {
  const bands = ["red", "green", "blue"].map((c) =>
    [...interp].find(([s, name]) => name === c && s < bandCount)?.[0]
  );
  return bands.every((b) => b !== undefined) ? bands.map((b) => b! + 1) : null;
}
