/**
 * Rounding and ring area of output positions, shared by the GeoJSON writer and the
 * antimeridian cut.
 *
 * @module
 */
import type { Position } from "./geojson_writer.ts";

/** `value` rounded to `decimals` decimals; never -0. */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(value * f) / f;
  return r === 0 ? 0 : r; // no -0
}

/** The shoelace area of a ring (open or closed), positive when counter-clockwise with y up. */
export function signedArea(ring: readonly Position[]): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i] as Position;
    const [x1, y1] = ring[(i + 1) % ring.length] as Position;
    sum += x0 * y1 - x1 * y0;
  }
  return sum / 2;
}

/**
 * `positions` as an open ring: repeated neighbours dropped, and last positions that repeat the
 * first; `null` when fewer than 3 are left.
 */
export function openRing(positions: readonly Position[]): Position[] | null {
  const out: Position[] = [];
  for (const p of positions) {
    const prev = out[out.length - 1];
    if (prev === undefined || prev[0] !== p[0] || prev[1] !== p[1]) out.push(p);
  }
  while (out.length > 1) {
    const first = out[0] as Position;
    const last = out[out.length - 1] as Position;
    if (first[0] !== last[0] || first[1] !== last[1]) break;
    out.pop();
  }
  return out.length < 3 ? null : out;
}
