/**
 * Builds one COCO instance-segmentation JSON for a run, incrementally.
 *
 * @module
 */

import { boxCorners } from "../geometry/oriented_box.ts";
import type { Rle } from "../masks/rle.ts";
import type { InstanceResult } from "./instance_result.ts";
import { detectionOrigin } from "./detection.ts";

/** An image entry as {@linkcode CocoWriter.addImage} takes it. */
export interface CocoImageInput {
  /** The image's file name (written as `file_name`; a path relative to the image root). */
  fileName: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** A COCO `images` entry. */
export interface CocoImage {
  /** Image id, `1..n` in the order added. */
  id: number;
  /** The image's file name. */
  file_name: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** A COCO `categories` entry. */
export interface CocoCategory {
  /** Category id, from 1. */
  id: number;
  /** The class name. */
  name: string;
}

/** A COCO `annotations` entry as this writer writes it (results plus GT-style fields). */
export interface CocoAnnotation {
  /** Annotation id, `1..n` in the order added. */
  id: number;
  /** The image's id. */
  image_id: number;
  /** The class's category id. */
  category_id: number;
  /** Compressed RLE over the full image, `size: [height, width]`. */
  segmentation: Rle;
  /** Mask area in pixels. */
  area: number;
  /** `[x, y, width, height]` of the mask. */
  bbox: [number, number, number, number];
  /** Always 0: one annotation per instance. */
  iscrowd: 0;
  /** The detector's score, `null` when the detections had none (e.g. DOTA labels). */
  score: number | null;
  /** The model's predicted IoU (4 decimals). */
  predicted_iou: number;
  /** The prompt box corners `[x1, y1, ..., x4, y4]`, pixel frame, 3 decimals. */
  obb: number[];
  /** Index of the detection in its image's detection list (the detections kept). */
  detection_index: number;
  /** The detection file the box was read from; `null` for detections given as a list. */
  source_file: string | null;
  /** The box's 1-based line in `source_file` (text formats); `null` otherwise. */
  source_line: number | null;
  /** The box's 0-based index in `source_file`'s JSON array; `null` otherwise. */
  source_record: number | null;
  /** Whether the class is one the model was trained on; absent when unknown. */
  in_training_classes?: boolean;
  /**
   * With the box search: whether the mask is a moved box's; absent for a box the search did
   * not run on (as GeoJSON's `box_moved`).
   */
  box_moved?: boolean;
}

/** Options for {@linkcode CocoWriter}. */
export interface CocoWriterOptions {
  /**
   * Category names to number first, ids `1..n` in this order (e.g. the
   * detector's class list, for ids that do not depend on the data). Classes not
   * in the list get the next ids in first-seen order. Default: `[]`, every
   * category numbered in first-seen order.
   */
  categories?: readonly string[];
  /** The `info` object written at the top. Default: `{ "description": "sopseg instance masks" }`. */
  info?: Record<string, unknown>;
}

function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(value * f) / f;
  return r === 0 ? 0 : r;
}

/**
 * Collects images and annotations for one COCO JSON and serialises it at the
 * end. Each annotation is turned into its JSON text when added, so the writer
 * holds strings, not the results (masks, polygons) themselves.
 *
 * Category ids are `1..n`: first the names given in
 * {@linkcode CocoWriterOptions.categories}, then new names in the order they
 * are first seen. Image and annotation ids are `1..n` in the order added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CocoWriter } from "./coco_writer.ts";
 *
 * const coco = new CocoWriter();
 * const imageId = coco.addImage({ fileName: "P1.png", width: 4, height: 4 });
 * coco.addAnnotation(imageId, {
 *   detectionIndex: 0,
 *   detection: {
 *     box: { cx: 2, cy: 2, width: 2, height: 2, angle: 0 },
 *     className: "ship", score: 0.9, difficult: false, source: "P1.txt", line: 1,
 *   },
 *   polygons: [],
 *   rle: { size: [4, 4], counts: "52203" },
 *   area: 4,
 *   bbox: [1, 1, 2, 2],
 *   predictedIou: 0.95,
 * });
 * const json = JSON.parse(coco.toText());
 * assert.deepEqual(json.categories, [{ id: 1, name: "ship" }]);
 * assert.equal(json.annotations[0].category_id, 1);
 * assert.deepEqual(json.annotations[0].segmentation, { size: [4, 4], counts: "52203" });
 * ```
 */
export class CocoWriter {
  #info: Record<string, unknown>;
  #images: CocoImage[] = [];
  #imagesById = new Map<number, CocoImage>();
  #fileNames = new Set<string>();
  #categoryIds = new Map<string, number>();
  #annotations: string[] = [];

  /**
   * Creates an empty writer.
   *
   * @param options Fixed categories and the `info` object.
   */
  constructor(options: CocoWriterOptions = {}) {
    this.#info = options.info ?? { description: "sopseg instance masks" };
    for (const name of options.categories ?? []) this.#categoryId(name);
  }

  /** Number of images added. */
  get imageCount(): number {
    return this.#images.length;
  }

  /** Number of annotations added. */
  get annotationCount(): number {
    return this.#annotations.length;
  }

  /** The categories so far, by id. */
  get categories(): CocoCategory[] {
    return [...this.#categoryIds].map(([name, id]) => ({ id, name }));
  }

  #categoryId(name: string): number {
    let id = this.#categoryIds.get(name);
    if (id === undefined) this.#categoryIds.set(name, id = this.#categoryIds.size + 1);
    return id;
  }

  /**
   * Adds an image and returns its id. Throws a RangeError for a file name
   * added before or a size that is not a positive integer.
   *
   * @param image File name and size.
   * @returns The image id.
   */
  addImage(image: CocoImageInput): number {
    const { fileName, width, height } = image;
    if (this.#fileNames.has(fileName)) {
      throw new RangeError(`Cannot add image "${fileName}" to COCO: it was added before`);
    }
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new RangeError(
        `Cannot add image "${fileName}" to COCO: size ${width}x${height} is not positive integers`,
      );
    }
    const entry: CocoImage = { id: this.#images.length + 1, file_name: fileName, width, height };
    this.#images.push(entry);
    this.#imagesById.set(entry.id, entry);
    this.#fileNames.add(fileName);
    return entry.id;
  }

  /**
   * Adds one instance of an image added before and returns its annotation id.
   * Throws a RangeError for an unknown image id or an RLE whose size is not
   * the image's `[height, width]`.
   *
   * @param imageId The id {@linkcode CocoWriter.addImage} returned.
   * @param result The instance.
   * @param written `obb`: the prompt box corners as an earlier file wrote them
   * (a resumed run copies them rather than rebuild them from rounded numbers).
   * @returns The annotation id.
   */
  addAnnotation(
    imageId: number,
    result: InstanceResult,
    written: { obb?: readonly number[] } = {},
  ): number {
    const image = this.#imagesById.get(imageId);
    if (image === undefined) {
      throw new RangeError(`Cannot add annotation to COCO: no image with id ${imageId}`);
    }
    const [h, w] = result.rle.size;
    const origin = detectionOrigin(result.detection);
    if (h !== image.height || w !== image.width) {
      throw new RangeError(
        `Cannot add annotation to COCO: RLE size [${h}, ${w}] is not image "${image.file_name}"'s ` +
          `[height, width] [${image.height}, ${image.width}]`,
      );
    }
    const annotation: CocoAnnotation = {
      id: this.#annotations.length + 1,
      image_id: imageId,
      category_id: this.#categoryId(result.detection.className),
      segmentation: { size: [h, w], counts: result.rle.counts },
      area: result.area,
      bbox: [...result.bbox],
      iscrowd: 0,
      score: result.detection.score,
      predicted_iou: roundTo(result.predictedIou, 4),
      obb: written.obb
        ? [...written.obb]
        : boxCorners(result.detection.box).flatMap((p) => [roundTo(p.x, 3), roundTo(p.y, 3)]),
      detection_index: result.detectionIndex,
      source_file: origin.file,
      source_line: origin.line,
      source_record: origin.record,
    };
    if (result.inTrainingClasses !== undefined) {
      annotation.in_training_classes = result.inTrainingClasses;
    }
    if (result.boxMoved !== undefined) annotation.box_moved = result.boxMoved;
    this.#annotations.push(JSON.stringify(annotation));
    return annotation.id;
  }

  /**
   * The COCO JSON text in pieces (one annotation per piece), for writing a
   * large file without building one huge string. Joined, the pieces are
   * {@linkcode CocoWriter.toText}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { CocoWriter } from "./coco_writer.ts";
   *
   * const coco = new CocoWriter({ categories: ["plane", "ship"] });
   * coco.addImage({ fileName: "a.png", width: 8, height: 6 });
   * const json = JSON.parse([...coco.chunks()].join(""));
   * assert.deepEqual(json.images, [{ id: 1, file_name: "a.png", width: 8, height: 6 }]);
   * assert.deepEqual(json.categories.map((c: { name: string }) => c.name), ["plane", "ship"]);
   * assert.deepEqual(json.annotations, []);
   * ```
   *
   * @returns A generator of JSON text pieces.
   */
  *chunks(): Generator<string> {
    yield `{"info":${JSON.stringify(this.#info)},\n"images":[`;
    for (let i = 0; i < this.#images.length; i++) {
      yield `${i ? "," : ""}\n${JSON.stringify(this.#images[i])}`;
    }
    yield `${this.#images.length ? "\n" : ""}],\n"categories":${
      JSON.stringify(this.categories)
    },\n"annotations":[`;
    for (let i = 0; i < this.#annotations.length; i++) {
      yield `${i ? "," : ""}\n${this.#annotations[i]}`;
    }
    yield `${this.#annotations.length ? "\n" : ""}]}\n`;
  }

  /**
   * The COCO JSON text: `info`, `images`, `categories`, `annotations`, one
   * image or annotation per line.
   *
   * @returns The JSON text, ending with a newline.
   */
  toText(): string {
    return [...this.chunks()].join("");
  }
}
