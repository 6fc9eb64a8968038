/**
 * A detector's boxes matched to ground-truth instances, as DOTA's evaluation
 * matches them: by class and rotated IoU, greedily from the highest score. A
 * matched detection becomes its instance's prompt (`prompts` of
 * {@linkcode evaluate}), so the masks are scored as a user with that detector
 * gets them; instances no detection found and detections that found nothing
 * are counted per class.
 *
 * @module
 */
import type { Detection } from "../formats/detection.ts";
import { orientedBoxIoU } from "../geometry/box_iou.ts";
import type { OrientedBox } from "../geometry/oriented_box.ts";
import type { GtInstance } from "./coco_gt.ts";

/** Per-class counts of a matching. */
export interface MatchCounts {
  /** Ground-truth instances. */
  gt: number;
  /** Detections. */
  detections: number;
  /** Detections matched to an instance (one each). */
  matched: number;
}

/** Options of {@linkcode matchDetections}. */
export interface MatchDetectionsOptions {
  /** Rotated IoU a detection needs with an instance's box. Default: 0.5 (DOTA's). */
  iouThreshold?: number;
  /**
   * The class a name means, as the report names it (detectors and datasets spell
   * classes differently: `small-vehicle`, `Small_Vehicle`). Default: the name itself.
   */
  classOf?: (name: string) => string;
}

/** What {@linkcode matchDetections} returns. */
export interface DetectionMatch {
  /** The matched detection's box, by GT annotation id. */
  prompts: Map<number, OrientedBox>;
  /** Counts per class (as `classOf` names it). */
  counts: Map<string, MatchCounts>;
}

/**
 * Matches one image's detections to its GT instances: detections by descending
 * score (unscored last, in file order) each take the unmatched instance of their
 * class whose oriented box overlaps theirs most, if that rotated IoU reaches
 * `iouThreshold`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchDetections } from "./match_detections.ts";
 * import type { GtInstance } from "./coco_gt.ts";
 * import type { Detection } from "../formats/detection.ts";
 *
 * const box = { cx: 10, cy: 10, width: 8, height: 4, angle: 0 };
 * const gt = [{ annotationId: 7, className: "ship", box }] as GtInstance[];
 * const det = (cx: number, score: number) =>
 *   ({ box: { ...box, cx }, className: "ship", score }) as Detection;
 * const m = matchDetections(gt, [det(30, 0.9), det(11, 0.8), det(10, 0.7)]);
 * assert.equal(m.prompts.get(7)!.cx, 11); // the better score wins; the far box matches nothing
 * assert.deepEqual(m.counts.get("ship"), { gt: 1, detections: 3, matched: 1 });
 * ```
 */
export function matchDetections(
  gt: readonly GtInstance[],
  detections: readonly Detection[],
  options: MatchDetectionsOptions = {},
): DetectionMatch {
  const threshold = options.iouThreshold ?? 0.5;
  const classOf = options.classOf ?? ((n: string) => n);
  const counts = new Map<string, MatchCounts>();
  const countsOf = (name: string) => {
    let c = counts.get(name);
    if (c === undefined) counts.set(name, c = { gt: 0, detections: 0, matched: 0 });
    return c;
  };
  const byClass = new Map<string, GtInstance[]>();
  for (const inst of gt) {
    const name = classOf(inst.className);
    countsOf(name).gt++;
    const list = byClass.get(name) ?? [];
    if (list.length === 0) byClass.set(name, list);
    list.push(inst);
  }
  const order = detections.map((d, i) => ({ d, i })).sort((a, b) =>
    (b.d.score ?? -Infinity) - (a.d.score ?? -Infinity) || a.i - b.i
  );
  const prompts = new Map<number, OrientedBox>();
  for (const { d } of order) {
    const name = classOf(d.className);
    const c = countsOf(name);
    c.detections++;
    let best: GtInstance | null = null;
    let bestIoU = threshold;
    for (const inst of byClass.get(name) ?? []) {
      if (prompts.has(inst.annotationId)) continue;
      const iou = orientedBoxIoU(d.box, inst.box);
      if (iou >= bestIoU) {
        best = inst;
        bestIoU = iou;
      }
    }
    if (best !== null) {
      prompts.set(best.annotationId, d.box);
      c.matched++;
    }
  }
  return { prompts, counts };
}
