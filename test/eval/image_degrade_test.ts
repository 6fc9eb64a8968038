// Seeded image degradation: each step on synthetic buffers, the seeding per image, the
// whole-image source, the parser, and `deno task eval --image-degrade` on real iSAID tiles.
import assert from "node:assert/strict";
import {
  degradedSource,
  degradeRgb,
  IMAGE_DEGRADE_PRESETS,
  MAX_DEGRADE_PIXELS,
  parseImageDegrade,
} from "../../src/eval/image_degrade.ts";
import { parseEvalArgs } from "../../src/cli/eval_args.ts";
import { mulberry32 } from "../../src/random.ts";
import type { RasterSource, RgbWindow, Window } from "../../src/raster/source.ts";
import type { EvalReport } from "../../src/eval/run_eval.ts";
import { dataTest } from "../_data.ts";
import { runTask } from "../cli/_run_cli.ts";
import { ISAID_VAL } from "../cli/_isaid_subset.ts";

/** A `width x height` RGB image whose channel `c` at `(x, y)` is `f(x, y, c)`. */
function image(width: number, height: number, f: (x: number, y: number, c: number) => number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = f(x, y, c);
    }
  }
  return { width, height, data };
}

/** Mean and variance of channel `c` (all channels when omitted). */
function stats(data: Uint8Array, c?: number): { mean: number; variance: number } {
  const v = c === undefined ? [...data] : [...data].filter((_, i) => i % 3 === c);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length };
}

/** Smooth structure plus seeded texture: something JPEG and blur have work on. */
function texture(width: number, height: number, seed = 1) {
  const r = mulberry32(seed);
  return image(width, height, (x, y, c) =>
    Math.round(
      100 + 60 * Math.sin(x / 5 + c) * Math.cos(y / 7) + 40 * (r() - 0.5),
    ));
}

Deno.test("degradeRgb() at resolution 2 turns a 1-px checkerboard into flat grey", async () => {
  const board = image(16, 12, (x, y) => ((x + y) % 2 === 0 ? 0 : 255));
  const out = await degradeRgb(board, { resolution: 2 }, 1);
  assert.ok(out.every((v) => v === 127 || v === 128), `${[...out.slice(0, 12)]}`);
  // a coarser factor on an odd size still averages: the board's mean, little spread
  const odd = image(15, 9, (x, y) => ((x + y) % 2 === 0 ? 0 : 255));
  const s = stats(await degradeRgb(odd, { resolution: 1.5 }, 1));
  assert.ok(Math.abs(s.mean - stats(odd.data).mean) < 6, `mean ${s.mean}`);
  assert.ok(s.variance < stats(odd.data).variance / 4, `variance ${s.variance}`);
});

Deno.test("degradeRgb() blur lowers the variance and keeps the mean", async () => {
  const img = texture(40, 30);
  const before = stats(img.data), after = stats(await degradeRgb(img, { blur: 1.2 }, 1));
  assert.ok(after.variance < 0.9 * before.variance, `${after.variance} vs ${before.variance}`);
  assert.ok(Math.abs(after.mean - before.mean) < 1, `${after.mean} vs ${before.mean}`);
  // more blur, less variance
  const more = stats(await degradeRgb(img, { blur: 3 }, 1));
  assert.ok(more.variance < after.variance);
});

Deno.test("degradeRgb() jpeg changes pixels and keeps the mean within a few levels", async () => {
  const img = texture(48, 40);
  const out = await degradeRgb(img, { jpeg: 30 }, 1);
  const changed = out.filter((v, i) => v !== img.data[i]).length;
  assert.ok(changed > out.length / 2, `${changed} of ${out.length} changed`);
  for (const c of [0, 1, 2]) {
    const a = stats(img.data, c).mean, b = stats(out, c).mean;
    assert.ok(Math.abs(a - b) < 3, `channel ${c}: ${a} vs ${b}`);
  }
  // higher quality: closer to the input
  const err = (d: Uint8Array) => d.reduce((s, v, i) => s + Math.abs(v - img.data[i]!), 0);
  assert.ok(err(await degradeRgb(img, { jpeg: 90 }, 1)) < err(out));
});

Deno.test("degradeRgb() draws gain within its range, the same per channel over the image", async () => {
  const grey = image(20, 20, () => 100);
  const out = await degradeRgb(grey, { gain: 0.12, seed: 4 }, 9);
  for (const c of [0, 1, 2]) {
    const values = new Set([...out].filter((_, i) => i % 3 === c));
    assert.equal(values.size, 1);
    const v = [...values][0]!;
    assert.ok(v >= 88 && v <= 112, `channel ${c}: ${v}`);
  }
  const noisy = stats(await degradeRgb(grey, { noise: 4, seed: 4 }, 9));
  assert.ok(Math.abs(Math.sqrt(noisy.variance) - 4) < 0.5, `sigma ${Math.sqrt(noisy.variance)}`);
  assert.ok(Math.abs(noisy.mean - 100) < 0.5);
});

Deno.test("degradeRgb() is seeded by (seed, key): same bytes again, others for another key", async () => {
  const img = texture(32, 24);
  const sensor = { ...IMAGE_DEGRADE_PRESETS.sensor, seed: 3 };
  const a = await degradeRgb(img, sensor, 11);
  assert.deepEqual(await degradeRgb(img, sensor, 11), a);
  assert.notDeepEqual(await degradeRgb(img, sensor, 12), a);
  assert.notDeepEqual(await degradeRgb(img, { ...sensor, seed: 4 }, 11), a);
  // the gains are one image's draws: another key moves the channel means
  const g1 = await degradeRgb(img, { gain: 0.1 }, 1), g2 = await degradeRgb(img, { gain: 0.1 }, 2);
  assert.notEqual(stats(g1, 0).mean, stats(g2, 0).mean);
  // no random part: the key does not matter
  const lowres = IMAGE_DEGRADE_PRESETS.lowres!;
  assert.deepEqual(await degradeRgb(img, lowres, 1), await degradeRgb(img, lowres, 2));
  // the input is left alone
  assert.deepEqual(img.data, texture(32, 24).data);
});

Deno.test("degradeRgb() with options that change nothing gives the same bytes", async () => {
  const img = texture(17, 13);
  assert.deepEqual(await degradeRgb(img, {}, 5), img.data);
  const off = { resolution: 1, blur: 0, gain: 0, gamma: 1, noise: 0, seed: 9 };
  assert.deepEqual(await degradeRgb(img, off, 5), img.data);
});

Deno.test("degradeRgb() refuses out-of-range options and a wrong buffer size", async () => {
  const img = texture(4, 4);
  await assert.rejects(degradeRgb(img, { resolution: 0.5 }, 1), /resolution 0\.5 is not/);
  await assert.rejects(degradeRgb(img, { jpeg: 101 }, 1), /jpeg 101 is not an integer in 1\.\.100/);
  await assert.rejects(degradeRgb({ ...img, width: 5 }, { blur: 1 }, 1), /not 5x4 RGB/);
});

/** A memory source that counts reads and closes. */
function memorySource(img: { width: number; height: number; data: Uint8Array }) {
  const counts = { reads: 0, closed: 0 };
  const source: RasterSource = {
    path: "mem",
    width: img.width,
    height: img.height,
    bandCount: 3,
    georef: null,
    readWindow(w: Window): Promise<RgbWindow> {
      counts.reads++;
      assert.deepEqual(w, [0, 0, img.width, img.height]);
      return Promise.resolve({ width: img.width, height: img.height, data: img.data, valid: null });
    },
    close() {
      counts.closed++;
      return Promise.resolve();
    },
  };
  return { source, counts };
}

Deno.test("degradedSource() reads the image once and serves windows of the degraded copy", async () => {
  const img = texture(30, 20);
  const options = { blur: 1, noise: 3, seed: 2 };
  const whole = await degradeRgb(img, options, 7);
  const { source, counts } = memorySource(img);
  const src = await degradedSource(source, options, 7);
  assert.deepEqual([src.width, src.height, src.path], [30, 20, "mem"]);
  const win = await src.readWindow([5, 3, 12, 9]);
  assert.deepEqual([win.width, win.height, win.valid], [7, 6, null]);
  for (let y = 0; y < 6; y++) {
    const at = ((3 + y) * 30 + 5) * 3;
    assert.deepEqual(win.data.subarray(y * 21, y * 21 + 21), whole.subarray(at, at + 21));
  }
  assert.deepEqual((await src.readWindow([0, 0, 30, 20])).data, whole);
  await assert.rejects(src.readWindow([25, 0, 31, 5]), /outside the 30x20 image/);
  assert.equal(counts.reads, 1);
  await src.close();
  assert.equal(counts.closed, 1);
  await assert.rejects(src.readWindow([0, 0, 1, 1]), /closed/);
});

Deno.test("degradedSource() refuses an image over the pixel limit before reading it", async () => {
  const side = Math.ceil(Math.sqrt(MAX_DEGRADE_PIXELS)) + 1;
  const source: RasterSource = {
    path: "big.tif",
    width: side,
    height: side,
    bandCount: 3,
    georef: null,
    readWindow: () => Promise.reject(new Error("read")),
    close: () => Promise.resolve(),
  };
  await assert.rejects(
    degradedSource(source, { blur: 1 }, 1),
    (e: Error) => e instanceof RangeError && /big\.tif.*over the 64 Mpx/.test(e.message),
  );
});

Deno.test("parseImageDegrade() takes presets, a seed, and key=value pairs", () => {
  for (const name of ["lowres", "blur", "jpeg", "sensor"]) {
    assert.deepEqual(parseImageDegrade(name), {
      ...IMAGE_DEGRADE_PRESETS[name],
      seed: 0,
      preset: name,
    });
  }
  assert.deepEqual(parseImageDegrade("sensor,seed=3"), {
    resolution: 1.5,
    gain: 0.12,
    gamma: 1.3,
    noise: 4,
    jpeg: 55,
    seed: 3,
    preset: "sensor",
  });
  assert.deepEqual(parseImageDegrade("resolution=1.5, noise=2"), {
    resolution: 1.5,
    noise: 2,
    seed: 0,
  });
});

Deno.test("parseImageDegrade() rejects bad values, keys and names, naming them", () => {
  const rejects = (text: string, message: RegExp) =>
    assert.throws(() => parseImageDegrade(text), (e: Error) => {
      assert.ok(e instanceof TypeError, `${e}`);
      assert.match(e.message, message);
      return true;
    });
  rejects("resolution=0.5", /resolution 0\.5 is not a number >= 1/);
  rejects("jpeg=0", /jpeg 0 is not an integer in 1\.\.100/);
  rejects("jpeg=55.5", /jpeg 55\.5 is not an integer in 1\.\.100/);
  rejects("gain=1", /gain 1 is not a number in \[0, 1\)/);
  rejects("blur=x", /blur x is not a number >= 0/);
  rejects("foo=1", /unknown key "foo" \(keys: resolution, blur, gain, gamma, noise, jpeg, seed\)/);
  rejects("foggy", /unknown preset "foggy" \(presets: lowres, blur, jpeg, sensor;/);
  rejects("sensor,jpeg=20", /unknown key "jpeg" \(a preset takes only seed=N\)/);
  rejects("sensor,seed=1.5", /seed 1\.5 is not an integer/);
  rejects("seed=2", /changes nothing/);
});

Deno.test("parseEvalArgs() reads --image-degrade and refuses it with --baseline", () => {
  const a = parseEvalArgs(["--gt", "g.json", "--images", "i", "--image-degrade", "jpeg,seed=2"]);
  assert.deepEqual(a.imageDegrade, { jpeg: 30, seed: 2, preset: "jpeg" });
  assert.equal(parseEvalArgs(["--gt", "g.json", "--images", "i"]).imageDegrade, null);
  assert.throws(
    () => parseEvalArgs(["--gt", "g.json", "--baseline", "obb-fill", "--image-degrade", "jpeg"]),
    /--image-degrade .*--baseline obb-fill/,
  );
});

const GT = `${ISAID_VAL}/annotations_all.json.gz`;

dataTest({
  name: "eval --image-degrade lowres scores the model on degraded tiles and records the preset",
  needs: [GT, `${ISAID_VAL}/images`],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_imgdeg_" });
    try {
      const run = async (name: string, extra: string[]) => {
        const out = `${dir}/${name}.json`;
        const r = await runTask("eval", [
          ...["--gt", GT, "--images", `${ISAID_VAL}/images`, "--max-images", "2"],
          ...["--backend", "wasm", "--out-json", out, ...extra],
        ]);
        assert.equal(r.code, 0, r.stderr);
        return { report: JSON.parse(await Deno.readTextFile(out)) as EvalReport, stdout: r.stdout };
      };
      const clean = await run("clean", []);
      const lowres = await run("lowres", ["--image-degrade", "lowres"]);
      assert.equal(clean.report.imageDegrade, null);
      assert.deepEqual(lowres.report.imageDegrade, { resolution: 2, seed: 0, preset: "lowres" });
      assert.match(lowres.stdout, /image degradation resolution=2 seed=0 preset=lowres/);
      assert.equal(lowres.report.summary.all.instances, clean.report.summary.all.instances);
      assert.ok(clean.report.summary.all.instances > 0);
      // the same prompts on other pixels: a real measurement, not the clean one
      assert.notEqual(lowres.report.summary.mIoU, clean.report.summary.mIoU);
      assert.ok(lowres.report.summary.mIoU! > 0.2, `mIoU ${lowres.report.summary.mIoU}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name: "eval --baseline with --image-degrade is a usage error naming both flags",
  needs: [GT],
  async fn() {
    const r = await runTask("eval", [
      ...["--gt", GT, "--baseline", "obb-fill", "--image-degrade", "jpeg", "--max-images", "1"],
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--image-degrade/);
    assert.match(r.stderr, /--baseline obb-fill/);
  },
});
