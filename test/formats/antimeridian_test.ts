import assert from "node:assert/strict";
import { cutAtAntimeridian } from "../../src/formats/antimeridian.ts";
import { signedArea } from "../../src/formats/_positions.ts";
import type { Position } from "../../src/formats/geojson_writer.ts";
import { traceMask } from "../../src/masks/polygon.ts";

type Segment = [Position, Position];

/** Whether two segments share any point (crossing, touching or overlapping). */
function meet([a, b]: Segment, [c, d]: Segment): boolean {
  const cross = (o: Position, p: Position, q: Position) =>
    (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]);
  const within = (p: Position, q: Position, r: Position) =>
    Math.min(p[0], q[0]) <= r[0] && r[0] <= Math.max(p[0], q[0]) &&
    Math.min(p[1], q[1]) <= r[1] && r[1] <= Math.max(p[1], q[1]);
  const d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) {
    return true;
  }
  return (d1 === 0 && within(c, d, a)) || (d2 === 0 && within(c, d, b)) ||
    (d3 === 0 && within(a, b, c)) || (d4 === 0 && within(a, b, d));
}

/**
 * OGC validity, as far as these tests need it: closed rings, shells counter-clockwise and holes
 * clockwise, no ring touching or crossing itself, rings of one polygon meeting at most at a
 * vertex, and every longitude on one side of the line.
 */
function assertValid(polygons: Position[][][]) {
  for (const polygon of polygons) {
    const edges: { ring: number; i: number; n: number; s: Segment }[] = [];
    polygon.forEach((ring, r) => {
      assert.deepEqual(ring[0], ring[ring.length - 1], "closed");
      assert.ok(ring.length >= 4, "at least a triangle");
      assert.ok(r === 0 ? signedArea(ring) > 0 : signedArea(ring) < 0, "orientation");
      const west = ring.every(([x]) => x <= 180 && x >= 0), east = ring.every(([x]) => x < 0);
      assert.ok(west || east, `one side of 180: ${JSON.stringify(ring)}`);
      for (let i = 0; i + 1 < ring.length; i++) {
        edges.push({ ring: r, i, n: ring.length - 1, s: [ring[i]!, ring[i + 1]!] });
      }
    });
    for (let a = 0; a < edges.length; a++) {
      for (let b = a + 1; b < edges.length; b++) {
        const e = edges[a]!, f = edges[b]!;
        if (!meet(e.s, f.s)) continue;
        const neighbours = e.ring === f.ring &&
          (f.i === e.i + 1 || (e.i === 0 && f.i === e.n - 1));
        if (neighbours) {
          // neighbours share their common vertex only (no fold back along each other)
          const [p, q] = e.i + 1 === f.i ? [e.s[0], f.s[1]] : [f.s[0], e.s[1]];
          const shared = e.i + 1 === f.i ? e.s[1] : e.s[0];
          const c = (q[0] - shared[0]) * (p[1] - shared[1]) -
            (q[1] - shared[1]) * (p[0] - shared[0]);
          const back = (q[0] - shared[0]) * (p[0] - shared[0]) +
            (q[1] - shared[1]) * (p[1] - shared[1]);
          assert.ok(c !== 0 || back < 0, `a ring folds back at ${shared}`);
          continue;
        }
        const touch = e.ring !== f.ring &&
          e.s.some((p) => f.s.some((q) => p[0] === q[0] && p[1] === q[1]));
        assert.ok(touch, `edges ${JSON.stringify(e.s)} and ${JSON.stringify(f.s)} meet`);
      }
    }
  }
  assertConnectedInterior(polygons);
}

/** Points where two rings touch (a vertex of one on the other, shared vertices once). */
function touchPoints(r: Position[], s: Position[]): Set<string> {
  const on = (p: Position, a: Position, b: Position) =>
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) === 0 &&
    Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  const out = new Set<string>();
  for (const [x, y] of [[r, s], [s, r]] as const) {
    for (const p of x.slice(0, -1)) {
      for (let i = 0; i + 1 < y.length; i++) if (on(p, y[i]!, y[i + 1]!)) out.add(`${p}`);
    }
  }
  return out;
}

/** OGC: a polygon's interior is connected: its rings' touch points make no cycle of rings. */
function assertConnectedInterior(polygons: Position[][][]) {
  for (const polygon of polygons) {
    const parent = polygon.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
    for (let i = 0; i < polygon.length; i++) {
      for (let j = i + 1; j < polygon.length; j++) {
        for (const p of touchPoints(polygon[i]!, polygon[j]!)) {
          const a = find(i), b = find(j);
          assert.ok(a !== b, `rings touch in a cycle at ${p}: the interior is not connected`);
          parent[a] = b;
        }
      }
    }
  }
}

/** Total area, the east polygons moved back past 180. */
function area(polygons: Position[][][]): number {
  return polygons.flat().reduce((sum, ring) => {
    const east = ring.every(([x]) => x < 0);
    return sum + signedArea(east ? ring.map(([x, y]): Position => [x + 360, y]) : ring);
  }, 0);
}

const closed = (ring: Position[]): Position[] => [...ring, ring[0]!];

Deno.test("cutAtAntimeridian() gives one polygon per piece when a ring crosses the line four times", () => {
  // a C open to the east: its two arms cross 180, its back stays west of it
  const c = closed([[179, 0], [181, 0], [181, 1], [179.5, 1], [179.5, 2], [181, 2], [181, 3], [
    179,
    3,
  ]]);
  const cut = cutAtAntimeridian([c], 6);
  assertValid(cut);
  const west = cut.filter((p) => p[0]![0]![0]! > 0), east = cut.filter((p) => p[0]![0]![0]! < 0);
  assert.equal(west.length, 1, "the back and both arms' west parts are one piece");
  assert.equal(east.length, 2, "each arm's east part is its own polygon");
  assert.ok(Math.abs(area(cut) - signedArea(c)) < 1e-9);
});

Deno.test("cutAtAntimeridian() turns a hole across the line into notches of its shell", () => {
  const shell = closed([[179, 0], [181, 0], [181, 3], [179, 3]]);
  const hole = closed([[179.5, 1], [179.5, 2], [180.5, 2], [180.5, 1]]); // clockwise
  const cut = cutAtAntimeridian([shell, hole], 6);
  assertValid(cut);
  assert.equal(cut.length, 2);
  for (const polygon of cut) assert.equal(polygon.length, 1, "no hole left touching the cut");
  assert.ok(Math.abs(area(cut) - (signedArea(shell) + signedArea(hole))) < 1e-9);
});

Deno.test("cutAtAntimeridian() keeps a hole wholly on one side inside its piece", () => {
  const shell = closed([[179, 0], [181, 0], [181, 3], [179, 3]]);
  const hole = closed([[179.2, 1], [179.2, 2], [179.6, 2], [179.6, 1]]);
  const cut = cutAtAntimeridian([shell, hole], 6);
  assertValid(cut);
  const west = cut.find((p) => p[0]![0]![0]! > 0)!;
  assert.equal(west.length, 2, "the west piece keeps the hole");
  assert.ok(Math.abs(area(cut) - (signedArea(shell) + signedArea(hole))) < 1e-9);
});

Deno.test("cutAtAntimeridian() makes edges along the line boundaries, not spikes (pixel edges on 180)", () => {
  // a staircase mask traced on a grid whose column edge falls on 180: vertices and a whole
  // edge on the line, the mask on both sides of it
  const stairs = closed([
    [179.998, 0],
    [180.002, 0],
    [180.002, 0.001],
    [180, 0.001],
    [180, 0.002],
    [180.001, 0.002],
    [180.001, 0.003],
    [179.998, 0.003],
  ]);
  const cut = cutAtAntimeridian([stairs], 6);
  assertValid(cut);
  assert.equal(cut.length, 3, "one west piece, two east pieces (split where the edge runs on 180)");
  assert.ok(Math.abs(area(cut) - signedArea(stairs)) < 1e-12);
  // a mask whose east edge lies on the line: all of it west, nothing east
  const flush = closed([[179.998, 0], [180, 0], [180, 0.001], [179.998, 0.001]]);
  const westOnly = cutAtAntimeridian([flush], 6);
  assert.equal(westOnly.length, 1);
  assertValid(westOnly);
  assert.ok(westOnly[0]![0]!.every(([x]) => x > 0));
  assert.ok(Math.abs(area(westOnly) - signedArea(flush)) < 1e-12);
  // and one whose west edge lies on it: all of it east
  const eastOnly = cutAtAntimeridian([
    closed([[180, 0], [180.002, 0], [180.002, 0.001], [180, 0.001]]),
  ], 6);
  assert.equal(eastOnly.length, 1);
  assertValid(eastOnly);
});

Deno.test("cutAtAntimeridian() joins the runs of a ring that touches the line at one vertex", () => {
  // west of the line but for one vertex on it, and a second lobe across it
  const ring = closed([[179, 0], [180, 0.5], [179.5, 1], [180.5, 1], [180.5, 2], [179, 2]]);
  const cut = cutAtAntimeridian([ring], 6);
  assertValid(cut);
  assert.ok(Math.abs(area(cut) - signedArea(ring)) < 1e-9);
});

Deno.test("cutAtAntimeridian() splits off a pocket a hole closes against a notch (review case)", () => {
  // a hole wholly west of the line touches the shell at a vertex and, at another, the notch
  // the crossing hole leaves: the west interior between them is its own polygon
  const rings: Position[][] = [
    [
      [179.9996, 9.9995],
      [180.0003, 9.9995],
      [180.0003, 10],
      [179.9998, 10],
      [179.9998, 9.9999],
      [179.9997, 9.9999],
      [179.9997, 10],
      [179.9996, 10],
      [179.9996, 9.9995],
    ],
    [[180.0001, 9.9998], [180.0001, 9.9997], [179.9999, 9.9997], [179.9999, 9.9998], [
      180.0001,
      9.9998,
    ]],
    [[179.9999, 9.9999], [179.9999, 9.9998], [179.9998, 9.9998], [179.9998, 9.9999], [
      179.9999,
      9.9999,
    ]],
  ];
  const cut = cutAtAntimeridian(rings, 8);
  assertValid(cut);
  const want = rings.reduce((sum, ring) => sum + signedArea(ring), 0);
  assert.ok(Math.abs(area(cut) - want) < 1e-9 * Math.abs(want));
});

Deno.test("cutAtAntimeridian() gives valid pieces of the same area for random traced masks", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const px = 1e-4;
  for (let trial = 0; trial < 300; trial++) {
    const width = 3 + Math.floor(random() * 8), height = 3 + Math.floor(random() * 6);
    const data = Uint8Array.from({ length: width * height }, () => (random() < 0.6 ? 1 : 0));
    // the line on a pixel edge (half the trials) or through pixel centres
    const column = 1 + Math.floor(random() * (width - 1)) + (trial % 2 ? 0 : 0.5);
    for (const polygon of traceMask({ x0: 0, y0: 0, width, height, data })) {
      const rings = polygon.map((ring, i) => {
        const r: Position[] = ring.map((p) => [180 + (p.x - column) * px, 10 - p.y * px]);
        if ((signedArea(r) > 0) !== (i === 0)) r.reverse();
        return closed(r);
      });
      const cut = cutAtAntimeridian(rings, 12);
      const context = `trial ${trial}: ${JSON.stringify(rings)}`;
      try {
        assertValid(cut);
      } catch (e) {
        throw new Error(`${context}\n${(e as Error).message}`);
      }
      const want = rings.reduce((sum, ring) => sum + signedArea(ring), 0);
      assert.ok(Math.abs(area(cut) - want) < 1e-9 * Math.abs(want) + 1e-16, context);
    }
  }
});
