/**
 * Polygons across the antimeridian in WGS84 output: RFC 7946 (3.1.9) asks that such a
 * geometry be cut in two so that neither part crosses it; written as is, a mask of a few
 * metres at longitude 180 becomes a polygon around the globe.
 *
 * @module
 */
import type { Position } from "./geojson_writer.ts";
import { openRing, roundTo, signedArea } from "./_positions.ts";

/**
 * Whether `ring` (longitude, latitude; open or closed) has a longitude past +-180 (a raster
 * in longitudes 0..360) or an edge that jumps more than 180 degrees of longitude: for a
 * mask, always the antimeridian between two close vertices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pastAntimeridian } from "./antimeridian.ts";
 *
 * assert.equal(pastAntimeridian([[179.9, 0], [-179.9, 0], [-179.9, 1]]), true);
 * assert.equal(pastAntimeridian([[180.1, 0], [180.2, 0], [180.2, 1]]), true);
 * assert.equal(pastAntimeridian([[10, 0], [11, 0], [11, 1]]), false);
 * ```
 */
export function pastAntimeridian(ring: readonly Position[]): boolean {
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!, b = ring[(i + 1) % ring.length]!;
    if (Math.abs(a[0]) > 180 || Math.abs(a[0] - b[0]) > 180) return true;
  }
  return false;
}

/**
 * Cuts a polygon (closed rings, shell first, longitudes made continuous: past 180 east of
 * the antimeridian) at longitude 180: the part west of it as is, the part east of it with
 * 360 taken from its longitudes. Each ring is clipped to each side (Sutherland-Hodgman; a
 * concave ring may leave a zero-width edge along the cut), the new vertices' latitudes
 * rounded to `decimals`. A side where the shell keeps no area is left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cutAtAntimeridian } from "./antimeridian.ts";
 * import type { Position } from "./geojson_writer.ts";
import { openRing, roundTo, signedArea } from "./_positions.ts";
 *
 * const square: Position[] = [[179.5, 0], [180.5, 0], [180.5, 1], [179.5, 1], [179.5, 0]];
 * assert.deepEqual(cutAtAntimeridian([square], 6), [
 *   [[[179.5, 0], [180, 0], [180, 1], [179.5, 1], [179.5, 0]]],
 *   [[[-180, 0], [-179.5, 0], [-179.5, 1], [-180, 1], [-180, 0]]],
 * ]);
 * ```
 */
export function cutAtAntimeridian(rings: readonly Position[][], decimals: number): Position[][][] {
  const out: Position[][][] = [];
  for (const side of ["west", "east"] as const) {
    const part: Position[][] = [];
    for (const ring of rings) {
      let clipped = clipRing(ring, side, decimals);
      if (clipped !== null && side === "east") {
        clipped = clipped.map(([x, y]) => [roundTo(x - 360, decimals), y]);
      }
      if (clipped === null) {
        if (part.length === 0) break; // no shell on this side: nothing of the polygon there
        continue;
      }
      part.push(clipped);
    }
    if (part.length > 0) out.push(part);
  }
  return out;
}

/** The closed ring clipped to longitude <= 180 (west) or >= 180 (east), closed; `null` without area. */
function clipRing(ring: readonly Position[], side: "west" | "east", decimals: number) {
  const inside = (p: Position) => side === "west" ? p[0] <= 180 : p[0] >= 180;
  const n = ring.length - 1; // closed: the last position repeats the first
  const cut: Position[] = [];
  for (let i = 0; i < n; i++) {
    const a = ring[i]!, b = ring[(i + 1) % n]!;
    if (inside(a)) cut.push([a[0], a[1]]);
    if (inside(a) !== inside(b) && a[0] !== 180 && b[0] !== 180) {
      const t = (180 - a[0]) / (b[0] - a[0]);
      cut.push([180, roundTo(a[1] + t * (b[1] - a[1]), decimals)]);
    }
  }
  const out = openRing(cut);
  if (out === null) return null;
  if (signedArea(out) === 0) return null;
  out.push([out[0]![0], out[0]![1]]);
  return out;
}
