import type { MaskWindow } from "../../src/masks/mask_window.ts";

/** IoU of two masks in the image frame (each a window of the image). */
export function maskIou(a: MaskWindow, b: MaskWindow): number {
  const x0 = Math.min(a.x0, b.x0), y0 = Math.min(a.y0, b.y0);
  const x1 = Math.max(a.x0 + a.width, b.x0 + b.width);
  const y1 = Math.max(a.y0 + a.height, b.y0 + b.height);
  const at = (m: MaskWindow, x: number, y: number) =>
    x >= m.x0 && y >= m.y0 && x < m.x0 + m.width && y < m.y0 + m.height &&
    m.data[(y - m.y0) * m.width + (x - m.x0)] === 1;
  let inter = 0, union = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = at(a, x, y), q = at(b, x, y);
      if (p && q) inter++;
      if (p || q) union++;
    }
  }
  return union === 0 ? 1 : inter / union;
}
