import { assert } from "../_assert.ts";
import type { Polygon } from "../../src/masks/polygon.ts";
import { rasterizePolygon } from "../../src/masks/rasterize.ts";
import { toRows } from "./_masks.ts";

const poly = (...rings: number[][][]): Polygon =>
  rings.map((ring) => ring.map(([x, y]) => ({ x: x!, y: y! })));

const inclusive = (p: Polygon, width: number, height: number, extra = {}) =>
  toRows(rasterizePolygon(p, { width, height, rule: "inclusive", ...extra }));

Deno.test("rasterizePolygon(inclusive) draws degenerate contours as OpenCV does", () => {
  assert.deepEqual(inclusive(poly([[2, 1]]), 4, 3), ["....", "..#.", "...."]);
  // A horizontal and a vertical segment (a contour of two vertices).
  assert.deepEqual(inclusive(poly([[1, 1], [4, 1]]), 6, 3), ["......", ".####.", "......"]);
  assert.deepEqual(inclusive(poly([[1, 0], [1, 2]]), 3, 3), [".#.", ".#.", ".#."]);
  // A 45-degree diagonal.
  assert.deepEqual(inclusive(poly([[0, 0], [3, 3]]), 4, 4), ["#...", ".#..", "..#.", "...#"]);
});

Deno.test("rasterizePolygon(inclusive) includes the boundary pixels of index contours", () => {
  // The contour of a 3 x 2 block of pixels, as cv2.findContours gives it.
  assert.deepEqual(
    inclusive(poly([[1, 1], [1, 2], [3, 2], [3, 1]]), 5, 4),
    [".....", ".###.", ".###.", "....."],
  );
  // A diamond from CHAIN_APPROX_SIMPLE (diagonal edges).
  assert.deepEqual(inclusive(poly([[2, 0], [0, 2], [2, 4], [4, 2]]), 5, 5), [
    "..#..",
    ".###.",
    "#####",
    ".###.",
    "..#..",
  ]);
});

Deno.test("rasterizePolygon(inclusive) matches cv2.fillPoly", () => {
  // Expected rows from cv2.fillPoly(np.zeros((H, W), np.uint8), rings, 1), OpenCV 5.0.
  assert.deepEqual(inclusive(poly([[1, 0], [3, 9], [0, 6]]), 5, 10), [
    ".#...",
    ".#...",
    ".#...",
    "###..",
    "###..",
    "###..",
    "###..",
    ".###.",
    "..##.",
    "...#.",
  ]);
  assert.deepEqual(inclusive(poly([[0, 0], [9, 3], [9, 0], [0, 4]]), 10, 5), [
    "##......##",
    "#####.####",
    "##########",
    "####....##",
    "##........",
  ]);
  // Two rings fill even-odd together; outlines are always drawn.
  assert.deepEqual(
    inclusive(poly([[0, 0], [6, 0], [6, 6], [0, 6]], [[2, 2], [8, 3], [4, 8]]), 9, 9),
    [
      "#######..",
      "#######..",
      "#######..",
      "###...###",
      "####..##.",
      "####..#..",
      "#######..",
      "....##...",
      "....#....",
    ],
  );
});

Deno.test("rasterizePolygon(inclusive) clips like OpenCV when given the image", () => {
  const p = poly([[2, 1], [8, 4], [8, 6], [3, 7]]); // x = 8 is outside an 8-wide image
  const cv2 = [
    "........",
    "..#.....",
    "..###...",
    "..#####.",
    "..######",
    "...#####",
    "...#####",
    "...###..",
  ];
  assert.deepEqual(inclusive(p, 8, 8, { image: { width: 8, height: 8 } }), cv2);
  // Unbounded, the same polygon differs in a pixel that OpenCV's clipping moves.
  assert.notDeepEqual(inclusive(p, 8, 8), cv2);
  const neg = poly([[-2, -1], [5, 2], [1, 6]]);
  assert.deepEqual(inclusive(neg, 7, 7, { image: { width: 7, height: 7 } }), [
    "##.....",
    "####...",
    "######.",
    "#####..",
    "####...",
    "###....",
    ".#.....",
  ]);
});

Deno.test("rasterizePolygon(inclusive) cuts a window out of the full fill", () => {
  const p = poly([[0, 0], [9, 3], [9, 0], [0, 4]]);
  const full = inclusive(p, 10, 5);
  const part = inclusive(p, 4, 3, { x0: 3, y0: 1 });
  assert.deepEqual(part, full.slice(1, 4).map((row) => row.slice(3, 7)));
});

Deno.test("rasterizePolygon(center) keeps pixels whose centre is inside", () => {
  // Triangle (0,0) (6,0) (0,6): centre (i + .5, j + .5) inside when i + j + 1 < 6.
  assert.deepEqual(
    toRows(rasterizePolygon(poly([[0, 0], [6, 0], [0, 6]]), {
      width: 6,
      height: 6,
      rule: "center",
    })),
    ["#####.", "####..", "###...", "##....", "#.....", "......"],
  );
  // Fractional vertices; window offset.
  const m = rasterizePolygon(poly([[10.4, 20.6], [13.6, 20.6], [13.6, 22.4], [10.4, 22.4]]), {
    x0: 10,
    y0: 20,
    width: 5,
    height: 3,
    rule: "center",
  });
  assert.deepEqual(toRows(m), [".....", "####.", "....."]);
  // A closing vertex repeated at the end changes nothing.
  const closed = rasterizePolygon(poly([[0, 0], [6, 0], [0, 6], [0, 0]]), {
    width: 6,
    height: 6,
    rule: "center",
  });
  assert.equal(closed.data.reduce((a, b) => a + b, 0), 15);
});

Deno.test("rasterizePolygon() rejects bad input", () => {
  assert.throws(
    () =>
      rasterizePolygon(poly([[0.5, 0], [2, 2], [0, 2]]), {
        width: 3,
        height: 3,
        rule: "inclusive",
      }),
    {
      name: "RangeError",
      message:
        "Cannot rasterize a polygon: the inclusive rule needs integer vertices (pixel indices), got (0.5, 0)",
    },
  );
  assert.throws(
    () => rasterizePolygon(poly([[0, 0]]), { width: 3, height: 3, rule: "even" as "center" }),
    {
      name: "TypeError",
      message: 'Cannot rasterize a polygon: unknown rule "even", expected center or inclusive',
    },
  );
  assert.throws(
    () => rasterizePolygon([], { width: -1, height: 3, rule: "center" }),
    /window size -1 x 3/,
  );
});
