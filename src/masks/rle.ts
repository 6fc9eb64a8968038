/**
 * COCO run-length encoding, compressed string form, bit for bit as
 * pycocotools (`maskApi.c`: `rleEncode`, `rleToString`, `rleFrString`,
 * `rleArea`, `rleToBbox`).
 *
 * @module
 */

import { assertMaskWindow, type MaskWindow } from "./mask_window.ts";

/** A COCO compressed RLE over a whole image. */
export interface Rle {
  /** `[height, width]` of the image (COCO order). */
  size: [number, number];
  /** Run lengths, column-major, starting with a run of zeros, in COCO's string code. */
  counts: string;
}

/** Run lengths as numbers, from a window placed in an image (column-major). */
function windowRuns(mask: MaskWindow, imageWidth: number, imageHeight: number): number[] {
  const { x0, y0, width, height, data } = mask;
  const runs: number[] = [];
  let value = 0, run = 0;
  const add = (v: number, n: number) => {
    if (n === 0) return;
    if (v !== value) {
      runs.push(run);
      value = v;
      run = 0;
    }
    run += n;
  };
  // Window columns and rows clipped to the image.
  const cx0 = Math.max(0, x0), cx1 = Math.min(imageWidth, x0 + width);
  const cy0 = Math.max(0, y0), cy1 = Math.min(imageHeight, y0 + height);
  if (cx0 >= cx1 || cy0 >= cy1) {
    add(0, imageWidth * imageHeight);
  } else {
    add(0, cx0 * imageHeight);
    for (let x = cx0; x < cx1; x++) {
      add(0, cy0);
      let p = (cy0 - y0) * width + (x - x0);
      for (let y = cy0; y < cy1; y++, p += width) {
        const v = data[p] !== 0 ? 1 : 0;
        if (v !== value) {
          runs.push(run);
          value = v;
          run = 0;
        }
        run++;
      }
      add(0, imageHeight - cy1);
    }
    add(0, (imageWidth - cx1) * imageHeight);
  }
  runs.push(run);
  return runs;
}

/** pycocotools `rleToString`: 5 bits per character, deltas from i > 2. */
function runsToString(runs: readonly number[]): string {
  const chars: number[] = [];
  for (let i = 0; i < runs.length; i++) {
    let x = runs[i]!;
    if (i > 2) x -= runs[i - 2]!;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32); // arithmetic shift, safe past 32 bits
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
    }
  }
  return new TextDecoder().decode(Uint8Array.from(chars));
}

/** pycocotools `rleFrString`. */
function stringToRuns(counts: string): number[] {
  const runs: number[] = [];
  let p = 0;
  while (p < counts.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      if (p >= counts.length) {
        throw new SyntaxError("Cannot decode RLE counts: the string ends inside a number");
      }
      const c = counts.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new SyntaxError(
          `Cannot decode RLE counts: character ${
            JSON.stringify(counts[p])
          } at ${p} is not in the code`,
        );
      }
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k); // sign-extend
    }
    if (runs.length > 2) x += runs[runs.length - 2]!;
    runs.push(x);
  }
  return runs;
}

function checkImageSize(imageWidth: number, imageHeight: number, what: string): void {
  if (
    !Number.isInteger(imageWidth) || !Number.isInteger(imageHeight) || imageWidth < 0 ||
    imageHeight < 0
  ) {
    throw new RangeError(`Cannot ${what}: image size ${imageWidth} x ${imageHeight} is invalid`);
  }
}

function parseRle(rle: Rle, what: string): { h: number; w: number; runs: number[] } {
  const size = rle?.size;
  if (!Array.isArray(size) || size.length !== 2) {
    throw new TypeError(`Cannot ${what}: size must be [height, width]`);
  }
  const [h, w] = size;
  checkImageSize(w, h, what);
  if (typeof rle.counts !== "string") {
    throw new TypeError(`Cannot ${what}: counts must be a compressed RLE string`);
  }
  const runs = stringToRuns(rle.counts);
  let total = 0;
  for (const r of runs) {
    if (r < 0) throw new SyntaxError(`Cannot ${what}: negative run length ${r}`);
    total += r;
  }
  if (total !== h * w) {
    throw new SyntaxError(`Cannot ${what}: runs cover ${total} pixels, expected ${h} x ${w}`);
  }
  return { h, w, runs };
}

/**
 * Encodes a mask window, placed in an image of the given size, as COCO
 * compressed RLE (column-major over the whole image, runs starting with zeros,
 * pixels of the window outside the image ignored).
 *
 * @example Usage
 * ```ts
 * import { encodeRle } from "./rle.ts";
 * import assert from "node:assert/strict";
 *
 * // One pixel at (1, 0) in a 3 x 2 image: column-major runs [2, 1, 3].
 * const mask = { x0: 1, y0: 0, width: 1, height: 1, data: Uint8Array.of(1) };
 * assert.deepEqual(encodeRle(mask, 3, 2), { size: [2, 3], counts: "213" });
 * ```
 *
 * @param mask The mask window.
 * @param imageWidth Width of the image (the RLE's `size[1]`).
 * @param imageHeight Height of the image (the RLE's `size[0]`).
 * @returns The RLE.
 */
export function encodeRle(mask: MaskWindow, imageWidth: number, imageHeight: number): Rle {
  assertMaskWindow(mask, "encode RLE");
  checkImageSize(imageWidth, imageHeight, "encode RLE");
  return {
    size: [imageHeight, imageWidth],
    counts: runsToString(windowRuns(mask, imageWidth, imageHeight)),
  };
}

/**
 * Decodes a COCO compressed RLE into a full-image mask, **row-major**
 * (`index = y * width + x`, like {@linkcode MaskWindow}), values 0/1.
 *
 * @example Usage
 * ```ts
 * import { decodeRle } from "./rle.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(Array.from(decodeRle({ size: [2, 3], counts: "213" })), [0, 1, 0, 0, 0, 0]);
 * ```
 *
 * @param rle The RLE.
 * @returns `uint8[height * width]`, row-major.
 */
export function decodeRle(rle: Rle): Uint8Array {
  const { h, w, runs } = parseRle(rle, "decode RLE");
  const out = new Uint8Array(h * w);
  // (x, y): the pixel at the current position in the column-major walk.
  let x = 0, y = 0;
  for (let i = 0; i < runs.length; i++) {
    const n = runs[i]!;
    if (i % 2 === 1) {
      for (let k = 0; k < n; k++) {
        out[y * w + x] = 1;
        if (++y === h) {
          y = 0;
          x++;
        }
      }
    } else if (h > 0) {
      const t = y + n;
      x += Math.floor(t / h);
      y = t % h;
    }
  }
  return out;
}

/**
 * Foreground area of an RLE (the sum of its odd runs), as `pycocotools.mask.area`.
 *
 * @example Usage
 * ```ts
 * import { rleArea } from "./rle.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(rleArea({ size: [2, 3], counts: "213" }), 1);
 * ```
 *
 * @param rle The RLE.
 * @returns The number of foreground pixels.
 */
export function rleArea(rle: Rle): number {
  const { runs } = parseRle(rle, "compute RLE area");
  let area = 0;
  for (let i = 1; i < runs.length; i += 2) area += runs[i]!;
  return area;
}

/**
 * Bounding box `[x, y, w, h]` of an RLE, exactly as `pycocotools.mask.toBbox`
 * (`[0, 0, 0, 0]` when empty; a run that wraps from one column into the next
 * widens the box to the full image height, as pycocotools does).
 *
 * @example Usage
 * ```ts
 * import { rleBbox } from "./rle.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(rleBbox({ size: [2, 3], counts: "213" }), [1, 0, 1, 1]);
 * ```
 *
 * @param rle The RLE.
 * @returns `[x, y, width, height]` in pixels.
 */
export function rleBbox(rle: Rle): [number, number, number, number] {
  const { h, w, runs } = parseRle(rle, "compute RLE bbox");
  const m = Math.floor(runs.length / 2) * 2;
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
  for (let j = 0; j < m; j++) {
    cc += runs[j]!;
    const t = cc - (j % 2);
    const y = t % h, x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}
