import { assert, seededRandom } from "../_assert.ts";
import { decodeRle, encodeRle, rleArea, rleBbox } from "../../src/masks/rle.ts";
import type { MaskWindow } from "../../src/masks/mask_window.ts";
import { fromRows, randomMask } from "./_masks.ts";

const full = (rows: string[]) => fromRows(rows);

Deno.test("encodeRle() produces hand-derived COCO strings", () => {
  // 3 x 2 image, pixel (1, 0): column-major runs [2, 1, 3] -> "2", "1", "3".
  assert.deepEqual(encodeRle(full([".#.", "..."]), 3, 2), { size: [2, 3], counts: "213" });
  // Runs [0, 5, 3, 4, 8]: from i = 3 the code stores x - runs[i - 2]: 4 - 5 = -1 -> 'O' (31 + 48),
  // 8 - 3 = 5 -> '5'.
  const rows = ["###..", "#.#..", "#.#..", "#.#.."];
  assert.deepEqual(encodeRle(full(rows), 5, 4), { size: [4, 5], counts: "053O5" });
  // 1 x 200, pixels 100..115: runs [100, 16, 84].
  // 100 = 4 + 3 * 32: 'T' (4 | 0x20 + 48) then '3'; 16 has bit 0x10 set, so a continuation
  // '`' (16 | 0x20 + 48) and '0'; 84 = 20 + 2 * 32: 'd' then '2'.
  const line = { x0: 100, y0: 0, width: 16, height: 1, data: new Uint8Array(16).fill(1) };
  assert.deepEqual(encodeRle(line, 200, 1), { size: [1, 200], counts: "T3`0d2" });
  // Empty and full images: 12 = '<'; a full image starts with an empty run of zeros.
  assert.equal(encodeRle(full(["....", "....", "...."]), 4, 3).counts, "<");
  assert.equal(encodeRle(full(["####", "####", "####"]), 4, 3).counts, "0<");
});

Deno.test("encodeRle() matches pycocotools on a large mask", () => {
  // pycocotools 2.0.11: m = zeros((300, 400)); m[10:290, 20:380] = 1; m[100:150, 100:120] = 0.
  const data = new Uint8Array(300 * 400);
  for (let y = 10; y < 290; y++) data.fill(1, y * 400 + 20, y * 400 + 380);
  for (let y = 100; y < 150; y++) data.fill(0, y * 400 + 100, y * 400 + 120);
  const rle = encodeRle({ x0: 0, y0: 0, width: 400, height: 300, data }, 400, 300);
  const expected = "jk5h8d" + "0".repeat(159) + "RJn0b1RO" + "^Nn0b1RO".repeat(19) + "\\4" +
    "0".repeat(518) + "Vk5";
  assert.equal(expected.length, 848);
  assert.equal(rle.counts, expected);
  assert.equal(rleArea(rle), 99800);
  assert.deepEqual(rleBbox(rle), [20, 10, 360, 280]);
});

Deno.test("decodeRle() inverts encodeRle() on random windows in random images", () => {
  const rand = seededRandom(71);
  for (let t = 0; t < 300; t++) {
    const iw = 1 + Math.floor(rand() * 30), ih = 1 + Math.floor(rand() * 30);
    const width = Math.floor(rand() * 20), height = Math.floor(rand() * 20);
    const x0 = Math.floor(rand() * (iw + 10)) - 8, y0 = Math.floor(rand() * (ih + 10)) - 8;
    const data = randomMask(rand, width, height, [0.1, 0.5, 0.95, 1][t % 4]!, t % 3 === 0);
    const mask: MaskWindow = { x0, y0, width, height, data };
    const rle = encodeRle(mask, iw, ih);
    // Reference: the window pasted into the image, pixels outside dropped.
    const ref = new Uint8Array(iw * ih);
    let area = 0, minX = iw, minY = ih, maxX = -1, maxY = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const ix = x0 + x, iy = y0 + y;
        if (ix < 0 || iy < 0 || ix >= iw || iy >= ih || !data[y * width + x]) continue;
        ref[iy * iw + ix] = 1;
        area++;
        minX = Math.min(minX, ix);
        maxX = Math.max(maxX, ix);
        minY = Math.min(minY, iy);
        maxY = Math.max(maxY, iy);
      }
    }
    assert.deepEqual(decodeRle(rle), ref);
    assert.equal(rleArea(rle), area);
    const bbox = rleBbox(rle);
    if (area === 0) assert.deepEqual(bbox, [0, 0, 0, 0]);
    else {
      // pycocotools widens to the full height when a run wraps into the next column.
      assert.equal(bbox[0], minX);
      assert.equal(bbox[2], maxX - minX + 1);
      assert.ok(bbox[1] <= minY && bbox[1] + bbox[3] >= maxY + 1);
    }
    // Re-encoding the decoded image gives the same string.
    assert.equal(
      encodeRle({ x0: 0, y0: 0, width: iw, height: ih, data: ref }, iw, ih).counts,
      rle.counts,
    );
  }
});

Deno.test("rleBbox() reproduces pycocotools for runs that wrap into the next column", () => {
  // pycocotools: m[3, 0] = m[0, 1] = 1 in a 4 x 3 image -> counts "327", bbox [0, 0, 2, 4].
  const rle = encodeRle(full([".#.", "...", "...", "#.."]), 3, 4);
  assert.equal(rle.counts, "327");
  assert.deepEqual(rleBbox(rle), [0, 0, 2, 4]);
  assert.deepEqual(rleBbox({ size: [4, 5], counts: "053O5" }), [0, 0, 3, 4]);
  assert.deepEqual(rleBbox({ size: [1, 200], counts: "T3`0d2" }), [100, 0, 16, 1]);
});

Deno.test("decodeRle() rejects malformed input", () => {
  assert.throws(() => decodeRle({ size: [2, 3], counts: "21" }), {
    name: "SyntaxError",
    message: "Cannot decode RLE: runs cover 3 pixels, expected 2 x 3",
  });
  assert.throws(
    () => decodeRle({ size: [2, 3], counts: "2 3" }),
    /character " " at 1 is not in the code/,
  );
  assert.throws(() => decodeRle({ size: [1, 200], counts: "T" }), /ends inside a number/);
  assert.throws(
    () => rleArea({ size: [2, 3], counts: [2, 1, 3] as unknown as string }),
    {
      name: "TypeError",
      message: "Cannot compute RLE area: counts must be a compressed RLE string",
    },
  );
});
