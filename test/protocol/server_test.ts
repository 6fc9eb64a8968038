/**
 * The JSON-RPC server as a real process (`deno task serve`, scoped
 * permissions, the shipped model on WASM) on real DOTA and iSAID images read
 * in place. Every stdout line is checked against docs/protocol.schema.json.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { assertSchema } from "./_schema.ts";
import { fixture } from "../raster/_fixtures.ts";
import { parseDota } from "../../src/formats/dota.ts";
import { boxCorners, type OrientedBox } from "../../src/geometry/oriented_box.ts";
import { movedBoxes } from "../../src/pipeline/segment_image.ts";
import {
  DATA,
  dataTest,
  firstIsaidTile,
  type Message,
  oneBox,
  P0706,
  P1888,
  Server,
} from "./_server.ts";

async function withServer(args: string[], fn: (s: Server) => Promise<void>): Promise<void> {
  const server = Server.start(args);
  try {
    await fn(server);
  } catch (e) {
    await server.kill();
    throw new Error(
      `${(e as Error).message}\n--- server stderr ---\n${await server.stderrText()}`,
      {
        cause: e,
      },
    );
  }
}

function assertError(m: Message, code: number, pattern: RegExp, id: unknown = m.id): void {
  assert.equal(m.error?.code, code, JSON.stringify(m));
  assert.equal(m.id, id);
  assert.match(m.error.message, pattern);
  assertSchema("ErrorResponse", m);
}

dataTest(
  "serve answers initialize, segment (boxes, DOTA text and file, iSAID JPEG, out) and shutdown; exit ends it with 0",
  async () => {
    const out = await Deno.makeTempDir({ prefix: "sopseg-serve-" });
    try {
      await withServer(["--read", DATA, "--write", out], async (s) => {
        const init = await s.call("initialize", { client: { name: "test" } });
        assertSchema("InitializeResponse", init);
        assert.equal(init.result.protocolVersion, "1.4");
        assert.equal(init.result.backend, "wasm");
        assert.deepEqual(init.result.capabilities.writeRoots, [out]);

        // Boxes, in pixel coordinates, on a DOTA PNG: one feature per box, in order.
        const boxes = await s.call("segment", {
          image: P1888.image,
          detections: {
            boxes: [
              {
                corners: [[100, 100], [140, 100], [140, 120], [100, 120]],
                class: "car",
                score: 0.9,
              },
              { corners: [[300, 300], [330, 310], [325, 325], [295, 315]] },
            ],
          },
          options: { prompt: "opm", simplify: 0.5 },
        });
        assertSchema("SegmentResponse", boxes);
        const fc = boxes.result;
        assert.equal(fc.type, "FeatureCollection");
        assert.equal(fc.name, "P1888");
        assert.equal(fc["sopseg:coordinates"], "pixel");
        assert.deepEqual(fc.features.map((f: Message) => f.properties.detection_index), [0, 1]);
        assert.equal(fc.features[0].properties.class, "car");
        assert.equal(fc.features[0].properties.score, 0.9);
        assert.equal(fc.features[1].properties.class, "object");
        assert.equal(fc.features[1].properties.score, null);
        assert.ok(fc.features[0].properties.area_px > 0);
        const origins = (r: Message) =>
          r.features.map((f: Message) => {
            const { source_file, source_line, source_record } = f.properties;
            return [source_file, source_line, source_record];
          });
        assert.deepEqual(origins(fc), [[null, null, null], [null, null, null]]); // boxes: none

        // The DOTA file by path, and the same text inline: the same 64 features.
        const byPath = await s.call("segment", {
          image: P1888.image,
          detections: { path: P1888.labels, format: "dota" },
        });
        assertSchema("SegmentResponse", byPath);
        assert.equal(byPath.result.features.length, 64);
        byPath.result.features.forEach((f: Message, i: number) => {
          assert.equal(f.properties.detection_index, i);
          assert.notEqual(f.geometry, null, `feature ${i} is empty`);
          assert.equal(f.properties.source_image, "P1888.png");
        });
        // two header lines, then a box per line
        const lines = byPath.result.features.map((_: Message, i: number) => i + 3);
        assert.deepEqual(origins(byPath.result), lines.map((l: number) => [P1888.labels, l, null]));
        const text = await Deno.readTextFile(P1888.labels);
        const id = await s.sendRequest("segment", { image: P1888.image, detections: { text } });
        const { response: byText, progress } = await s.response();
        assert.equal(byText.id, id);
        assert.deepEqual(
          origins(byText.result),
          lines.map((l: number) => ["detections.text", l, null]),
        );
        const sourceless = (r: Message) => ({
          ...r,
          features: r.features.map((f: Message) => ({
            ...f,
            properties: { ...f.properties, source_file: null },
          })),
        });
        assert.deepEqual(sourceless(byText.result), sourceless(byPath.result));
        // 64 boxes in batches of 8: a progress notification per batch, counting up to 64.
        assert.deepEqual(progress.map((p) => p.params.done), [8, 16, 24, 32, 40, 48, 56, 64]);
        for (const p of progress) {
          assertSchema("ProgressNotification", p);
          assert.deepEqual([p.params.id, p.params.total], [id, 64]);
        }

        // An iSAID JPEG tile.
        const tile = await firstIsaidTile();
        const jpeg = await s.call("segment", oneBox(tile, 200, 200));
        assertSchema("SegmentResponse", jpeg);
        assert.equal(jpeg.result.features.length, 1);

        // out: written atomically under --write; the answer says where and how many.
        const target = `${out}/sub/P1888.geojson`;
        const written = await s.call("segment", {
          image: P1888.image,
          detections: { path: P1888.labels },
          out: target,
        });
        assertSchema("SegmentResponse", written);
        assert.deepEqual(written.result, { out: target, features: 64 });
        const file = JSON.parse(await Deno.readTextFile(target));
        assertSchema("FeatureCollection", file);
        assert.deepEqual(file, byPath.result);
        for await (const e of Deno.readDir(`${out}/sub`)) assert.doesNotMatch(e.name, /tmp/);

        assert.equal(await s.stop(), 0);
        for (const line of s.stdoutLines) assertSchema("ServerMessage", JSON.parse(line));
        assert.match(
          await s.stderrText(),
          /ready: model sopseg-lite( \(small graphs at \d+ for crops up to \d+ px\))? on wasm/,
        );
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

dataTest(
  "serve answers every kind of bad input with its documented error and stays up",
  async () => {
    const out = await Deno.makeTempDir({ prefix: "sopseg-serve-" });
    const notImage = `${out}/not_an_image.png`;
    await Deno.writeTextFile(notImage, "hello");
    try {
      await withServer(["--read", DATA, "--write", out, "--max-line-bytes", "65536"], async (s) => {
        // -32700: not JSON, not UTF-8; id null.
        await s.writeRaw("{not json\n");
        assertError((await s.response()).response, -32700, /^Parse error/, null);
        await s.writeRaw(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
        assertError((await s.response()).response, -32700, /not valid UTF-8/, null);

        // -32600: not a request.
        await s.writeRaw("[1, 2]\n");
        assertError((await s.response()).response, -32600, /batches/, null);
        await s.writeRaw("42\n");
        assertError((await s.response()).response, -32600, /JSON object/, null);
        await s.send({ id: 7, method: "initialize" });
        assertError((await s.response()).response, -32600, /jsonrpc must be "2.0"/, 7);
        await s.send({ jsonrpc: "2.0", id: 8, method: 3 });
        assertError((await s.response()).response, -32600, /method must be a string/, 8);
        await s.send({ jsonrpc: "2.0", id: { x: 1 }, method: "initialize" });
        assertError((await s.response()).response, -32600, /id must be/, null);
        await s.send({ jsonrpc: "2.0", id: 9, method: "segment", params: "P1888.png" });
        assertError((await s.response()).response, -32600, /params must be/, 9);

        // -32601: unknown method.
        assertError(await s.call("segmentAll", {}), -32601, /Method not found: segmentAll/);

        // -32602: wrong or missing params, the field named in the message and data.field.
        const bad: [unknown, string][] = [
          [{ detections: { boxes: [] } }, "image"],
          [{ image: P1888.image }, "detections"],
          [{ image: 3, detections: { boxes: [] } }, "image"],
          [{ image: P1888.image, detections: {} }, "detections"],
          [{ image: P1888.image, detections: { boxes: [], path: "x" } }, "detections"],
          [
            { image: P1888.image, detections: { boxes: [{ corners: [[0, 0], [1, 0]] }] } },
            "detections.boxes[0].corners",
          ],
          [
            {
              image: P1888.image,
              detections: { boxes: [{ corners: [[0, 0], [9, 0], [9, "4"], [0, 4]] }] },
            },
            "detections.boxes[0].corners[2][1]",
          ],
          [{ image: P1888.image, detections: { text: "", format: "kml" } }, "detections.format"],
          [
            { image: P1888.image, detections: { boxes: [] }, options: { prompt: "lasso" } },
            "options.prompt",
          ],
          [
            { image: P1888.image, detections: { boxes: [] }, options: { backend: "webgpu" } },
            "options.backend",
          ],
          [
            { image: P1888.image, detections: { boxes: [] }, options: { simplify: -1 } },
            "options.simplify",
          ],
          [
            { image: P1888.image, detections: { boxes: [] }, options: { class_prompt: "yes" } },
            "options.class_prompt",
          ],
          [
            { image: P1888.image, detections: { boxes: [] }, options: { box_search: "on" } },
            "options.box_search",
          ],
          [
            {
              image: P1888.image,
              detections: { boxes: [] },
              options: { box_search: { shift: 1.5, margin: 0 } },
            },
            "options.box_search.shift",
          ],
          [
            {
              image: P1888.image,
              detections: { boxes: [] },
              options: { box_search: { shift: 0.1, margin: 0, rounds: 2 } },
            },
            "options.box_search.rounds",
          ],
          [
            {
              image: P1888.image,
              detections: { boxes: [] },
              options: { box_search: { shift: 0.1 } },
            },
            "options.box_search.margin",
          ],
          [{ image: P1888.image, detections: { boxes: [] }, colour: "red" }, "colour"],
        ];
        for (const [params, field] of bad) {
          const r = await s.call("segment", params);
          assertError(r, -32602, /^Invalid params: /);
          assert.equal(r.error.data.field, field, JSON.stringify(r));
          assert.ok(r.error.message.includes(field), r.error.message);
          assert.doesNotMatch(r.error.message, /got undefined/, "a missing field is said missing");
        }

        // -32001: missing image, a file that is not an image.
        const missing = `${DATA}/dota-samples/images/P9999.png`;
        const r1 = await s.call("segment", oneBox(missing));
        assertError(r1, -32001, /P9999\.png: no such file/);
        assert.deepEqual(r1.error.data, { kind: "image-unreadable", path: missing });
        assertError(
          await s.call("segment", oneBox(notImage)),
          -32001,
          /not_an_image\.png: the content is not a PNG/,
        );

        // -32002: a detection file that is not there.
        const r2 = await s.call("segment", {
          image: P1888.image,
          detections: { path: `${DATA}/dota-samples/labelTxt/P9999.txt` },
        });
        assertError(r2, -32002, /P9999\.txt: no such file/);

        // -32003: malformed detections, naming the line; a degenerate box, naming the box.
        const good = (await Deno.readTextFile(P1888.labels)).split("\n");
        const text = [good[0], good[1], "1 2 3 oops", good[2]].join("\n");
        const r3 = await s.call("segment", {
          image: P1888.image,
          detections: { text, format: "dota" },
        });
        assertError(r3, -32003, /line 3/);
        assert.equal(r3.error.data.kind, "detections-malformed");
        assert.equal(r3.error.data.issues[0].line, 3);
        const r4 = await s.call("segment", {
          image: P1888.image,
          detections: { boxes: [{ corners: [[0, 0], [10, 10], [20, 20], [30, 30]] }] },
        });
        assertError(r4, -32003, /detections\.boxes\[0\]: degenerate box/);

        // -32004: paths outside the roots, refused before they are touched, naming the flag.
        const r5 = await s.call("segment", oneBox("/etc/hostname"));
        assertError(r5, -32004, /--read \/etc/);
        assert.equal(r5.error.data.flag, "--read");
        const r6 = await s.call("segment", { ...oneBox(P1888.image), out: `${DATA}/x.geojson` });
        assertError(r6, -32004, /--write/);
        assert.equal(r6.error.data.field, "out");
        const r7 = await s.call("segment", {
          image: P1888.image,
          detections: { path: "/etc/passwd" },
        });
        assertError(r7, -32004, /detections\.path/);
        const escaping = `${DATA}/dota-samples/../../P1888.png`; // ".." out of the root
        const r8 = await s.call("segment", oneBox(escaping));
        assertError(r8, -32004, /^Cannot read \S+\/shared\/P1888\.png \(image\)/);
        assert.equal(r8.error.data.path, resolve(escaping));

        // -32006: a line over --max-line-bytes; the rest of the stream is still read.
        await s.send({
          jsonrpc: "2.0",
          id: 99,
          method: "segment",
          params: { pad: "x".repeat(70000) },
        });
        assertError((await s.response()).response, -32006, /over the limit of 65536/, null);

        // Notifications never get an answer, even unknown or malformed ones.
        await s.send({ jsonrpc: "2.0", method: "$/setTrace", params: { value: "off" } });
        await s.send({ jsonrpc: "2.0", method: "$/cancelRequest", params: {} });
        await s.writeRaw("\n   \n");

        // Still up: a good request after all that.
        const ok = await s.call("segment", oneBox(P1888.image));
        assertSchema("SegmentResponse", ok);
        assert.equal(ok.result.features.length, 1);
        assert.equal(await s.stop(), 0);
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

dataTest(
  "serve cancels the running request and a queued one with -32800 and stays ready",
  async () => {
    await withServer(["--read", DATA], async (s) => {
      const long = await s.sendRequest("segment", {
        image: P0706.image,
        detections: { path: P0706.labels },
      });
      const queued = await s.sendRequest("segment", oneBox(P1888.image));
      const after = await s.sendRequest("segment", oneBox(P1888.image));
      // Wait until the long one is running (its first progress), then cancel both.
      const first = await s.next();
      assert.equal(first.method, "$/progress", JSON.stringify(first));
      assert.equal(first.params.id, long);
      assert.equal(first.params.total, 536);
      await s.send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: long } });
      await s.send({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: queued } });
      const { response: r1, progress } = await s.response();
      assertError(r1, -32800, /cancelled/, long);
      assert.ok(progress.length < 10, `${progress.length} more batches ran after the cancel`);
      assertError((await s.response()).response, -32800, /cancelled/, queued);
      const { response: r3 } = await s.response();
      assert.equal(r3.id, after);
      assert.equal(r3.result.features.length, 1);
      assert.equal(await s.stop(), 0);
    });
  },
);

dataTest("serve finishes the request in progress at EOF and exits 0", async () => {
  await withServer(["--read", DATA], async (s) => {
    const id = await s.sendRequest("segment", {
      image: P1888.image,
      detections: { path: P1888.labels },
    });
    await s.closeStdin();
    const { code, rest } = await s.wait();
    assert.equal(code, 0);
    const messages = rest.map((l) => JSON.parse(l));
    for (const m of messages) assertSchema("ServerMessage", m);
    const response = messages.at(-1)!;
    assert.equal(response.id, id);
    assert.equal(response.result.features.length, 64);
  });
});

dataTest(
  "serve answers 1,000 small requests sent in a row, in order, and stdout holds only protocol",
  async () => {
    // Small requests of every kind, so that order is checked across kinds: a
    // one-box segment (a model call) every 10th, else an empty segment (the
    // whole request path but the model), initialize, an unknown method, bad params.
    const tile = await firstIsaidTile();
    const kinds = [
      "box",
      "empty",
      "initialize",
      "empty",
      "unknown",
      "empty",
      "bad",
      "empty",
      "empty",
      "empty",
    ];
    await withServer(["--read", DATA], async (s) => {
      const n = 1000;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = `r${i}`;
        const kind = kinds[i % kinds.length];
        const x = 20 + (i % 40) * 10;
        const message = kind === "box"
          ? { jsonrpc: "2.0", id, method: "segment", params: oneBox(tile, x, 200) }
          : kind === "empty"
          ? {
            jsonrpc: "2.0",
            id,
            method: "segment",
            params: { image: tile, detections: { boxes: [] } },
          }
          : kind === "initialize"
          ? { jsonrpc: "2.0", id, method: "initialize" }
          : kind === "unknown"
          ? { jsonrpc: "2.0", id, method: "segmentAll" }
          : { jsonrpc: "2.0", id, method: "segment", params: { image: tile } };
        lines.push(JSON.stringify(message));
      }
      // All at once, then EOF: the server reads ahead and answers each in turn.
      const writing = s.writeRaw(lines.join("\n") + "\n").then(() => s.closeStdin());
      for (let i = 0; i < n; i++) {
        const m = await s.next();
        assert.equal(m.id, `r${i}`, JSON.stringify(m).slice(0, 300));
        switch (kinds[i % kinds.length]) {
          case "box":
            assertSchema("SegmentResponse", m);
            assert.equal(m.result.features.length, 1);
            break;
          case "empty":
            assertSchema("SegmentResponse", m);
            assert.equal(m.result.features.length, 0);
            break;
          case "initialize":
            assertSchema("InitializeResponse", m);
            break;
          case "unknown":
            assert.equal(m.error.code, -32601);
            break;
          case "bad":
            assert.equal(m.error.code, -32602);
            break;
        }
      }
      await writing;
      const { code, rest } = await s.wait();
      assert.equal(code, 0);
      assert.deepEqual(rest, []);
      assert.equal(s.stdoutLines.length, n);
    });
  },
);

dataTest(
  "serve: requests after shutdown get -32600; exit without shutdown ends with 1",
  async () => {
    await withServer(["--read", DATA], async (s) => {
      assert.equal((await s.call("shutdown")).result, null);
      assertError(await s.call("initialize"), -32600, /after shutdown/);
      await s.send({ jsonrpc: "2.0", method: "exit" });
      assert.equal((await s.wait()).code, 0);
    });
    await withServer(["--read", DATA], async (s) => {
      await s.send({ jsonrpc: "2.0", method: "exit" });
      assert.equal((await s.wait()).code, 1);
    });
  },
);

dataTest("serve reads and writes folders whose paths hold a comma", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "sopseg-serve-comma-" }));
  try {
    await Deno.mkdir(`${dir}/in,put`);
    await Deno.mkdir(`${dir}/out,put`);
    const image = `${dir}/in,put/P1888.png`;
    await Deno.copyFile(P1888.image, image);
    await withServer(["--read", `${dir}/in,put`, "--write", `${dir}/out,put`], async (s) => {
      const r = await s.call("segment", { ...oneBox(image), out: `${dir}/out,put/a.geojson` });
      assert.equal(r.error, undefined, JSON.stringify(r));
      assert.equal(r.result.features, 1, JSON.stringify(r));
      const written = JSON.parse(await Deno.readTextFile(`${dir}/out,put/a.geojson`));
      assert.equal(written.features.length, 1);
      // the server's own check still holds requests to the folders given
      const outside = await s.call("segment", oneBox(P1888.image));
      assertError(outside, -32004, /--read/);
      assert.equal(await s.stop(), 0);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

dataTest(
  "serve marks the box-searched features box_moved and counts them in a result with out",
  async () => {
    const out = await Deno.realPath(await Deno.makeTempDir({ prefix: "sopseg-serve-moved-" }));
    try {
      // two P0706 ships of some 75 px (crops on the main graphs: searched), each also moved
      // off itself by 0.12 of its length (a weak detector's box), and a 50-px ship (not searched)
      const all = parseDota(await Deno.readTextFile(P0706.labels), { source: "-" }).detections;
      const [a, b, small] = [all[211]!, all[222]!, all[180]!];
      assert.deepEqual([a, b, small].map((d) => d.className), ["ship", "ship", "ship"]);
      const corners = (box: OrientedBox) => boxCorners(box).map((p) => [p.x, p.y]);
      const boxes = [a.box, movedBoxes(a.box, 0.12)[0]!, b.box, movedBoxes(b.box, 0.12)[0]!]
        .concat(small.box)
        .map((box) => ({ corners: corners(box), class: "ship" }));
      await withServer(["--read", DATA, "--write", out], async (s) => {
        const segment = async (options: Message, target?: string) => {
          const r = await s.call("segment", {
            image: P0706.image,
            detections: { boxes },
            options,
            ...(target === undefined ? {} : { out: target }),
          });
          assertSchema("SegmentResponse", r);
          return r.result;
        };
        const movedOf = (fc: Message) =>
          fc.features.map((f: Message) =>
            "box_moved" in f.properties ? f.properties.box_moved : "absent"
          );
        // a margin no moved box can beat: searched, never moved
        const never = await segment({ box_search: { shift: 0.06, margin: 0.999 } });
        assert.deepEqual(movedOf(never), [false, false, false, false, "absent"]);
        assert.deepEqual(
          await segment({ box_search: { shift: 0.06, margin: 0.999 } }, `${out}/never.geojson`),
          { out: `${out}/never.geojson`, features: 5, box_search: { searched: 4, moved: 0 } },
        );

        // box_search: true; the weak detector's boxes come back
        const fc = await segment({ box_search: true });
        const moved = movedOf(fc);
        assert.deepEqual(moved.map((m: unknown) => typeof m), [
          ...Array(4).fill("boolean"),
          "string",
        ]);
        assert.ok(moved[1] === true || moved[3] === true, `the moved boxes: ${moved}`);
        const target = `${out}/P0706.geojson`;
        const written = await segment({ box_search: true }, target);
        assert.deepEqual(written, {
          out: target,
          features: 5,
          box_search: { searched: 4, moved: moved.filter((m: unknown) => m === true).length },
        });
        assert.deepEqual(JSON.parse(await Deno.readTextFile(target)), fc);

        // without the search (or with it off): no box_moved, no counts
        for (const options of [{}, { box_search: false }]) {
          const plain = await segment(options);
          assert.deepEqual(movedOf(plain), Array(5).fill("absent"));
          assert.deepEqual(await segment(options, `${out}/plain.geojson`), {
            out: `${out}/plain.geojson`,
            features: 5,
          });
        }
        assert.equal(await s.stop(), 0);
        for (const line of s.stdoutLines) assertSchema("ServerMessage", JSON.parse(line));
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

dataTest(
  "serve refuses an out that names a folder, notifications sent with an id, and far-off corners, saying so",
  async () => {
    const out = await Deno.realPath(await Deno.makeTempDir({ prefix: "sopseg-serve-out-" }));
    try {
      await withServer(["--read", DATA, "--write", out], async (s) => {
        for (const target of [out, `${out}/`, `${out}/new/`]) {
          const r = await s.call("segment", { ...oneBox(P1888.image), out: target });
          assertError(r, -32602, /^Invalid params: out must name a file .*not a folder$/);
          assert.equal(r.error.data.field, "out");
        }
        assert.deepEqual([...Deno.readDirSync(out)], [], "nothing written");
        const id = 41;
        await s.send({ jsonrpc: "2.0", id, method: "exit" });
        assertError(await s.next(), -32600, /exit is a notification: send it without an id/, id);
        const far = await s.call("segment", {
          image: P1888.image,
          detections: {
            boxes: [{ corners: [[0, 0], [1e308, 0], [1e308, 1e308], [0, 1e308]], class: "car" }],
          },
        });
        assert.match(JSON.stringify(far.error), /out of range/, JSON.stringify(far));
        assert.equal(await s.stop(), 0);
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

dataTest(
  "serve tells the client what segment prints as warnings ($/warning): boxes outside the image, a file that is not UTF-8, an all-nodata raster",
  async () => {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "sopseg-serve-warn-" }));
    try {
      const voidTif = `${dir}/void.tif`;
      await Deno.copyFile(await fixture("f32_all_nodata.tif"), voidTif);
      // "car" in Latin-1 with an e-acute: not UTF-8
      const latin1 = `${dir}/latin1.txt`;
      await Deno.writeFile(
        latin1,
        new Uint8Array([
          ..."10 10 40 10 40 25 10 25 voitur".split("").map((c) => c.charCodeAt(0)),
          0xe9,
          ...new TextEncoder().encode(" 0\n"),
        ]),
      );
      await withServer(["--read", DATA, "--read", dir], async (s) => {
        const send = async (params: unknown) => {
          const id = await s.sendRequest("segment", params);
          const r = await s.response();
          assert.equal(r.response.id, id);
          for (const w of r.warnings) assert.equal(w.params.id, id);
          return { ...r, messages: r.warnings.map((w) => w.params.message as string) };
        };

        const clean = await send(oneBox(P1888.image));
        assert.deepEqual(clean.messages, [], "no warning for a box on the image");

        const far = oneBox(P1888.image, 5000, 5000);
        const two = {
          ...far,
          detections: {
            boxes: [
              ...(oneBox(P1888.image).detections as { boxes: unknown[] }).boxes,
              ...(far.detections as { boxes: unknown[] }).boxes,
            ],
          },
        };
        const some = await send(two);
        assert.deepEqual(some.messages, [
          `${P1888.image}: 1 of 2 detection(s) lie entirely outside the image (712 x 557 px): their masks are empty`,
        ]);
        assert.equal(some.response.result.features[1].geometry, null);
        const all = await send(far);
        assert.match(all.messages[0]!, /1 of 1 detection\(s\) .*: all of them \(another image's/);
        // sent before the first progress of a request that has some
        const many = await s.sendRequest("segment", {
          image: P1888.image,
          detections: { path: P1888.labels },
        });
        const order: string[] = [];
        while (true) {
          const m = await s.next();
          if (m.id === many) break;
          order.push(m.method);
        }
        assert.ok(order.length > 1 && order.every((m) => m === "$/progress"), order.join());

        const decoded = await send({ image: P1888.image, detections: { path: latin1 } });
        assert.deepEqual(decoded.messages, [
          `${latin1} is not UTF-8 text: bytes it cannot decode are read as "\uFFFD" (class names may not match; save it as UTF-8)`,
        ]);
        assert.equal(decoded.response.result.features[0].properties.class, "voitur\uFFFD");

        const voided = await send({ ...oneBox(voidTif, 10, 10) });
        assert.equal(voided.messages.length, 1, voided.messages.join("\n"));
        assert.match(
          voided.messages[0]!,
          /void\.tif: every pixel sampled in band 1 is nodata \(-9999\) or not finite: its masks will be empty/,
        );
        assert.equal(await s.stop(), 0);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
