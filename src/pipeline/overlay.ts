/**
 * A quick visual check: the image with every mask tinted and outlined and
 * every prompt box drawn, as PNG.
 *
 * @module
 */
import { encode } from "fast-png";
import { boxCorners, type OrientedBox } from "../geometry/oriented_box.ts";
import type { MaskWindow } from "../masks/mask_window.ts";
import type { Georef, RasterSource } from "../raster/source.ts";

/** Largest image (pixels) an overlay is drawn for; it reads the whole image. */
export const OVERLAY_MAX_PIXELS = 64e6;

const COLORS: readonly [number, number, number][] = [
  [255, 64, 64],
  [64, 220, 64],
  [80, 140, 255],
  [255, 200, 40],
  [230, 80, 230],
  [40, 220, 220],
];

/** Draw masks and boxes over the image; `null` when the image is too large. */
export async function renderOverlay(
  source: RasterSource,
  items: { masks: readonly MaskWindow[]; boxes: readonly OrientedBox[] },
): Promise<Uint8Array | null> {
  const W = source.width, H = source.height;
  if (W * H > OVERLAY_MAX_PIXELS) return null;
  const rgb = (await source.readWindow([0, 0, W, H])).data;
  const img = new Uint8Array(rgb);
  items.masks.forEach((m, k) => {
    const [r, g, b] = COLORS[k % COLORS.length]!;
    for (let y = 0; y < m.height; y++) {
      for (let x = 0; x < m.width; x++) {
        if (!m.data[y * m.width + x]) continue;
        const gx = m.x0 + x, gy = m.y0 + y;
        if (gx < 0 || gy < 0 || gx >= W || gy >= H) continue;
        const edge = x === 0 || y === 0 || x === m.width - 1 || y === m.height - 1 ||
          !m.data[y * m.width + x - 1] || !m.data[y * m.width + x + 1] ||
          !m.data[(y - 1) * m.width + x] || !m.data[(y + 1) * m.width + x];
        const i = 3 * (gy * W + gx);
        const a = edge ? 1 : 0.4;
        img[i] = img[i]! * (1 - a) + r * a;
        img[i + 1] = img[i + 1]! * (1 - a) + g * a;
        img[i + 2] = img[i + 2]! * (1 - a) + b * a;
      }
    }
  });
  // Prompt boxes as thin yellow lines.
  for (const box of items.boxes) {
    const c = boxCorners(box);
    for (let k = 0; k < 4; k++) {
      const p = c[k]!, q = c[(k + 1) % 4]!;
      const steps = Math.ceil(Math.hypot(q.x - p.x, q.y - p.y) * 2) + 1;
      for (let s = 0; s <= steps; s++) {
        const x = Math.floor(p.x + ((q.x - p.x) * s) / steps);
        const y = Math.floor(p.y + ((q.y - p.y) * s) / steps);
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        img.set([255, 255, 0], 3 * (y * W + x));
      }
    }
  }
  return encode({ width: W, height: H, data: img, channels: 3 });
}

/**
 * The sidecars that put an overlay of a georeferenced raster on the map in GIS tools: the world
 * file (`<name>.pgw`: the pixel grid, centre of the top-left pixel) and GDAL's `.aux.xml` naming
 * the CRS (WKT, else `EPSG:<code>`; none when the raster names no CRS).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlaySidecars } from "./overlay.ts";
 *
 * const s = overlaySidecars({ geoTransform: [500000, 0.5, 0, 4000000, 0, -0.5], epsg: 32633, wkt: null });
 * assert.equal(s.worldFile, "0.5\n0\n0\n-0.5\n500000.25\n3999999.75\n");
 * assert.match(s.auxXml!, /<SRS>EPSG:32633<\/SRS>/);
 * ```
 */
export function overlaySidecars(georef: Georef): { worldFile: string; auxXml: string | null } {
  const [x0, a, b, y0, d, e] = georef.geoTransform;
  const worldFile = [a, d, b, e, x0 + a / 2 + b / 2, y0 + d / 2 + e / 2].map(String).join("\n") +
    "\n";
  const srs = georef.wkt ?? (georef.epsg === null ? null : `EPSG:${georef.epsg}`);
  const escaped = srs?.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const auxXml = escaped === undefined
    ? null
    : `<PAMDataset>\n  <SRS>${escaped}</SRS>\n</PAMDataset>\n`;
  return { worldFile, auxXml };
}
