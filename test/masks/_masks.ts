// Helpers shared by the mask tests.

import type { MaskWindow } from "../../src/masks/mask_window.ts";

/** A mask from rows of "#" (foreground) and "." (background). */
export function fromRows(rows: readonly string[], x0 = 0, y0 = 0): MaskWindow {
  const height = rows.length, width = rows[0]?.length ?? 0;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) data[y * width + x] = row[x] === "#" ? 1 : 0;
  });
  return { x0, y0, width, height, data };
}

/** The rows of a mask as "#"/"." strings. */
export function toRows(mask: MaskWindow): string[] {
  const rows: string[] = [];
  for (let y = 0; y < mask.height; y++) {
    let s = "";
    for (let x = 0; x < mask.width; x++) s += mask.data[y * mask.width + x] ? "#" : ".";
    rows.push(s);
  }
  return rows;
}

/** A random mask: blobs (random fill smoothed by a majority vote) or plain noise. */
export function randomMask(
  rand: () => number,
  width: number,
  height: number,
  density: number,
  smooth: boolean,
): Uint8Array {
  let data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rand() < density ? 1 : 0;
  if (smooth) {
    const next = new Uint8Array(data.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let n = 0, c = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
            c++;
            n += data[yy * width + xx]!;
          }
        }
        next[y * width + x] = 2 * n > c ? 1 : 0;
      }
    }
    data = next;
  }
  return data;
}

/** Number of 4- or 8-connected foreground components (reference flood fill). */
export function countComponents(mask: MaskWindow, connectivity: 4 | 8): number {
  const { width, height, data } = mask;
  const seen = new Uint8Array(width * height);
  let count = 0;
  for (let s = 0; s < data.length; s++) {
    if (!data[s] || seen[s]) continue;
    count++;
    const todo = [s];
    seen[s] = 1;
    while (todo.length > 0) {
      const p = todo.pop()!;
      const x = p % width, y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue;
          const xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const q = yy * width + xx;
          if (data[q] && !seen[q]) {
            seen[q] = 1;
            todo.push(q);
          }
        }
      }
    }
  }
  return count;
}
