/**
 * Connected-component clean-up of a predicted mask around its prompt.
 *
 * @module
 */

import type { OrientedBox } from "../geometry/oriented_box.ts";
import { assertMaskWindow, type MaskWindow } from "./mask_window.ts";

/**
 * Keeps the 8-connected foreground components of a mask that overlap the
 * prompt's oriented box, and drops the others (stray blobs that the model put
 * on neighbouring objects). A pixel overlaps the box when its centre lies in
 * the box grown by half a pixel on every side, so thin or slightly offset
 * boxes still catch the pixels they touch. When no component overlaps, the
 * largest one is kept (ties: the first in row-major order), so a non-empty
 * mask never comes back empty.
 *
 * @example Usage
 * ```ts
 * import { keepPromptComponents } from "./components.ts";
 * import assert from "node:assert/strict";
 *
 * // Two blobs in a 5 x 1 window at x0 = 10; the box covers the right one.
 * const mask = { x0: 10, y0: 0, width: 5, height: 1, data: Uint8Array.of(1, 1, 0, 0, 1) };
 * const box = { cx: 14.5, cy: 0.5, width: 1, height: 1, angle: 0 };
 * assert.deepEqual(Array.from(keepPromptComponents(mask, box).data), [0, 0, 0, 0, 1]);
 * ```
 *
 * @param mask The mask (not modified).
 * @param box The prompt box in the pixel frame.
 * @returns A new mask over the same window.
 */
export function keepPromptComponents(mask: MaskWindow, box: OrientedBox): MaskWindow {
  assertMaskWindow(mask, "keep the prompt's components");
  const { width, height, data } = mask;
  const n = width * height;
  const labels = new Int32Array(n); // 0 = unvisited or background, else component id
  const stack = new Int32Array(n);
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  const hw = box.width / 2 + 0.5, hh = box.height / 2 + 0.5;
  // Pixel centre relative to the box centre, in pixel-frame units.
  const ox = mask.x0 + 0.5 - box.cx, oy = mask.y0 + 0.5 - box.cy;

  let count = 0;
  const hits: number[] = [];
  const sizes: number[] = [];
  for (let start = 0; start < n; start++) {
    if (data[start] === 0 || labels[start] !== 0) continue;
    const id = ++count;
    let top = 0, size = 0, hit = false;
    stack[top++] = start;
    labels[start] = id;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const y = (p / width) | 0, x = p - y * width;
      if (!hit) {
        const dx = ox + x, dy = oy + y;
        const u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
        hit = Math.abs(u) <= hw && Math.abs(v) <= hh;
      }
      const xl = x > 0 ? x - 1 : x, xr = x < width - 1 ? x + 1 : x;
      const yt = y > 0 ? y - 1 : y, yb = y < height - 1 ? y + 1 : y;
      for (let yy = yt; yy <= yb; yy++) {
        const row = yy * width;
        for (let xx = xl; xx <= xr; xx++) {
          const q = row + xx;
          if (data[q] !== 0 && labels[q] === 0) {
            labels[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    hits.push(hit ? 1 : 0);
    sizes.push(size);
  }

  const keep = new Uint8Array(count + 1);
  let any = false;
  for (let c = 1; c <= count; c++) {
    if (hits[c - 1] === 1) {
      keep[c] = 1;
      any = true;
    }
  }
  if (!any && count > 0) {
    let best = 1;
    for (let c = 2; c <= count; c++) if (sizes[c - 1]! > sizes[best - 1]!) best = c;
    keep[best] = 1;
  }
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) out[p] = keep[labels[p]!]!;
  return { x0: mask.x0, y0: mask.y0, width, height, data: out };
}
