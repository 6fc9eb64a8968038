import { assert, seededRandom } from "../_assert.ts";
import { type Polygon, ringArea, simplifyPolygon, traceMask } from "../../src/masks/polygon.ts";
import { rasterizePolygon } from "../../src/masks/rasterize.ts";
import type { MaskWindow } from "../../src/masks/mask_window.ts";
import { countComponents, fromRows, randomMask } from "./_masks.ts";

const xy = (poly: Polygon) => poly.map((ring) => ring.map((p) => [p.x, p.y]));

/** Checks the structural promises of traceMask's output. */
function assertWellFormed(polys: Polygon[]): void {
  for (const poly of polys) {
    assert.ok(poly.length >= 1);
    poly.forEach((ring, r) => {
      assert.ok(ring.length >= 4, "a ring has at least 4 vertices");
      const area = ringArea(ring);
      assert.ok(r === 0 ? area > 0 : area < 0, `ring ${r} has area ${area}`);
      const keys = new Set(ring.map((p) => `${p.x},${p.y}`));
      assert.equal(keys.size, ring.length, "no repeated vertex in a ring");
      for (let i = 0; i < ring.length; i++) {
        const a = ring[(i + ring.length - 1) % ring.length]!, b = ring[i]!;
        const c = ring[(i + 1) % ring.length]!;
        assert.ok(Number.isInteger(b.x) && Number.isInteger(b.y));
        assert.ok(a.x === b.x || a.y === b.y, "edges are axis-aligned");
        const cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
        assert.notEqual(cross, 0, "no collinear vertex");
      }
    });
  }
}

function roundTrip(mask: MaskWindow): void {
  const polys = traceMask(mask);
  assertWellFormed(polys);
  assert.equal(polys.length, countComponents(mask, 4), "one polygon per 4-connected component");
  const back = new Uint8Array(mask.data.length);
  let area = 0;
  for (const poly of polys) {
    area += poly.reduce((s, ring) => s + ringArea(ring), 0);
    const m = rasterizePolygon(poly, {
      x0: mask.x0,
      y0: mask.y0,
      width: mask.width,
      height: mask.height,
      rule: "center",
    });
    for (let i = 0; i < back.length; i++) {
      assert.ok(!(back[i] && m.data[i]), "polygons do not overlap");
      back[i]! |= m.data[i]!;
    }
  }
  assert.deepEqual(back, mask.data);
  assert.equal(area, mask.data.reduce((s, v) => s + v, 0));
}

Deno.test("traceMask() traces a pixel along its edges", () => {
  const polys = traceMask(fromRows(["...", ".#.", "..."], 10, 20));
  assert.deepEqual(polys.map(xy), [[[[11, 21], [12, 21], [12, 22], [11, 22]]]]);
  assert.equal(ringArea(polys[0]![0]!), 1);
});

Deno.test("traceMask() keeps holes, oriented against the outer ring", () => {
  const polys = traceMask(fromRows(["#####", "#..##", "#..##", "#####"]));
  assert.equal(polys.length, 1);
  assert.deepEqual(xy(polys[0]!), [
    [[0, 0], [5, 0], [5, 4], [0, 4]],
    [[1, 3], [3, 3], [3, 1], [1, 1]],
  ]);
  assert.equal(ringArea(polys[0]![1]!), -4);
});

Deno.test("traceMask() separates pixels that touch only at a corner", () => {
  const polys = traceMask(fromRows(["#.", ".#"]));
  assert.deepEqual(polys.map(xy), [
    [[[0, 0], [1, 0], [1, 1], [0, 1]]],
    [[[1, 1], [2, 1], [2, 2], [1, 2]]],
  ]);
});

Deno.test("traceMask() splits a boundary that touches itself into a shell and a hole", () => {
  // The background pixel (1, 1) touches the outside only at the corner (2, 1).
  const polys = traceMask(fromRows(["##.", "#.#", "###"]));
  assert.equal(polys.length, 1);
  assertWellFormed(polys);
  const [shell, hole] = polys[0]!;
  assert.equal(polys[0]!.length, 2);
  assert.equal(ringArea(shell!), 8);
  assert.deepEqual(
    hole!.map((p) => `${p.x},${p.y}`).sort(),
    ["1,1", "1,2", "2,1", "2,2"],
  );
  // Two holes meeting at a corner stay two holes.
  const two = traceMask(fromRows(["####", "#.##", "##.#", "####"]));
  assert.equal(two.length, 1);
  assertWellFormed(two);
  assert.deepEqual(two[0]!.slice(1).map(ringArea), [-1, -1]);
});

Deno.test("traceMask() round trips through rasterizePolygon(center) on random masks", () => {
  const rand = seededRandom(61);
  for (let t = 0; t < 300; t++) {
    const width = 1 + Math.floor(rand() * 24), height = 1 + Math.floor(rand() * 24);
    const density = [0.1, 0.35, 0.5, 0.65, 0.9][t % 5]!;
    const data = randomMask(rand, width, height, density, t % 2 === 0);
    roundTrip({
      x0: Math.floor(rand() * 50) - 10,
      y0: Math.floor(rand() * 50) - 10,
      width,
      height,
      data,
    });
  }
  // Checkerboards: every pixel touches its neighbours only diagonally.
  const data = new Uint8Array(9 * 7).map((_, i) => ((i % 9) + Math.floor(i / 9)) % 2);
  const board = { x0: 0, y0: 0, width: 9, height: 7, data };
  roundTrip(board);
  assert.equal(traceMask(board).length, 31);
});

Deno.test("traceMask() handles empty and full windows", () => {
  assert.deepEqual(traceMask({ x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) }), []);
  assert.deepEqual(traceMask(fromRows(["...", "..."])), []);
  assert.deepEqual(traceMask(fromRows(["###", "###"], 5, 6)).map(xy), [
    [[[5, 6], [8, 6], [8, 8], [5, 8]]],
  ]);
  assert.throws(
    () => traceMask({ x0: 0, y0: 0, width: 2, height: 2, data: new Uint8Array(3) }),
    { name: "RangeError", message: "Cannot trace a mask: data has 3 pixels, expected 2 x 2 = 4" },
  );
});

Deno.test("simplifyPolygon() at tolerance 0 keeps traced polygons as they are", () => {
  const rand = seededRandom(62);
  for (let t = 0; t < 50; t++) {
    const data = randomMask(rand, 16, 16, 0.5, true);
    for (const poly of traceMask({ x0: 0, y0: 0, width: 16, height: 16, data })) {
      assert.deepEqual(simplifyPolygon(poly, 0), poly);
    }
  }
});

Deno.test("simplifyPolygon() drops vertices within the tolerance", () => {
  // A staircase diagonal: 10 steps of one pixel.
  const rows = Array.from({ length: 10 }, (_, y) => "#".repeat(y + 1) + ".".repeat(9 - y));
  const [poly] = traceMask(fromRows(rows));
  assert.equal(poly![0]!.length, 22);
  const simple = simplifyPolygon(poly!, 1);
  assert.equal(simple.length, 1);
  const ring = simple[0]!;
  assert.ok(ring.length >= 3 && ring.length < 22);
  // Kept vertices are input vertices, and every input vertex is within 1 of the result.
  const keys = new Set(poly![0]!.map((p) => `${p.x},${p.y}`));
  for (const p of ring) assert.ok(keys.has(`${p.x},${p.y}`));
  for (const p of poly![0]!) {
    let best = Infinity;
    for (let i = 0; i < ring.length; i++) {
      const a = ring[i]!, b = ring[(i + 1) % ring.length]!;
      const dx = b.x - a.x, dy = b.y - a.y;
      const t = Math.max(
        0,
        Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy)),
      );
      best = Math.min(best, Math.hypot(p.x - a.x - t * dx, p.y - a.y - t * dy));
    }
    assert.ok(best <= 1 + 1e-9, `vertex (${p.x}, ${p.y}) is ${best} away`);
  }
});

Deno.test("simplifyPolygon() keeps 4 outer vertices and drops collapsing holes", () => {
  const [poly] = traceMask(fromRows(["###", "#.#", "###"]));
  assert.equal(poly!.length, 2);
  const simple = simplifyPolygon(poly!, 100);
  assert.equal(simple.length, 1, "the one-pixel hole is gone");
  assert.deepEqual(xy(simple), [[[0, 0], [3, 0], [3, 3], [0, 3]]]);
  // A moderate tolerance keeps the hole's four corners.
  assert.equal(simplifyPolygon(poly!, 0.5).length, 2);
  assert.throws(() => simplifyPolygon(poly!, -1), {
    name: "RangeError",
    message: "Cannot simplify a polygon: tolerance -1 is not finite and >= 0",
  });
});
