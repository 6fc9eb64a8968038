/**
 * COCO instance ground truth for the evaluation: reading (plain or gzipped
 * JSON), and per instance the ground-truth mask, the oriented-box prompt and
 * the tight horizontal box, with the conventions of docs/CONTRACT.md:
 *
 * - polygons are OpenCV contours (vertices are pixel indices); the mask is
 *   their inclusive fill (`cv2.fillPoly`), all parts united. Vertices that are
 *   not integers (general COCO files have float polygons; two slivers of the
 *   iSAID train tiles do too) are rounded to the nearest index first, as
 *   `cv2.fillPoly(np.round(points).astype(np.int32))` would;
 * - the oriented-box prompt is `cv2.minAreaRect` of all vertices (index
 *   space), moved to the pixel frame: centre `+0.5`, width and height `+1`;
 * - the horizontal box is the vertices' bounding box in the pixel frame,
 *   `[xmin, xmax + 1) x [ymin, ymax + 1)` (the COCO `bbox` of these files
 *   grown by one pixel), i.e. exactly the mask's bounding box.
 *
 * RLE segmentations (compressed or not) are accepted too: the mask is the
 * decoded RLE and the prompt is the min-area rectangle of the mask's pixel
 * indices, moved to the pixel frame the same way.
 *
 * @module
 */

import { minAreaRect } from "../geometry/min_area_rect.ts";
import type { HBox, OrientedBox, Point } from "../geometry/oriented_box.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import { decodeRle } from "../masks/rle.ts";
import { fillInclusive, unionWindows } from "./_masks.ts";

/** A category of the COCO file. */
export interface CocoCategory {
  /** COCO category id. */
  id: number;
  /** Category name as the file spells it. */
  name: string;
}

/** An image of the COCO file. */
export interface CocoImage {
  /** COCO image id. */
  id: number;
  /** `file_name`, relative to the images folder. */
  fileName: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** A COCO RLE segmentation: compressed (`counts` string) or not (run lengths). */
export interface CocoRleSegmentation {
  /** `[height, width]`. */
  size: [number, number];
  /** Column-major run lengths, compressed (string) or plain (numbers). */
  counts: string | number[];
}

/** One annotation of the COCO file, as read. */
export interface CocoAnnotation {
  /** COCO annotation id. */
  id: number;
  /** Image id. */
  imageId: number;
  /** Category id. */
  categoryId: number;
  /** Polygon parts (flat `x, y, x, y, ...` vertex lists, pixel indices) or an RLE. */
  segmentation: number[][] | CocoRleSegmentation;
  /** `iscrowd` flag. */
  iscrowd: boolean;
}

/** A COCO ground-truth file, indexed by image. */
export interface CocoGt {
  /** Where it was read from (a path, or a name given to {@linkcode parseCocoGt}). */
  source: string;
  /** Images in file order. */
  images: CocoImage[];
  /** Categories in file order. */
  categories: CocoCategory[];
  /** Annotations of each image id, in file order. */
  annotationsByImage: Map<number, CocoAnnotation[]>;
}

/** One ground-truth instance, ready to score. */
export interface GtInstance {
  /** COCO annotation id. */
  annotationId: number;
  /** COCO image id. */
  imageId: number;
  /** COCO category id. */
  categoryId: number;
  /** Category name as the file spells it. */
  className: string;
  /** The ground-truth mask (tight window, inside the image). */
  mask: MaskWindow;
  /** The oriented-box prompt, pixel frame. */
  box: OrientedBox;
  /** The tight horizontal box of the instance, pixel frame (the mask's bounding box). */
  hbox: HBox;
}

/** Options for {@linkcode parseCocoGt}. */
export interface ParseCocoGtOptions {
  /** Name of the source for error messages and the result. Default: `"<memory>"`. */
  source?: string;
}

function fail(source: string, why: string): never {
  throw new SyntaxError(`Cannot read COCO ground truth ${source}: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function int(v: unknown, source: string, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(source, `${what} is not an integer`);
  return v;
}

function parseSegmentation(
  v: unknown,
  source: string,
  what: string,
): number[][] | CocoRleSegmentation {
  if (Array.isArray(v)) {
    const parts: number[][] = [];
    for (const part of v) {
      if (!Array.isArray(part) || part.length < 2 || part.length % 2 !== 0) {
        fail(source, `${what}: a polygon part is not a list of x, y pairs`);
      }
      for (const c of part) {
        if (typeof c !== "number" || !Number.isFinite(c)) {
          fail(source, `${what}: a polygon coordinate is not a finite number`);
        }
      }
      parts.push(part as number[]);
    }
    return parts;
  }
  if (isRecord(v) && Array.isArray(v.size) && v.size.length === 2) {
    const [h, w] = v.size;
    if (!Number.isInteger(h) || !Number.isInteger(w)) fail(source, `${what}: bad RLE size`);
    const counts = v.counts;
    if (typeof counts === "string" || (Array.isArray(counts) && counts.every(Number.isInteger))) {
      return { size: [h as number, w as number], counts: counts as string | number[] };
    }
    fail(source, `${what}: RLE counts are neither a string nor integers`);
  }
  fail(source, `${what}: segmentation is neither polygons nor an RLE`);
}

/**
 * Checks and indexes a parsed COCO ground-truth object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoGt } from "./coco_gt.ts";
 *
 * const gt = parseCocoGt({
 *   images: [{ id: 1, file_name: "a.jpg", width: 64, height: 64 }],
 *   categories: [{ id: 9, name: "small_vehicle" }],
 *   annotations: [
 *     { id: 5, image_id: 1, category_id: 9, segmentation: [[2, 2, 6, 2, 6, 4, 2, 4]], iscrowd: 0 },
 *   ],
 * });
 * assert.equal(gt.annotationsByImage.get(1)?.length, 1);
 * ```
 */
export function parseCocoGt(json: unknown, options: ParseCocoGtOptions = {}): CocoGt {
  const source = options.source ?? "<memory>";
  if (!isRecord(json)) fail(source, "the top level is not an object");
  const { images, categories, annotations } = json;
  if (!Array.isArray(images)) fail(source, `"images" is not a list`);
  if (!Array.isArray(categories)) fail(source, `"categories" is not a list`);
  if (!Array.isArray(annotations)) fail(source, `"annotations" is not a list`);

  const outImages: CocoImage[] = [];
  const imageIds = new Set<number>();
  for (const [i, im] of images.entries()) {
    if (!isRecord(im)) fail(source, `images[${i}] is not an object`);
    const id = int(im.id, source, `images[${i}].id`);
    const width = int(im.width, source, `images[${i}].width`);
    const height = int(im.height, source, `images[${i}].height`);
    if (width <= 0 || height <= 0) fail(source, `images[${i}] has size ${width}x${height}`);
    if (typeof im.file_name !== "string") fail(source, `images[${i}].file_name is not a string`);
    if (imageIds.has(id)) fail(source, `image id ${id} appears twice`);
    imageIds.add(id);
    outImages.push({ id, fileName: im.file_name, width, height });
  }

  const outCategories: CocoCategory[] = [];
  const categoryIds = new Set<number>();
  for (const [i, c] of categories.entries()) {
    if (!isRecord(c)) fail(source, `categories[${i}] is not an object`);
    const id = int(c.id, source, `categories[${i}].id`);
    if (typeof c.name !== "string") fail(source, `categories[${i}].name is not a string`);
    if (categoryIds.has(id)) fail(source, `category id ${id} appears twice`);
    categoryIds.add(id);
    outCategories.push({ id, name: c.name });
  }

  const byImage = new Map<number, CocoAnnotation[]>();
  for (const im of outImages) byImage.set(im.id, []);
  const annotationIds = new Set<number>();
  for (const [i, a] of annotations.entries()) {
    const what = `annotations[${i}]`;
    if (!isRecord(a)) fail(source, `${what} is not an object`);
    const id = int(a.id, source, `${what}.id`);
    const imageId = int(a.image_id, source, `${what}.image_id`);
    const categoryId = int(a.category_id, source, `${what}.category_id`);
    if (annotationIds.has(id)) fail(source, `annotation id ${id} appears twice`);
    annotationIds.add(id);
    const list = byImage.get(imageId);
    if (list === undefined) {
      fail(source, `${what} refers to image id ${imageId}, which is not listed`);
    }
    if (!categoryIds.has(categoryId)) {
      fail(source, `${what} refers to category id ${categoryId}, which is not listed`);
    }
    list.push({
      id,
      imageId,
      categoryId,
      segmentation: parseSegmentation(a.segmentation, source, what),
      iscrowd: a.iscrowd === 1 || a.iscrowd === true,
    });
  }
  return { source, images: outImages, categories: outCategories, annotationsByImage: byImage };
}

/**
 * The ids of the categories `gt` annotates at least once: a file may list
 * categories it never annotates (iSAID's 7-class val lists 15).
 *
 * @example
 * ```ts
 * import { annotatedCategoryIds, parseCocoGt } from "./coco_gt.ts";
 * const gt = parseCocoGt({
 *   images: [{ id: 1, file_name: "a.png", width: 8, height: 8 }],
 *   categories: [{ id: 1, name: "ship" }, { id: 2, name: "harbor" }],
 *   annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: [[1, 1, 4, 1, 4, 3]], iscrowd: 0 }],
 * });
 * if ([...annotatedCategoryIds(gt)].join() !== "1") throw new Error();
 * ```
 */
export function annotatedCategoryIds(gt: CocoGt): Set<number> {
  const ids = new Set<number>();
  for (const list of gt.annotationsByImage.values()) {
    for (const a of list) ids.add(a.categoryId);
  }
  return ids;
}

/**
 * Reads a COCO ground-truth file, plain JSON or gzipped (recognised by its
 * content, not its name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCocoGt } from "./coco_gt.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify({ images: [], categories: [], annotations: [] }));
 * const gt = await readCocoGt(path);
 * assert.equal(gt.images.length, 0);
 * await Deno.remove(path);
 * ```
 */
export async function readCocoGt(path: string): Promise<CocoGt> {
  let bytes: Uint8Array = await Deno.readFile(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
        new DecompressionStream("gzip"),
      );
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (e) {
      fail(path, `gzip data is corrupt (${(e as Error).message})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    fail(path, `not JSON (${(e as Error).message})`);
  }
  return parseCocoGt(json, { source: path });
}

/** Options for {@linkcode gtInstances}. */
export interface GtInstancesOptions {
  /** Keep only these category ids. Default: all. */
  categoryIds?: ReadonlySet<number>;
  /** Keep crowd annotations (`iscrowd: 1`). Default: `false` (COCO ignores them too). */
  includeCrowd?: boolean;
}

/**
 * The scorable instances of one image: mask, prompt box and horizontal box
 * of each annotation (see the module doc for the conventions).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gtInstances, parseCocoGt } from "./coco_gt.ts";
 *
 * const gt = parseCocoGt({
 *   images: [{ id: 1, file_name: "a.jpg", width: 64, height: 64 }],
 *   categories: [{ id: 9, name: "small_vehicle" }],
 *   annotations: [
 *     { id: 5, image_id: 1, category_id: 9, segmentation: [[2, 2, 6, 2, 6, 4, 2, 4]], iscrowd: 0 },
 *   ],
 * });
 * const [inst] = gtInstances(gt, gt.images[0]!);
 * assert.equal(inst!.mask.data.reduce((s, v) => s + v, 0), 15); // 5 x 3 pixels, boundary included
 * assert.deepEqual(inst!.hbox, { x0: 2, y0: 2, x1: 7, y1: 5 });
 * assert.equal(inst!.box.width * inst!.box.height, 15);
 * ```
 */
export function gtInstances(
  gt: CocoGt,
  image: CocoImage,
  options: GtInstancesOptions = {},
): GtInstance[] {
  const names = new Map(gt.categories.map((c) => [c.id, c.name]));
  const out: GtInstance[] = [];
  for (const a of gt.annotationsByImage.get(image.id) ?? []) {
    if (a.iscrowd && !options.includeCrowd) continue;
    if (options.categoryIds && !options.categoryIds.has(a.categoryId)) continue;
    const { mask, points } = Array.isArray(a.segmentation)
      ? polygonMask(a.segmentation, image)
      : rleMask(a.segmentation, image, gt.source, a.id);
    if (points.length === 0) continue; // nothing to prompt with (empty RLE)
    const r = minAreaRect(points);
    let xmin = Infinity, ymin = Infinity, xmax = -Infinity, ymax = -Infinity;
    for (const p of points) {
      if (p.x < xmin) xmin = p.x;
      if (p.x > xmax) xmax = p.x;
      if (p.y < ymin) ymin = p.y;
      if (p.y > ymax) ymax = p.y;
    }
    out.push({
      annotationId: a.id,
      imageId: image.id,
      categoryId: a.categoryId,
      className: names.get(a.categoryId) ?? String(a.categoryId),
      mask,
      box: {
        cx: r.cx + 0.5,
        cy: r.cy + 0.5,
        width: r.width + 1,
        height: r.height + 1,
        angle: r.angle,
      },
      hbox: { x0: xmin, y0: ymin, x1: xmax + 1, y1: ymax + 1 },
    });
  }
  return out;
}

/** The nearest integer, halves to the even one (NumPy's `np.round`). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Inclusive fill of all parts, united; points are all vertices. */
function polygonMask(parts: number[][], image: CocoImage): { mask: MaskWindow; points: Point[] } {
  const points: Point[] = [];
  const windows: MaskWindow[] = [];
  for (const part of parts) {
    const ring: Point[] = [];
    for (let i = 0; i + 1 < part.length; i += 2) {
      ring.push({ x: roundHalfEven(part[i]!), y: roundHalfEven(part[i + 1]!) });
    }
    points.push(...ring);
    const w = fillInclusive(ring, image.width, image.height);
    if (w !== null) windows.push(w);
  }
  return { mask: unionWindows(windows), points };
}

/** Decodes COCO uncompressed RLE counts (column-major) into a row-major image. */
function decodePlainCounts(counts: number[], height: number, width: number): Uint8Array {
  const out = new Uint8Array(width * height);
  let k = 0;
  let v = 0;
  for (const c of counts) {
    if (v) {
      for (let j = k; j < k + c && j < width * height; j++) {
        const x = Math.floor(j / height);
        out[(j - x * height) * width + x] = 1;
      }
    }
    k += c;
    v ^= 1;
  }
  return out;
}

/** The RLE's mask on its bounding window; points are the boundary pixels' indices. */
function rleMask(
  rle: CocoRleSegmentation,
  image: CocoImage,
  source: string,
  id: number,
): { mask: MaskWindow; points: Point[] } {
  const [h, w] = rle.size;
  if (h !== image.height || w !== image.width) {
    throw new RangeError(
      `Cannot read annotation ${id} of ${source}: RLE size ${w}x${h} differs from its image's ${image.width}x${image.height}`,
    );
  }
  const full = typeof rle.counts === "string"
    ? decodeRle({ size: [h, w], counts: rle.counts })
    : decodePlainCounts(rle.counts, h, w);
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (full[y * w + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) {
    return { mask: { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) }, points: [] };
  }
  const mw = x1 - x0 + 1;
  const mh = y1 - y0 + 1;
  const data = new Uint8Array(mw * mh);
  const points: Point[] = [];
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && full[y * w + x] === 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!full[y * w + x]) continue;
      data[(y - y0) * mw + (x - x0)] = 1;
      if (!at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1)) points.push({ x, y });
    }
  }
  return { mask: { x0, y0, width: mw, height: mh, data }, points };
}
