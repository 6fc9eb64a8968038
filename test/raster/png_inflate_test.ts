/**
 * The zlib PNG decoder against fast-png (an independent decoder) on PNGs that use
 * every row filter, colour type and bit depth, on the real DOTA PNGs, and on
 * broken files; interlaced PNGs go to fast-png.
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { decodePngNative, decodePngPlanes } from "../../src/raster/png_inflate.ts";
import { openPng } from "../../src/raster/png_source.ts";
import { dataTest, SHARED_DATA } from "../_data.ts";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  let crc = 0xffffffff;
  for (const b of out.subarray(4, 8 + body.length)) {
    crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  }
  view.setUint32(8 + body.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Row `y` filtered with filter type `y % 5` (PNG spec section 9.2). */
function filterRows(rows: Uint8Array, height: number, rowBytes: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const f = y % 5;
    out[y * (rowBytes + 1)] = f;
    for (let i = 0; i < rowBytes; i++) {
      const x = rows[y * rowBytes + i]!;
      const a = i >= bpp ? rows[y * rowBytes + i - bpp]! : 0;
      const b = y > 0 ? rows[(y - 1) * rowBytes + i]! : 0;
      const c = i >= bpp && y > 0 ? rows[(y - 1) * rowBytes + i - bpp]! : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]!;
      out[y * (rowBytes + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  return out;
}

interface Spec {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  palette?: number;
  trns?: number;
  interlace?: boolean;
  /** Samples drawn from 0..levels-1 (few values: the Paeth predictor's ties happen). */
  levels?: number;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** A PNG of random samples; `scanlines` replaces the filtered data when given. */
async function makePng(spec: Spec, scanlines?: Uint8Array): Promise<Uint8Array> {
  const { width, height, depth, colorType } = spec;
  const bitsPerPixel = CHANNELS[colorType]! * depth;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  let seed = width * 7919 + height * 31 + depth * 3 + colorType;
  const rows = new Uint8Array(height * rowBytes).map(() => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 24;
  });
  const levels = spec.palette ?? spec.levels; // palette indices: below its length (8-bit here)
  if (levels) { for (let i = 0; i < rows.length; i++) rows[i] = rows[i]! % levels; }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([depth, colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk("IHDR", ihdr),
  ];
  if (spec.palette) {
    parts.push(chunk("PLTE", new Uint8Array(spec.palette * 3).map((_, i) => (i * 37) & 0xff)));
  }
  if (spec.trns) parts.push(chunk("tRNS", new Uint8Array(spec.trns).map((_, i) => i * 50)));
  const data = scanlines ?? filterRows(rows, height, rowBytes, Math.max(1, bitsPerPixel >> 3));
  const z = await deflate(data);
  // two IDAT chunks: the stream may be split anywhere
  parts.push(chunk("IDAT", z.subarray(0, 5)), chunk("IDAT", z.subarray(5)));
  parts.push(chunk("IEND", new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function assertSameAsFastPng(bytes: Uint8Array, got: Awaited<ReturnType<typeof decodePngNative>>) {
  const want = decode(bytes);
  assert.ok(got, "decoded");
  assert.deepEqual(
    [got.width, got.height, got.depth, got.channels],
    [want.width, want.height, want.depth, want.channels],
  );
  assert.equal(got.data.length, want.data.length);
  assert.ok(got.data.every((x, i) => x === want.data[i]), "samples differ from fast-png's");
  assert.deepEqual(got.palette, want.palette);
}

/** 8- and 16-bit PNGs of every colour type but palette (the ones decodePngPlanes() takes). */
const WIDE_SPECS: Spec[] = [
  { width: 13, height: 11, depth: 8, colorType: 2 },
  { width: 13, height: 11, depth: 8, colorType: 2, levels: 4 },
  { width: 13, height: 11, depth: 8, colorType: 6 },
  { width: 13, height: 11, depth: 8, colorType: 0 },
  { width: 13, height: 11, depth: 8, colorType: 4 },
  { width: 13, height: 11, depth: 16, colorType: 0 },
  { width: 13, height: 11, depth: 16, colorType: 2 },
  { width: 13, height: 11, depth: 16, colorType: 6 },
  { width: 1, height: 1, depth: 8, colorType: 2 },
];

Deno.test("decodePngNative() decodes every filter, colour type and depth as fast-png does", async () => {
  const specs: Spec[] = [
    ...WIDE_SPECS,
    { width: 13, height: 11, depth: 1, colorType: 0 },
    { width: 13, height: 11, depth: 2, colorType: 0 },
    { width: 13, height: 11, depth: 4, colorType: 0 },
    { width: 13, height: 11, depth: 8, colorType: 3, palette: 200 },
    { width: 13, height: 11, depth: 8, colorType: 3, palette: 200, trns: 4 },
  ];
  for (const spec of specs) {
    const bytes = await makePng(spec);
    assertSameAsFastPng(bytes, await decodePngNative(bytes));
  }
});

dataTest({
  name: "decodePngNative() decodes the real DOTA PNGs as fast-png does",
  needs: [`${SHARED_DATA}/dota-samples/images/P0706.png`],
  async fn() {
    for (const name of ["P0706.png", "P1888.png"]) {
      const bytes = await Deno.readFile(`${SHARED_DATA}/dota-samples/images/${name}`);
      assertSameAsFastPng(bytes, await decodePngNative(bytes));
    }
  },
});

Deno.test("an interlaced PNG is left to fast-png, and openPng() still reads it", async () => {
  // 2 x 2 RGB, Adam7: pass 1 is pixel (0,0), pass 6 pixel (1,0), pass 7 the row y = 1
  const px = [[10, 20, 30], [40, 50, 60], [70, 80, 90], [100, 110, 120]];
  const scan = Uint8Array.from([0, ...px[0]!, 0, ...px[1]!, 0, ...px[2]!, ...px[3]!]);
  const bytes = await makePng(
    { width: 2, height: 2, depth: 8, colorType: 2, interlace: true },
    scan,
  );
  assert.equal(await decodePngNative(bytes), null);
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(path, bytes);
    const src = await openPng(path);
    const win = await src.readWindow([0, 0, 2, 2]);
    assert.deepEqual(Array.from(win.data), px.flat());
    await src.close();
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("decodePngNative() says what is wrong with a broken PNG", async () => {
  const spec = { width: 4, height: 3, depth: 8, colorType: 2 };
  const rowBytes = 12;
  const badFilter = new Uint8Array(3 * (rowBytes + 1));
  badFilter[rowBytes + 1] = 7;
  const cases: [Promise<Uint8Array>, RegExp][] = [
    [makePng(spec, badFilter), /row 1 has filter type 7/],
    [makePng(spec, new Uint8Array(10)), /the image data holds 10 bytes, 39 expected/],
    [makePng({ ...spec, colorType: 3 }), /a palette image without a PLTE chunk/],
    [makePng({ ...spec, depth: 3 }), /bit depth 3 does not exist/],
    [Promise.resolve(new Uint8Array([1, 2, 3])), /no PNG signature/],
  ];
  for (const [bytes, pattern] of cases) {
    await assert.rejects(decodePngNative(await bytes), pattern);
  }
  // the second IDAT's data (after the zlib header in the first) overwritten
  const corrupt = (await makePng(spec)).slice();
  const text = new TextDecoder("latin1").decode(corrupt);
  const idat = text.lastIndexOf("IDAT");
  corrupt.fill(0xff, idat + 4, idat + 10);
  await assert.rejects(decodePngNative(corrupt), /does not inflate|image data holds/);
});

/** fast-png's channel `c` of a decoded PNG, as a plane. */
function fastPngPlane(bytes: Uint8Array, c: number): number[] {
  const want = decode(bytes);
  const out: number[] = [];
  for (let i = c; i < want.data.length; i += want.channels) out.push(want.data[i]!);
  return out;
}

Deno.test("decodePngPlanes() gives fast-png's samples, channel by channel, for 8- and 16-bit PNGs", async () => {
  for (const spec of WIDE_SPECS) {
    const bytes = await makePng(spec);
    const channels = CHANNELS[spec.colorType]!;
    // every channel, and then only the last one (the others are not decoded into planes)
    for (const keep of [[...Array(channels).keys()], [channels - 1]]) {
      const got = await decodePngPlanes(bytes, (n) => {
        assert.equal(n, channels);
        return keep;
      });
      assert.ok(got, `decoded ${JSON.stringify(spec)}`);
      assert.deepEqual([got.width, got.height, got.depth], [spec.width, spec.height, spec.depth]);
      assert.deepEqual([...got.planes.keys()], keep);
      for (const c of keep) {
        const plane: Uint8Array | Uint16Array = got.planes.get(c)!;
        assert.equal(plane instanceof Uint16Array, spec.depth === 16);
        assert.deepEqual(Array.from(plane), fastPngPlane(bytes, c), `channel ${c}`);
      }
    }
  }
});

Deno.test("decodePngPlanes() leaves palette, below-8-bit and interlaced PNGs to decodePngNative()", async () => {
  for (
    const spec of [
      { width: 5, height: 4, depth: 8, colorType: 3, palette: 20 },
      { width: 5, height: 4, depth: 4, colorType: 0 },
      { width: 5, height: 4, depth: 8, colorType: 2, interlace: true },
    ] as Spec[]
  ) {
    const scan = spec.interlace ? new Uint8Array(200) : undefined;
    assert.equal(await decodePngPlanes(await makePng(spec, scan), () => [0]), null);
  }
});

Deno.test("decodePngPlanes() says what is wrong with a broken PNG", async () => {
  const spec = { width: 4, height: 3, depth: 8, colorType: 2 };
  const badFilter = new Uint8Array(3 * 13);
  badFilter[13] = 7;
  await assert.rejects(
    decodePngPlanes(await makePng(spec, badFilter), () => [0]),
    /row 1 has filter type 7/,
  );
  await assert.rejects(
    decodePngPlanes(await makePng(spec, new Uint8Array(10)), () => [0]),
    /the image data holds 10 bytes, 39 expected/,
  );
});

dataTest({
  name: "openPng() on the real DOTA PNGs: the planes decoded row by row read as fast-png's pixels",
  needs: [`${SHARED_DATA}/dota-samples/images/P1888.png`],
  async fn() {
    const path = `${SHARED_DATA}/dota-samples/images/P1888.png`;
    const bytes = await Deno.readFile(path);
    const want = decode(bytes);
    assert.equal(want.channels, 3);
    const src = await openPng(path);
    const win = await src.readWindow([0, 0, want.width, want.height]);
    assert.equal(win.data.length, want.data.length);
    assert.ok(win.data.every((x, i) => x === want.data[i]), "pixels differ from fast-png's");
    await src.close();
    // band selection still reaches the user as a band error, not as a broken file
    await assert.rejects(openPng(path, { bands: [1, 2, 5] }), (e: Error) => {
      assert.doesNotMatch(e.message, /not a readable PNG/);
      assert.match(e.message, /band/i);
      return true;
    });
  },
});

/** `bytes` as a stream of pieces of 1 to 7 bytes: every chunk header and row split somewhere. */
function trickle(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let pos = 0;
  let k = 0;
  return new ReadableStream({
    pull(controller) {
      if (pos >= bytes.length) return controller.close();
      const n = 1 + (k++ % 7);
      controller.enqueue(bytes.slice(pos, pos + n));
      pos += n;
    },
  });
}

Deno.test("decodePngPlanes() reads a stream cut anywhere, and says what is wrong with a broken one", async () => {
  for (const spec of WIDE_SPECS) {
    const bytes = await makePng(spec);
    const channels = CHANNELS[spec.colorType]!;
    const got = await decodePngPlanes(trickle(bytes), () => [...Array(channels).keys()]);
    assert.ok(got);
    for (let c = 0; c < channels; c++) {
      assert.deepEqual(Array.from(got.planes.get(c)!), fastPngPlane(bytes, c), `channel ${c}`);
    }
  }
  const spec = { width: 4, height: 3, depth: 8, colorType: 2 };
  const whole = await makePng(spec);
  const badFilter = new Uint8Array(3 * 13);
  badFilter[13] = 7;
  const noIdat = whole.slice(0, 33); // signature + IHDR
  const cases: [Uint8Array, RegExp][] = [
    [await makePng(spec, badFilter), /row 1 has filter type 7/],
    [await makePng(spec, new Uint8Array(10)), /the image data holds 10 bytes, 39 expected/],
    [whole.slice(0, whole.length - 20), /cut short|image data holds/],
    [noIdat, /no IDAT chunk/],
    [Uint8Array.of(1, 2, 3), /no PNG signature/],
  ];
  for (const [bytes, pattern] of cases) {
    await assert.rejects(decodePngPlanes(trickle(bytes), () => [0]), pattern);
  }
});
