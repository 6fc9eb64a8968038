import assert from "node:assert/strict";
import type { MaskWindow } from "../../src/masks/mask_window.ts";
import {
  boundaryBand,
  boundaryDilation,
  boundaryIou,
  maskIou,
  maskScores,
} from "../../src/eval/metrics.ts";

function rect(x0: number, y0: number, width: number, height: number): MaskWindow {
  return { x0, y0, width, height, data: new Uint8Array(width * height).fill(1) };
}
const EMPTY: MaskWindow = { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) };
const IMG = { imageWidth: 512, imageHeight: 512 };

/** Naive reference: full-image masks, erosion by the (2d+1) square with zeros outside. */
function naive(a: MaskWindow, b: MaskWindow, w: number, h: number, d: number) {
  const full = (m: MaskWindow) => {
    const out = new Uint8Array(w * h);
    for (let y = 0; y < m.height; y++) {
      for (let x = 0; x < m.width; x++) {
        const X = x + m.x0, Y = y + m.y0;
        if (X >= 0 && Y >= 0 && X < w && Y < h && m.data[y * m.width + x]) out[Y * w + X] = 1;
      }
    }
    return out;
  };
  const band = (m: Uint8Array) => {
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!m[y * w + x]) continue;
        let all = true;
        for (let dy = -d; dy <= d && all; dy++) {
          for (let dx = -d; dx <= d && all; dx++) {
            const X = x + dx, Y = y + dy;
            if (X < 0 || Y < 0 || X >= w || Y >= h || !m[Y * w + X]) all = false;
          }
        }
        out[y * w + x] = all ? 0 : 1;
      }
    }
    return out;
  };
  const iou = (p: Uint8Array, q: Uint8Array) => {
    let i = 0, u = 0;
    for (let k = 0; k < p.length; k++) {
      if (p[k] && q[k]) i++;
      if (p[k] || q[k]) u++;
    }
    return u === 0 ? 1 : i / u;
  };
  const fa = full(a), fb = full(b);
  return { iou: iou(fa, fb), boundaryIou: iou(band(fa), band(fb)) };
}

Deno.test("boundaryDilation() follows max(1, round(0.005 * diagonal))", () => {
  assert.equal(boundaryDilation(512, 512), 4); // 0.005 * 724.08 = 3.62
  assert.equal(boundaryDilation(1024, 1024), 7); // 7.24
  assert.equal(boundaryDilation(100, 100), 1); // 0.71
  assert.equal(boundaryDilation(10, 10), 1); // 0.07, floored at 1
  assert.equal(boundaryDilation(512, 512, { dilationRatio: 0.02 }), 14);
  assert.throws(() => boundaryDilation(0, 5), RangeError);
});

Deno.test("maskIou() is 1 for a mask against itself and 0 for disjoint masks", () => {
  const a = rect(10, 10, 7, 5);
  assert.equal(maskIou(a, a, IMG), 1);
  assert.equal(maskIou(a, rect(30, 10, 7, 5), IMG), 0);
  assert.equal(boundaryIou(a, a, IMG), 1);
  assert.equal(boundaryIou(a, rect(30, 10, 7, 5), IMG), 0);
});

Deno.test("maskIou() and boundaryIou() are 1 for two empty masks and 0 against one", () => {
  assert.deepEqual(maskScores(EMPTY, EMPTY, IMG), { iou: 1, boundaryIou: 1 });
  assert.deepEqual(maskScores(rect(3, 3, 4, 4), EMPTY, IMG), { iou: 0, boundaryIou: 0 });
  // a window full of zeros is empty too
  const zeros = { x0: 5, y0: 5, width: 3, height: 3, data: new Uint8Array(9) };
  assert.deepEqual(maskScores(zeros, EMPTY, IMG), { iou: 1, boundaryIou: 1 });
});

Deno.test("maskIou() of two offset squares is computed by hand", () => {
  // 10x10 squares, 2 px apart: intersection 8x10 = 80, union 120
  assert.equal(maskIou(rect(0, 0, 10, 10), rect(2, 0, 10, 10), IMG), 80 / 120);
});

Deno.test("boundaryIou() of two offset squares is computed by hand", () => {
  // d = 1: each band is the 1-px ring, 100 - 64 = 36 pixels. Shifted by 2 in x,
  // the rings share rows 10 and 19 for x = 12..19: 16 pixels. 16 / (36 + 36 - 16) = 2/7.
  const a = rect(10, 10, 10, 10), b = rect(12, 10, 10, 10);
  assert.equal(boundaryIou(a, b, { ...IMG, dilation: 1 }), 16 / 56);
  // d = 4 on a 512 tile: a = x 100..119, b = x 103..122, both y 100..119. Each band is the
  // square minus its 12x12 core: 400 - 144 = 256. In the 8 rows of top and bottom bands both
  // are full width and share x 103..119: 8 x 17 = 136. In the 12 middle rows a's band has
  // x 100..103 and 116..119, b's x 103..106 and 119..122: they share x 103 and 119, 2 x 12 = 24.
  const c = rect(100, 100, 20, 20), e = rect(103, 100, 20, 20);
  assert.equal(boundaryIou(c, e, IMG), 160 / (256 + 256 - 160));
});

Deno.test("boundaryBand() treats the image border as background", () => {
  // A 6x6 square in the corner of a 6x6 image: with d = 1 the band is the ring (36 - 16).
  const band = boundaryBand(rect(0, 0, 6, 6), { imageWidth: 6, imageHeight: 6, dilation: 1 });
  assert.equal(band.data.reduce((s, v) => s + v, 0), 20);
  // Window hanging over the edge is clipped to the image first.
  const over = boundaryBand(rect(-3, -3, 9, 9), { imageWidth: 6, imageHeight: 6, dilation: 1 });
  assert.deepEqual([over.x0, over.y0, over.width, over.height], [0, 0, 6, 6]);
  assert.equal(over.data.reduce((s, v) => s + v, 0), 20);
});

Deno.test("maskScores() matches a naive full-image implementation on random masks", () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = 0; t < 60; t++) {
    const w = 20 + Math.floor(rnd() * 30), h = 20 + Math.floor(rnd() * 30);
    const blob = (): MaskWindow => {
      const bw = 1 + Math.floor(rnd() * 25), bh = 1 + Math.floor(rnd() * 25);
      const x0 = Math.floor(rnd() * (w + 10)) - 8, y0 = Math.floor(rnd() * (h + 10)) - 8;
      const data = new Uint8Array(bw * bh);
      // a filled ellipse-ish blob with random holes
      for (let y = 0; y < bh; y++) {
        for (let x = 0; x < bw; x++) {
          const u = (x + 0.5) / bw - 0.5, v = (y + 0.5) / bh - 0.5;
          data[y * bw + x] = u * u + v * v < 0.3 && rnd() > 0.05 ? 1 : 0;
        }
      }
      return { x0, y0, width: bw, height: bh, data };
    };
    const a = blob(), b = blob();
    const d = 1 + Math.floor(rnd() * 4);
    const got = maskScores(a, b, { imageWidth: w, imageHeight: h, dilation: d });
    const want = naive(a, b, w, h, d);
    assert.ok(Math.abs(got.iou - want.iou) < 1e-12, `case ${t}: IoU ${got.iou} vs ${want.iou}`);
    assert.ok(
      Math.abs(got.boundaryIou - want.boundaryIou) < 1e-12,
      `case ${t}: BIoU ${got.boundaryIou} vs ${want.boundaryIou}`,
    );
  }
});

Deno.test("maskIou() rejects inconsistent windows", () => {
  const bad = { x0: 0, y0: 0, width: 2, height: 2, data: new Uint8Array(3) };
  assert.throws(() => maskIou(bad, EMPTY, IMG), RangeError);
});
