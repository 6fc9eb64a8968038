import { assert, seededRandom } from "../_assert.ts";
import { keepPromptComponents } from "../../src/masks/components.ts";
import type { OrientedBox } from "../../src/geometry/oriented_box.ts";
import { countComponents, fromRows, randomMask, toRows } from "./_masks.ts";

const box = (cx: number, cy: number, width: number, height: number, angle = 0): OrientedBox => ({
  cx,
  cy,
  width,
  height,
  angle,
});

Deno.test("keepPromptComponents() keeps the blob under the box", () => {
  const mask = fromRows(
    [
      "##.....",
      "##...##",
      ".....##",
      "#......",
    ],
    100,
    200,
  );
  // Box over the right blob (pixels 105-106, rows 201-202).
  const kept = keepPromptComponents(mask, box(106, 202, 2, 2));
  assert.deepEqual(toRows(kept), [".......", ".....##", ".....##", "......."]);
  assert.deepEqual([kept.x0, kept.y0, kept.width, kept.height], [100, 200, 7, 4]);
  // The input is untouched.
  assert.equal(mask.data.reduce((a, b) => a + b, 0), 9);
});

Deno.test("keepPromptComponents() joins diagonal neighbours (8-connectivity)", () => {
  const mask = fromRows(["#...", ".#..", "..#.", "...#"]);
  const kept = keepPromptComponents(mask, box(0.5, 0.5, 1, 1));
  assert.deepEqual(toRows(kept), toRows(mask));
});

Deno.test("keepPromptComponents() keeps every blob that overlaps, even thinly", () => {
  const mask = fromRows(["##...##", "##...##", "...#..."]);
  // A long thin rotated box across both top blobs, missing the bottom pixel.
  const kept = keepPromptComponents(mask, box(3.5, 1, 6, 0.2, 0));
  assert.deepEqual(toRows(kept), ["##...##", "##...##", "......."]);
  // A small box below the pixel that only overlaps its bottom edge still catches it.
  const near = keepPromptComponents(mask, box(3.5, 3.15, 0.4, 0.4));
  assert.deepEqual(toRows(near), [".......", ".......", "...#..."]);
});

Deno.test("keepPromptComponents() falls back to the largest blob", () => {
  const mask = fromRows(["#....", ".....", "..###", "..###"]);
  const kept = keepPromptComponents(mask, box(50, 50, 3, 3));
  assert.deepEqual(toRows(kept), [".....", ".....", "..###", "..###"]);
  const empty = fromRows(["...", "..."]);
  assert.deepEqual(keepPromptComponents(empty, box(1, 1, 1, 1)).data, empty.data);
});

Deno.test("keepPromptComponents() never empties a non-empty mask", () => {
  const rand = seededRandom(91);
  for (let t = 0; t < 300; t++) {
    const width = 1 + Math.floor(rand() * 30), height = 1 + Math.floor(rand() * 30);
    const data = randomMask(rand, width, height, 0.05 + rand() * 0.6, t % 2 === 0);
    const mask = {
      x0: Math.floor(rand() * 100),
      y0: Math.floor(rand() * 100),
      width,
      height,
      data,
    };
    const b = box(
      mask.x0 + (rand() * 1.6 - 0.3) * width,
      mask.y0 + (rand() * 1.6 - 0.3) * height,
      rand() * 10,
      rand() * 10,
      (rand() - 0.5) * Math.PI,
    );
    const kept = keepPromptComponents(mask, b);
    const inArea = data.reduce((a, v) => a + v, 0);
    const outArea = kept.data.reduce((a, v) => a + v, 0);
    if (inArea > 0) assert.ok(outArea > 0, "non-empty in, non-empty out");
    // A subset of the input, made of whole 8-connected components.
    for (let i = 0; i < data.length; i++) assert.ok(kept.data[i]! <= data[i]!);
    const removed = { ...mask, data: data.map((v, i) => v - kept.data[i]!) };
    assert.equal(
      countComponents(kept, 8) + countComponents(removed, 8),
      countComponents(mask, 8),
      "components are kept or dropped whole",
    );
  }
});
