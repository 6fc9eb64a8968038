import assert from "node:assert/strict";
import { drawBoxOutline, drawPolygonOutlines } from "../../src/formats/overlay.ts";

function blank(width: number, height: number) {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

function painted(image: { width: number; height: number; data: Uint8Array }): string[] {
  const rows: string[] = [];
  for (let y = 0; y < image.height; y++) {
    let row = "";
    for (let x = 0; x < image.width; x++) row += image.data[(y * image.width + x) * 3] ? "#" : ".";
    rows.push(row);
  }
  return rows;
}

Deno.test("drawPolygonOutlines() draws outer rings and holes", () => {
  const image = blank(8, 8);
  const outer = [{ x: 1, y: 1 }, { x: 7, y: 1 }, { x: 7, y: 7 }, { x: 1, y: 7 }];
  const hole = [{ x: 3, y: 3 }, { x: 3, y: 5 }, { x: 5, y: 5 }, { x: 5, y: 3 }];
  drawPolygonOutlines(image, [[outer, hole]]);
  assert.deepEqual(painted(image), [
    "........",
    ".#######",
    ".#.....#",
    ".#.###.#",
    ".#.#.#.#",
    ".#.###.#",
    ".#.....#",
    ".#######",
  ]);
});

Deno.test("drawPolygonOutlines() honours the origin, clips, and blends once per pixel", () => {
  const image = blank(4, 4);
  const ring = [{ x: 10, y: 10 }, { x: 20, y: 10 }, { x: 20, y: 20 }, { x: 10, y: 20 }];
  drawPolygonOutlines(image, [[ring]], { origin: { x: 8, y: 8 }, alpha: 0.5, color: [200, 0, 0] });
  assert.deepEqual(painted(image), ["....", "....", "..##", "..#."]);
  assert.equal(image.data[(2 * 4 + 2) * 3], 100, "the corner pixel is blended once");
  assert.throws(
    () => drawPolygonOutlines({ width: 2, height: 2, data: new Uint8Array(5) }, []),
    RangeError,
  );
});

Deno.test("drawBoxOutline() draws a rotated box", () => {
  const image = blank(16, 16);
  drawBoxOutline(image, { cx: 8, cy: 8, width: 10, height: 4, angle: Math.PI / 4 });
  const rows = painted(image);
  assert.equal(rows[0], "................");
  assert.equal(rows[8]![8], ".", "the centre is not drawn");
  assert.ok(rows.join("").split("#").length - 1 > 20);
});
