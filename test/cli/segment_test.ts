import assert from "node:assert/strict";
import { DOTA, runCli, runTask } from "./_run_cli.ts";
import { dataTest } from "../_data.ts";
import { ISAID_VAL, isaidSubset } from "./_isaid_subset.ts";
import { decodeRle } from "../../src/masks/rle.ts";
import { parseDota } from "../../src/formats/dota.ts";
import { boxCorners } from "../../src/geometry/oriented_box.ts";
import { movedBoxes } from "../../src/pipeline/segment_image.ts";
import { gdal } from "../raster/_fixtures.ts";

interface Feature {
  geometry: unknown;
  properties: { detection_index: number; source_image: string };
}

/** One DOTA sample image (64 boxes) and its labels. */
const P1888 = [
  "--images",
  `${DOTA}/images/P1888.png`,
  "--detections",
  `${DOTA}/labelTxt/P1888.txt`,
];

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

dataTest({
  name: "segment writes one non-empty mask per DOTA detection, GeoJSON and COCO",
  needs: [DOTA],
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const r = await runTask("segment", [
        "--images",
        `${DOTA}/images`,
        "--detections",
        `${DOTA}/labelTxt`,
        "--out",
        out,
        "--backend",
        "wasm",
        "--overlay",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /done: 600 masks on 2 image\(s\)/);
      const expected: Record<string, number> = { P0706: 536, P1888: 64 };
      const coco = await readJson(`${out}/coco.json`);
      assert.equal(coco.images.length, 2);
      assert.equal(coco.annotations.length, 600);
      for (const [stem, n] of Object.entries(expected)) {
        const fc = await readJson(`${out}/${stem}.geojson`);
        assert.equal(fc.type, "FeatureCollection");
        assert.equal(fc["sopseg:coordinates"], "pixel");
        assert.equal(fc.features.length, n);
        fc.features.forEach((f: Feature, i: number) => {
          assert.equal(f.properties.detection_index, i);
          assert.ok(f.geometry !== null, `${stem} feature ${i} has an empty mask`);
          assert.equal(f.properties.source_image, `${stem}.png`);
        });
        const png = await Deno.readFile(`${out}/${stem}.overlay.png`);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
      }
      for (const a of coco.annotations) {
        assert.ok(a.area > 0, `annotation ${a.id} is empty`);
        const mask = decodeRle(a.segmentation);
        assert.equal(mask.reduce((s: number, v: number) => s + v, 0), a.area);
      }
      // No temporary files left behind.
      for await (const e of Deno.readDir(out)) assert.doesNotMatch(e.name, /tmp/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

dataTest({
  name: "segment reports malformed lines with file and line, skips them and exits 1",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const good = (await Deno.readTextFile(`${DOTA}/labelTxt/P1888.txt`)).split("\n");
      const lines = [
        good[0],
        good[1],
        good[2],
        "1 2 3 oops",
        good[3],
        "10 10 10 10 10 10 10 10 car 0",
      ];
      await Deno.mkdir(`${dir}/labels`);
      await Deno.writeTextFile(`${dir}/labels/P1888.txt`, lines.join("\n") + "\n");
      const r = await runCli([
        "segment",
        "--images",
        `${DOTA}/images/P1888.png`,
        "--detections",
        `${dir}/labels/P1888.txt`,
        "--out",
        `${dir}/out`,
        "--backend",
        "wasm",
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /labels\/P1888.txt:4: .*\(skipped\)/);
      assert.match(r.stderr, /labels\/P1888.txt:6: .*\(skipped\)/);
      assert.match(r.stderr, /2 malformed detection\(s\) skipped/);
      const fc = await readJson(`${dir}/out/P1888.geojson`);
      assert.equal(fc.features.length, 2);
      // each mask names its line in the detection file: lines 3 and 5 (4 and 6 were skipped)
      const origins = (ps: Record<string, unknown>[]) =>
        ps.map((p) => [p.detection_index, p.source_file, p.source_line, p.source_record]);
      const file = `${dir}/labels/P1888.txt`;
      const expected = [[0, file, 3, null], [1, file, 5, null]];
      assert.deepEqual(origins(fc.features.map((f: Feature) => f.properties)), expected);
      const coco = await readJson(`${dir}/out/coco.json`);
      assert.deepEqual(origins(coco.annotations), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** `deno task segment` on P1888.png, DOTA detections `text` on stdin, NDJSON on stdout. */
async function segmentP1888Stdin(text: string, flags: string[] = []) {
  const r = await runTask("segment", [
    "--images",
    `${DOTA}/images/P1888.png`,
    "--detections",
    "-",
    "--out",
    "-",
    "--backend",
    "wasm",
    "--quiet",
    ...flags,
  ], text);
  assert.equal(r.code, 0, r.stderr);
  // --quiet: no backend line, no progress; the closing line names the backend
  assert.doesNotMatch(r.stderr, /sopseg: backend|boxes, \d+ instances|\[1\/1\]/);
  assert.match(r.stderr, /done: \d+ masks on 1 image\(s\) .*wasm/);
  return r.stdout.trim().split("\n");
}

dataTest({
  name: "segment pipes: detections from stdin, NDJSON features to stdout",
  needs: [DOTA],
  async fn() {
    const text = await Deno.readTextFile(`${DOTA}/labelTxt/P1888.txt`);
    const lines = await segmentP1888Stdin(text);
    assert.equal(lines.length, 64);
    const features = lines.map((l) => JSON.parse(l));
    assert.deepEqual(features.map((f) => f.properties.detection_index), [...Array(64).keys()]);
    // two header lines, then one box per line
    assert.deepEqual(
      features.map((f) => [f.properties.source_file, f.properties.source_line]),
      [...Array(64).keys()].map((i) => ["<stdin>", i + 3]),
    );
    assert.ok(features.every((f) => f.type === "Feature"));
  },
});

dataTest({
  name:
    "segment --class-prompt off is every class unknown; on, the detector's classes change masks",
  needs: [DOTA],
  async fn() {
    const text = await Deno.readTextFile(`${DOTA}/labelTxt/P1888.txt`);
    // DOTA lines: 8 coordinates, class, difficult; the class renamed to one no model knows
    const renamed = text.replace(/^((?:\S+[ \t]+){8})\S+(?=[ \t])/gm, "$1unheard-of-thing");
    assert.notEqual(renamed, text);
    const run = async (input: string, flags: string[]) =>
      (await segmentP1888Stdin(input, flags)).map((l) => JSON.stringify(JSON.parse(l).geometry));
    const off = await run(text, ["--class-prompt", "off"]);
    const unknown = await run(renamed, []);
    const on = await run(text, []);
    assert.equal(off.length, 64);
    assert.deepEqual(unknown, off);
    assert.ok(on.some((g, i) => g !== off[i]), "the detector's classes changed no mask");
    const bad = await runCli(["segment", ...P1888, "--out", "-", "--class-prompt", "maybe"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /class-prompt/);
  },
});

dataTest({
  name: "segment --resume skips images whose outputs exist",
  needs: [DOTA],
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const args = [
        "segment",
        ...P1888,
        "--out",
        out,
        "--backend",
        "wasm",
      ];
      assert.equal((await runCli(args)).code, 0);
      const before = await Deno.readTextFile(`${out}/coco.json`);
      const r = await runCli([...args, "--resume"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /skipped/);
      assert.equal(await Deno.readTextFile(`${out}/coco.json`), before);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

dataTest({
  name: "segment --sessions 2 (two workers) writes exactly what one session writes",
  needs: [DOTA],
  async fn() {
    const outs: string[] = [];
    try {
      for (const sessions of ["1", "2"]) {
        const out = await Deno.makeTempDir();
        outs.push(out);
        const r = await runTask("segment", [
          ...P1888,
          "--out",
          out,
          "--backend",
          "wasm",
          "--threads",
          "2",
          "--batch",
          "4",
          "--sessions",
          sessions,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /done: 64 masks/);
      }
      for (const file of ["P1888.geojson", "coco.json"]) {
        const [a, b] = await Promise.all(outs.map((o) => Deno.readFile(`${o}/${file}`)));
        assert.ok(a!.length > 1000, file);
        assert.deepEqual(b, a, `${file} differs between one session and two`);
      }
    } finally {
      for (const o of outs) await Deno.remove(o, { recursive: true });
    }
  },
});

dataTest({
  name: "segment starts no more WASM sessions than the run has batches (unless --sessions says)",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const lines = (await Deno.readTextFile(`${DOTA}/labelTxt/P1888.txt`)).split("\n")
        .filter((l) => /^\d/.test(l));
      // [boxes, extra flags, the layout the backend line names]
      const wasm = ["--backend", "wasm"];
      const cases: [number, string[], RegExp][] = [
        [1, wasm, /backend wasm \(asked for wasm\)\n/], // one batch: one session, two threads
        [9, wasm, /\(asked for wasm \(2 sessions x 1 thread\)\)/], // two batches of 8
        [1, [...wasm, "--sessions", "2"], /\(asked for wasm \(2 sessions x 1 thread\)\)/],
        // auto with one batch: WASM without asking for a WebGPU adapter
        [1, [], /sopseg: auto: one batch of work, less than WebGPU's self-check would run/],
      ];
      for (const [boxes, flags, layout] of cases) {
        await Deno.writeTextFile(`${dir}/P1888.txt`, lines.slice(0, boxes).join("\n") + "\n");
        const out = `${dir}/out-${boxes}-${flags.length}`;
        const r = await runTask("segment", [
          "--images",
          `${DOTA}/images/P1888.png`,
          "--detections",
          `${dir}/P1888.txt`,
          "--out",
          out,
          "--threads",
          "2",
          ...flags,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`done: ${boxes} masks`));
        assert.match(r.stderr, layout, `${boxes} boxes ${flags.join(" ")}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name: "segment --sessions 2 on small tiles (two at once) writes what one session writes",
  needs: [`${ISAID_VAL}/images`, `${ISAID_VAL}/annotations.json.gz`],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_lanes_" });
    try {
      // 12 tiles of at most 6 boxes: one batch each, so two sessions need two tiles at once.
      const subset = await isaidSubset(dir, { count: 12, maxBoxes: 6 });
      const total = subset.boxes.reduce((a, b) => a + b);
      for (const [name, sessions] of [["one", "1"], ["two", "2"]]) {
        const r = await runTask("segment", [
          "--images",
          subset.images,
          "--detections",
          subset.labels,
          "--out",
          `${dir}/${name}`,
          "--backend",
          "wasm",
          "--threads",
          "2",
          "--sessions",
          sessions!,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`done: ${total} masks on 12 image\\(s\\)`));
        // every tile reported once, whatever the order they finished in
        for (const n of subset.names) {
          const done = r.stderr.split("\n").filter((l) =>
            l.includes(`/${n}: `) && / masks in /.test(l)
          );
          assert.equal(done.length, 1, `${n} in ${r.stderr}`);
        }
      }
      const files = [...subset.names.map((n) => n.replace(/\.[^.]+$/, ".geojson")), "coco.json"];
      for (const f of files) {
        const [a, b] = await Promise.all(
          ["one", "two"].map((d) => Deno.readFile(`${dir}/${d}/${f}`)),
        );
        assert.deepEqual(b, a, `${f} differs between one session and two`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name:
    "segment --box-search on says how many boxes it searched and how many masks moved, and marks them box_moved",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // P0706's 5 harbours (crops over 96 px: the main graphs) and 3 small ships (not searched),
      // then two ships of some 75 px (main graphs too) moved off themselves by 0.12 of their
      // length, as a weak detector's boxes
      const lines = (await Deno.readTextFile(`${DOTA}/labelTxt/P0706.txt`)).split("\n");
      const ships = parseDota([214, 225].map((n) => lines[n - 1]).join("\n"), { source: "-" });
      assert.deepEqual(ships.detections.map((d) => d.className), ["ship", "ship"]);
      const weak = ships.detections.map((d) =>
        boxCorners(movedBoxes(d.box, 0.12)[0]!).map((p) => `${p.x} ${p.y}`).join(" ") + " ship 0"
      );
      const labels = [...[174, 175, 176, 177, 538, 4, 5, 6].map((n) => lines[n - 1]!), ...weak];
      assert.ok(labels.slice(0, 5).every((l) => l.includes("harbor")), "the harbours' lines");
      await Deno.writeTextFile(`${dir}/P0706.txt`, labels.join("\n") + "\n");
      const run = (out: string, flags: string[]) =>
        runTask("segment", [
          ...["--images", `${DOTA}/images/P0706.png`, "--detections", `${dir}/P0706.txt`],
          ...["--out", `${dir}/${out}`, "--backend", "wasm", ...flags],
        ]);
      const r = await run("out", ["--box-search", "ON"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /done: 10 masks/);
      const said = r.stderr.match(
        /box search: (\d+) box\(es\) searched .*, (\d+) mask\(s\) from a moved box/,
      );
      assert.ok(said, r.stderr);
      assert.equal(Number(said[1]), 7, "the 5 harbours and the 2 moved ships, not the small ships");

      // box_moved on the searched boxes' features only, as many true as the run said moved
      type Props = { predicted_iou: number; obb_pixel: number[]; box_moved?: boolean };
      const props = async (out: string): Promise<Props[]> =>
        (await readJson(`${dir}/${out}/P0706.geojson`)).features.map(
          (f: { properties: Props }) => f.properties,
        );
      const on = await props("out");
      const moved = on.map((p) => p.box_moved);
      assert.deepEqual(moved.map((m) => typeof m), [
        ...Array(5).fill("boolean"),
        ...Array(3).fill("undefined"),
        ...Array(2).fill("boolean"),
      ]);
      assert.equal(moved.filter((m) => m === true).length, Number(said[2]));
      assert.ok(moved.slice(8).includes(true), `the moved ships come back: ${moved}`);
      const coco = await readJson(`${dir}/out/coco.json`);
      assert.deepEqual(
        coco.annotations.map((a: { box_moved?: boolean }) => a.box_moved),
        moved,
        "coco.json says the same",
      );

      // without the search: no box_moved anywhere; a mask said moved scored past the margin
      // (0.05) over the given box's, one said not moved is the given box's
      const plain = await run("plain", []);
      assert.equal(plain.code, 0, plain.stderr);
      assert.doesNotMatch(plain.stderr, /box search/);
      const off = await props("plain");
      assert.ok(off.every((p) => !("box_moved" in p)), "no box_moved without --box-search");
      const plainCoco = await Deno.readTextFile(`${dir}/plain/coco.json`);
      assert.doesNotMatch(plainCoco, /box_moved/);
      on.forEach((p, i) => {
        const given = off[i]!;
        assert.deepEqual(p.obb_pixel, given.obb_pixel, `box ${i}: obb stays the given box`);
        if (p.box_moved === true) {
          assert.ok(p.predicted_iou > given.predicted_iou + 0.05 - 1e-4, `box ${i} moved`);
        } else {
          assert.ok(Math.abs(p.predicted_iou - given.predicted_iou) < 1e-3, `box ${i} kept`);
        }
      });

      // FlatGeobuf (read by GDAL, as QGIS does): the same values, empty for the small ships
      const fgb = await run("fgb", ["--box-search", "on", "--vector-format", "fgb"]);
      assert.equal(fgb.code, 0, fgb.stderr);
      const json = JSON.parse(
        new TextDecoder().decode(
          await gdal("ogr2ogr", ["-f", "GeoJSON", "/vsistdout/", `${dir}/fgb/P0706.fgb`]),
        ),
      );
      const fromFgb: (boolean | undefined)[] = [];
      for (const f of json.features) {
        fromFgb[f.properties.detection_index] = f.properties.box_moved ?? undefined;
      }
      assert.deepEqual(fromFgb, moved);

      const bad = await run("out2", ["--box-search", "0.5,1"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /its MARGIN must be in \[0, 1\), got 1/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("segment usage errors exit 2 and name the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["segment", "--images", "x"], /--detections is required/],
    [
      ["segment", "--images", "x", "--detections", "y", "--out", "o", "--backend", "cuda"],
      /valid backends are auto, wasm, webgpu/,
    ],
    [
      ["segment", "--images", "x", "--detections", "y", "--out", "o", "--batch", "0"],
      /--batch must be a positive integer/,
    ],
    [
      ["segment", "--images", "x", "--detections", "y", "--out", "o", "--sessions", "0"],
      /--sessions must be a positive integer/,
    ],
    [
      ["segment", "--images", "x", "--detections", "y", "--out", "o", "--bands", "1,2"],
      /--bands must be one or three 1-based band numbers/,
    ],
    [["segment", "--nope"], /Unknown option '--nope'/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    if (args[0] === "segment") {
      // the error first and alone, the options a --help away
      assert.match(
        r.stderr,
        /^sopseg segment: .*\nRun "deno task segment --help" for its options\.\n$/,
      );
    }
  }
  // a choice in capitals is the choice: LE90 is le90 (the run gets past the flags)
  const upper = await runCli([
    "segment",
    "--images",
    "/nonexistent",
    "--detections",
    "y",
    "--out",
    "o",
    "--angle-convention",
    "LE90",
    "--backend",
    "WASM",
  ]);
  assert.doesNotMatch(upper.stderr, /--angle-convention must be|valid backends/, upper.stderr);
});

dataTest({
  name: "segment exits 2 when the run cannot start for a reason a retry does not fix",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg-setup-" });
    try {
      const cases: [string, string[], RegExp, string?][] = [
        ["a model folder without a manifest", [...P1888, "--out", "-", "--model", dir], /manifest/],
        [
          "--out naming a file",
          [...P1888, "--out", `${DOTA}/labelTxt/P1888.txt`],
          /Cannot write to --out .*P1888\.txt/,
        ],
        [
          "stdin for a folder of images",
          ["--images", `${DOTA}/images`, "--detections", "-", "--out", "-"],
          /stdin takes one image/,
          "10 10 30 10 30 20 10 20 ship 0\n",
        ],
      ];
      await Deno.writeTextFile(`${dir}/results.bbox.json`, '[{"image_id": "P1888", "bbox": [');
      cases.push([
        "mmrotate results that are not JSON",
        ["--images", `${DOTA}/images`, "--detections", `${dir}/results.bbox.json`, "--out", "-"],
        /results\.bbox\.json.*not JSON/,
      ]);
      for (const [what, args, message, stdin] of cases) {
        const r = await runCli(["segment", ...args, "--backend", "wasm"], stdin);
        assert.equal(r.code, 2, `${what}: ${r.stderr}`);
        assert.match(r.stderr, message, what);
        assert.equal(r.stdout, "", what);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("segment names a missing image folder and exits 1", async () => {
  const r = await runCli([
    "segment",
    "--images",
    "/nonexistent/imgs",
    "--detections",
    "/nonexistent/labels",
    "--out",
    "-",
    "--backend",
    "wasm",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot read \/nonexistent\/imgs: no such file or folder/);
});
