/**
 * The model-backed segment function of an evaluation: the pipeline's masks
 * for a list of prompts on one image, in the shape {@linkcode evaluate}
 * takes, so the metric needs to know no model.
 *
 * @module
 */
import type { EvalPrompt, SegmentFn } from "../eval/run_eval.ts";
import type { CocoImage } from "../eval/coco_gt.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";
import { maskBox } from "../masks/mask_box.ts";
import { openRaster } from "../raster/open_raster.ts";
import { degradedSource, type ImageDegradeOptions } from "../eval/image_degrade.ts";
import { segmentBoxes, type SegmentOptions } from "./segment_image.ts";

/** Options of {@linkcode modelSegmentFn}. */
export interface ModelSegmentFnOptions
  extends Pick<SegmentOptions, "batchSize" | "promptMode" | "classPrompt" | "crop" | "boxSearch"> {
  /** Folder that holds the images, joined with each image's `fileName`. */
  imagesDir: string;
  /**
   * Passes after the first, each prompted with the box of the last pass's mask
   * ({@linkcode maskBox}; the given box where that mask is empty). Default: 0.
   */
  refinePasses?: number;
  /**
   * The class the model is told for a prompt of class `className` (an
   * ablation: a detector's class confusions). Default: `className`.
   */
  promptClassOf?: (className: string) => string;
  /**
   * Seeded degradation of each image before the model reads it, keyed by the COCO image
   * id ({@linkcode degradedSource}). Default: none.
   */
  imageDegrade?: ImageDegradeOptions;
}

/**
 * A {@linkcode SegmentFn} that opens each image from `imagesDir` and segments
 * its prompts with `model` (masks only, no polygons).
 *
 * @example
 * ```ts ignore
 * const segment = modelSegmentFn(model, { imagesDir: "val/images", batchSize: 8 });
 * const { report } = await evaluate(gt, { segment });
 * ```
 */
export function modelSegmentFn(model: SopsegModel, options: ModelSegmentFnOptions): SegmentFn {
  const dir = options.imagesDir.replace(/\/+$/, "");
  const promptClassOf = options.promptClassOf ?? ((c: string) => c);
  return async (image: CocoImage, prompts: EvalPrompt[], signal?: AbortSignal) => {
    let source = await openRaster(`${dir}/${image.fileName}`);
    try {
      if (options.imageDegrade) {
        source = await degradedSource(source, options.imageDegrade, image.id);
      }
      let boxes = prompts.map((p) => p.box);
      const classes = prompts.map((p) => promptClassOf(p.className));
      let masks: MaskWindow[] = [];
      for (let pass = 0; pass <= (options.refinePasses ?? 0); pass++) {
        if (pass > 0) boxes = masks.map((m, i) => maskBox(m) ?? boxes[i]!);
        masks = [];
        for await (
          const r of segmentBoxes(model, { source, boxes, classes }, {
            batchSize: options.batchSize,
            promptMode: options.promptMode,
            classPrompt: options.classPrompt,
            crop: options.crop,
            boxSearch: options.boxSearch,
            vectorize: false,
            signal,
          })
        ) masks.push(r.mask);
      }
      return masks;
    } finally {
      await source.close();
    }
  };
}
