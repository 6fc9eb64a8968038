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
 * Cuts a polygon (closed rings, the shell counter-clockwise first, the holes clockwise;
 * longitudes made continuous: past 180 east of the antimeridian) at longitude 180 into
 * polygons that are valid on their own: those west of it as they are, those east of it with
 * 360 taken from their longitudes. A ring that crosses the line several times gives several
 * polygons; a hole across it becomes a notch in its shell. Positions on the line itself
 * belong to neither side's interior, so an edge along it (a raster whose pixel edges fall on
 * 180) is a boundary, never a zero-width spike; where rings then meet at a vertex, the pieces
 * of interior they enclose become polygons of their own. New vertices' latitudes are rounded to
 * `decimals` (a vertex of the input within half a unit of that rounding from a new one, or lying
 * on another ring's edge rather than at its vertex, as after simplification, can still touch a
 * ring where it should not; masks traced from pixels have neither).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cutAtAntimeridian } from "./antimeridian.ts";
 * import type { Position } from "./geojson_writer.ts";
 *
 * const square: Position[] = [[179.5, 0], [180.5, 0], [180.5, 1], [179.5, 1], [179.5, 0]];
 * assert.deepEqual(cutAtAntimeridian([square], 6), [
 *   [[[180, 1], [179.5, 1], [179.5, 0], [180, 0], [180, 1]]],
 *   [[[-180, 0], [-179.5, 0], [-179.5, 1], [-180, 1], [-180, 0]]],
 * ]);
 * ```
 */
export function cutAtAntimeridian(rings: readonly Position[][], decimals: number): Position[][][] {
  const west = keepSide(rings, (x) => x < 180, decimals);
  const east = keepSide(rings, (x) => x > 180, decimals).map((polygon) =>
    polygon.map((ring) => ring.map(([x, y]): Position => [roundTo(x - 360, decimals), y]))
  );
  return [...west, ...east];
}

/** A run of a ring inside one side: from where it enters, across the line, to where it leaves. */
type Piece = { points: Position[]; next: Piece | null };

/**
 * The polygons of `rings` on the side where `inside(longitude)` holds (the line itself is
 * outside). Each ring's runs inside the side are joined along the line: sorted by latitude,
 * the crossings bound the stretches of the line the polygon covers, and a run that leaves at
 * one end of such a stretch is followed by the run that enters at its other end. The joined
 * rings and the holes wholly on this side are then retraced into simple loops
 * ({@linkcode faceLoops}, {@linkcode simpleLoops}); counter-clockwise loops are shells, clockwise ones
 * holes, each hole in the shell around it.
 */
function keepSide(
  rings: readonly Position[][],
  inside: (x: number) => boolean,
  decimals: number,
): Position[][][] {
  const whole: Position[][] = [];
  const pieces: Piece[] = [];
  const ends: { y: number; piece: Piece; leaves: boolean }[] = [];
  for (const ring of rings) {
    const n = ring.length - 1; // closed: the last position repeats the first
    const start = ring.slice(0, n).findIndex((p) => !inside(p[0]));
    if (start < 0) {
      whole.push(ring);
      continue;
    }
    let piece: Piece | null = null;
    for (let k = 0; k < n; k++) {
      const a = ring[(start + k) % n]!, b = ring[(start + k + 1) % n]!;
      if (inside(a[0]) !== inside(b[0])) {
        // (an endpoint on the line is the crossing itself: its latitude as it is)
        const t = (180 - a[0]) / (b[0] - a[0]);
        const y = a[0] === 180
          ? a[1]
          : b[0] === 180
          ? b[1]
          : roundTo(a[1] + t * (b[1] - a[1]), decimals);
        const at: Position = [180, y];
        if (piece === null) {
          piece = { points: [at], next: null };
          pieces.push(piece);
          ends.push({ y: at[1], piece, leaves: false });
        } else {
          piece.points.push(at);
          ends.push({ y: at[1], piece, leaves: true });
          piece = null;
        }
      }
      if (piece !== null && inside(b[0])) piece.points.push([b[0], b[1]]);
    }
  }
  // a shell wholly on this side has its holes with it
  if (whole[0] === rings[0]) return [[...rings]];
  // Pair the crossings along the line; where two share a latitude (a vertex touching the
  // line), put the one that completes a pair of a leaving and an entering run first.
  ends.sort((p, q) => p.y - q.y);
  for (let i = 0; i + 1 < ends.length; i += 2) {
    const p = ends[i]!;
    if (p.leaves === ends[i + 1]!.leaves) {
      const y = ends[i + 1]!.y;
      const j = ends.findIndex((e, k) => k > i + 1 && e.y === y && e.leaves !== p.leaves);
      if (j < 0) {
        // Not a valid polygon's crossings (rings that cross each other): each run closed
        // along the line on its own, so that nothing of the mask is dropped.
        for (const piece of pieces) piece.next = piece;
        break;
      }
      [ends[i + 1], ends[j]] = [ends[j]!, ends[i + 1]!];
    }
    const q = ends[i + 1]!;
    if (p.leaves) p.piece.next = q.piece;
    else q.piece.next = p.piece;
  }
  const traced: Position[][] = whole.map((hole) => hole.slice(0, -1)); // holes wholly here
  const used = new Set<Piece>();
  for (const first of pieces) {
    if (used.has(first)) continue;
    const joined: Position[] = [];
    for (let p: Piece | null = first; p !== null && !used.has(p); p = p.next) {
      used.add(p);
      joined.push(...p.points);
    }
    traced.push(joined);
  }
  const shells: Position[][] = [];
  const holes: Position[][] = [];
  for (const loop of faceLoops(traced).flatMap(simpleLoops)) {
    const area = signedArea(loop);
    if (area === 0) continue;
    loop.push([loop[0]![0], loop[0]![1]]);
    (area > 0 ? shells : holes).push(loop);
  }
  const polygons = shells.map((shell) => [shell]);
  for (const hole of holes) {
    const probe = insidePoint(hole);
    polygons.find(([shell]) => containsPoint(shell!, probe))?.push(hole);
  }
  return polygons;
}

/**
 * The boundary of the region the open `rings` enclose (each with the region on its left),
 * retraced as simple loops: where rings meet or a ring passes a position twice (a hole that
 * touched its shell became part of a notch), the walk turns onto the first edge clockwise from
 * the one it came in by, so each loop bounds one connected piece of the interior, or one hole.
 */
function faceLoops(rings: readonly Position[][]): Position[][] {
  type Edge = { from: Position; to: Position; used: boolean };
  const key = (p: Position) => `${p[0]},${p[1]}`;
  const out = new Map<string, Edge[]>();
  const edges: Edge[] = [];
  for (const positions of rings) {
    const ring = openRing(positions);
    if (ring === null) continue;
    ring.forEach((from, i) => {
      const edge = { from, to: ring[(i + 1) % ring.length]!, used: false };
      edges.push(edge);
      const list = out.get(key(from));
      if (list) list.push(edge);
      else out.set(key(from), [edge]);
    });
  }
  const loops: Position[][] = [];
  for (const start of edges) {
    if (start.used) continue;
    const loop: Position[] = [];
    for (let e: Edge = start; !e.used;) {
      e.used = true;
      loop.push(e.from);
      const back = Math.atan2(e.from[1] - e.to[1], e.from[0] - e.to[0]);
      let next: Edge | null = null, turn = Infinity;
      for (const f of out.get(key(e.to)) ?? []) {
        // clockwise angle from the way back to f, in (0, 2 pi]
        let a = back - Math.atan2(f.to[1] - f.from[1], f.to[0] - f.from[0]);
        while (a <= 0) a += 2 * Math.PI;
        while (a > 2 * Math.PI) a -= 2 * Math.PI;
        if (a < turn && (!f.used || f === start)) [next, turn] = [f, a];
      }
      if (next === null) break;
      e = next;
    }
    const ring = openRing(loop);
    if (ring !== null) loops.push(ring);
  }
  return loops;
}

/**
 * An open ring cut into loops where it passes a position twice (after {@linkcode faceLoops},
 * a hole that touched its shell at one vertex and was walked into it): each loop simple.
 */
function simpleLoops(positions: readonly Position[]): Position[][] {
  const ring = openRing(positions);
  if (ring === null) return [];
  const loops: Position[][] = [];
  const path: Position[] = [];
  const at = new Map<string, number>();
  for (const p of ring) {
    const key = `${p[0]},${p[1]}`;
    const seen = at.get(key);
    if (seen === undefined) {
      at.set(key, path.length);
      path.push(p);
      continue;
    }
    const loop = path.splice(seen + 1);
    for (const q of loop) at.delete(`${q[0]},${q[1]}`);
    loop.unshift(p);
    const open = openRing(loop);
    if (open !== null) loops.push(open);
  }
  const rest = openRing(path);
  if (rest !== null) loops.push(rest);
  return loops;
}

/** A point strictly inside a clockwise `ring`: just right of its longest edge's middle. */
function insidePoint(ring: readonly Position[]): Position {
  let best = 0, length = -1;
  for (let i = 0; i + 1 < ring.length; i++) {
    const d = Math.hypot(ring[i + 1]![0] - ring[i]![0], ring[i + 1]![1] - ring[i]![1]);
    if (d > length) [best, length] = [i, d];
  }
  const [a, b] = [ring[best]!, ring[best + 1]!];
  const e = 1e-6; // of the edge's length, to its right
  return [(a[0] + b[0]) / 2 + e * (b[1] - a[1]), (a[1] + b[1]) / 2 - e * (b[0] - a[0])];
}

/** Whether `p` lies inside the closed `ring` (even-odd rule). */
function containsPoint(ring: readonly Position[], p: Position): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 2; i < ring.length - 1; j = i++) {
    const [xi, yi] = ring[i]!, [xj, yj] = ring[j]!;
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}
