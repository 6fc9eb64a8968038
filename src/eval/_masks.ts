/**
 * Mask helpers shared by the evaluation modules (not exported from mod.ts).
 *
 * @module
 */

import type { Point } from "../geometry/oriented_box.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import { rasterizePolygon } from "../masks/rasterize.ts";

/** An empty mask. */
export function emptyMask(): MaskWindow {
  return { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) };
}

/**
 * Inclusive fill of one ring with integer vertices, on the ring's bounding
 * window clipped to the image (an inclusive fill never leaves the vertices'
 * bounding box); `null` when that window is empty.
 */
export function fillInclusive(
  ring: readonly Point[],
  imageWidth: number,
  imageHeight: number,
): MaskWindow | null {
  let xmin = Infinity, ymin = Infinity, xmax = -Infinity, ymax = -Infinity;
  for (const p of ring) {
    if (p.x < xmin) xmin = p.x;
    if (p.x > xmax) xmax = p.x;
    if (p.y < ymin) ymin = p.y;
    if (p.y > ymax) ymax = p.y;
  }
  const x0 = Math.max(0, xmin), y0 = Math.max(0, ymin);
  const x1 = Math.min(imageWidth - 1, xmax), y1 = Math.min(imageHeight - 1, ymax);
  if (x1 < x0 || y1 < y0) return null;
  return rasterizePolygon([[...ring]], {
    x0,
    y0,
    width: x1 - x0 + 1,
    height: y1 - y0 + 1,
    rule: "inclusive",
  });
}

/** The union of mask windows, on their joint bounding window. */
export function unionWindows(windows: readonly MaskWindow[]): MaskWindow {
  const nonEmpty = windows.filter((w) => w.width > 0 && w.height > 0);
  if (nonEmpty.length === 0) return emptyMask();
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const x0 = Math.min(...nonEmpty.map((w) => w.x0));
  const y0 = Math.min(...nonEmpty.map((w) => w.y0));
  const x1 = Math.max(...nonEmpty.map((w) => w.x0 + w.width));
  const y1 = Math.max(...nonEmpty.map((w) => w.y0 + w.height));
  const width = x1 - x0;
  const data = new Uint8Array(width * (y1 - y0));
  for (const w of nonEmpty) {
    for (let y = 0; y < w.height; y++) {
      const dst = (y + w.y0 - y0) * width + (w.x0 - x0);
      for (let x = 0; x < w.width; x++) if (w.data[y * w.width + x]) data[dst + x] = 1;
    }
  }
  return { x0, y0, width, height: y1 - y0, data };
}
