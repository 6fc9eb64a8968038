// segmentRun() through the library (the model on WASM, GDAL-made rasters): the
// cases a CLI run rarely shows.
import assert from "node:assert/strict";
import {
  RunBusyError,
  type RunEvent,
  segmentRun,
  type SegmentRunOptions,
} from "../../src/pipeline/segment_run.ts";
import { SopsegModel } from "../../src/model/sopseg_model.ts";
import { openImage, segmentDetections } from "../../src/pipeline/segment_detections.ts";
import { InputError } from "../../src/pipeline/input_error.ts";
import { DEFAULT_MODEL_DIR } from "../../src/model/default_model.ts";
import { fixture } from "../raster/_fixtures.ts";

interface Fc {
  features: { geometry: unknown; properties: { class: string; score: number | null } }[];
}

async function run(model: SopsegModel, options: Omit<SegmentRunOptions, "onEvent">) {
  const events: RunEvent[] = [];
  const summary = await segmentRun(model, { ...options, onEvent: (e) => events.push(e) });
  return { summary, events };
}

async function readFc(path: string): Promise<Fc> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("segmentRun()", async (t) => {
  const model = await SopsegModel.load(DEFAULT_MODEL_DIR, { backend: "wasm", threads: 1 });
  const dir = await Deno.makeTempDir({ prefix: "sopseg_run_" });
  const png = await fixture("rgb8.png"); // 600 x 400
  const text = (s: string) => ({ kind: "text" as const, text: s, source: "<test>" });
  try {
    await t.step("writes empty outputs for an empty detection file", async () => {
      const { summary } = await run(model, {
        images: png,
        detections: text(""),
        out: `${dir}/empty`,
      });
      assert.equal(summary.imagesDone, 1);
      assert.equal(summary.instances, 0);
      assert.deepEqual((await readFc(`${dir}/empty/rgb8.geojson`)).features, []);
      const coco = JSON.parse(await Deno.readTextFile(`${dir}/empty/coco.json`));
      assert.equal(coco.images.length, 1);
      assert.equal(coco.annotations.length, 0);
    });

    await t.step("gives a box entirely outside the image an empty mask, not an error", async () => {
      const { summary, events } = await run(model, {
        images: png,
        detections: text(
          "700 500 760 500 760 540 700 540 car 0\n100 100 140 100 140 120 100 120 car 0\n",
        ),
        out: `${dir}/outside`,
      });
      assert.equal(summary.imagesFailed, 0);
      const fc = await readFc(`${dir}/outside/rgb8.geojson`);
      assert.equal(fc.features.length, 2);
      assert.equal(fc.features[0]!.geometry, null);
      assert.notEqual(fc.features[1]!.geometry, null);
      // just left of the image, last in the file: empty too (its context reaches the image's
      // edge, where the model would find a sliver), and no model call: predicted IoU 0
      const edge = await run(model, {
        images: png,
        detections: text(
          "100 100 140 100 140 120 100 120 car 0\n-40 42 -1 42 -1 58 -40 58 car 0\n",
        ),
        out: `${dir}/edge`,
      });
      assert.equal(edge.summary.instances, 2);
      const edgeFc = JSON.parse(await Deno.readTextFile(`${dir}/edge/rgb8.geojson`));
      assert.notEqual(edgeFc.features[0].geometry, null);
      assert.equal(edgeFc.features[1].geometry, null);
      assert.equal(edgeFc.features[1].properties.predicted_iou, 0);
      assert.equal(edgeFc.features[1].properties.area_px, 0);
      // a box over the image many times over: the image is a speck of its crop, the mask
      // empty, and so is its predicted IoU (the model's guess was about a mask not kept)
      const huge = await run(model, {
        images: png,
        detections: text("-1e6 -1e6 1e6 -1e6 1e6 1e6 -1e6 1e6 car 0\n"),
        out: `${dir}/huge`,
      });
      assert.equal(huge.summary.instances, 1);
      const hugeFc = JSON.parse(await Deno.readTextFile(`${dir}/huge/rgb8.geojson`));
      assert.equal(hugeFc.features[0].geometry, null);
      assert.equal(hugeFc.features[0].properties.predicted_iou, 0);
      const said = events.filter((e) => e.kind === "warning").map((e) => e.message);
      assert.deepEqual(said.length, 1, JSON.stringify(said));
      assert.match(
        said[0]!,
        /rgb8\.png: 1 of 2 detection\(s\) lie entirely outside the image \(600 x 400 px\): their masks are empty$/,
      );
      // every box outside: the likely causes are named
      const all = await run(model, {
        images: png,
        detections: text("700 500 760 500 760 540 700 540 car 0\n"),
        out: null,
      });
      assert.ok(
        all.events.some((e) =>
          e.kind === "warning" && /1 of 1 .*: all of them \(another image's/.test(e.message)
        ),
        JSON.stringify(all.events),
      );
    });

    await t.step("segments a box larger than the RAM limit (Smax = 1024 px)", async () => {
      const big = await fixture("big_tiled.tif"); // 3072 x 3072
      const { summary } = await run(model, {
        images: big,
        detections: text("200 1300 1900 1300 1900 1700 200 1700 ship 0\n"),
        out: `${dir}/big`,
      });
      assert.equal(summary.imagesFailed, 0);
      const coco = JSON.parse(await Deno.readTextFile(`${dir}/big/coco.json`));
      assert.equal(coco.annotations.length, 1);
      const [x, , w] = coco.annotations[0].bbox;
      assert.ok(coco.annotations[0].area > 0);
      assert.ok(x >= 0 && x + w <= 3072);
    });

    await t.step("keeps duplicate and overlapping boxes as separate instances", async () => {
      const box = "100 100 160 100 160 140 100 140 car 0";
      const { summary } = await run(model, {
        images: png,
        detections: text(`${box}\n${box}\n120 110 180 110 180 150 120 150 car 0\n`),
        out: `${dir}/dup`,
      });
      assert.equal(summary.instances, 3);
      const coco = JSON.parse(await Deno.readTextFile(`${dir}/dup/coco.json`));
      const [a, b, c] = coco.annotations;
      // The same prompt twice gives the same mask; the overlapping box its own.
      assert.deepEqual(a.segmentation, b.segmentation);
      assert.deepEqual(
        coco.annotations.map((x: { detection_index: number }) => x.detection_index),
        [0, 1, 2],
      );
      assert.ok(c.area > 0);
    });

    await t.step("goes on past an image that fails to decode and counts it", async () => {
      const folder = `${dir}/mixed`;
      await Deno.mkdir(`${folder}/images`, { recursive: true });
      await Deno.mkdir(`${folder}/labels`);
      for (const name of ["a", "b", "c"]) {
        const src = name === "b" ? await fixture("truncated.png") : png;
        await Deno.copyFile(src, `${folder}/images/${name}.png`);
        await Deno.writeTextFile(
          `${folder}/labels/${name}.txt`,
          "100 100 140 100 140 120 100 120 car 0\n",
        );
      }
      const { summary, events } = await run(model, {
        images: `${folder}/images`,
        detections: { kind: "path", path: `${folder}/labels` },
        out: `${folder}/out`,
      });
      assert.equal(summary.imagesDone, 2);
      assert.equal(summary.imagesFailed, 1);
      const failed = events.filter((e) => e.kind === "image-failed");
      assert.equal(failed.length, 1);
      assert.match(failed[0]!.kind === "image-failed" ? failed[0]!.image : "", /b\.png$/);
      assert.ok(await exists(`${folder}/out/a.geojson`));
      assert.ok(await exists(`${folder}/out/c.geojson`));
      // A failed image keeps the parts, so --resume redoes only it.
      assert.ok(await exists(`${folder}/out/.sopseg-parts/a.json`));
    });

    await t.step("reads DOTA Task1 result folders; --min-score drops low scores", async () => {
      const folder = `${dir}/task1`;
      await Deno.mkdir(`${folder}/images`, { recursive: true });
      await Deno.mkdir(`${folder}/results`);
      await Deno.copyFile(png, `${folder}/images/s1.png`);
      await Deno.copyFile(png, `${folder}/images/s2.png`);
      await Deno.writeTextFile(
        `${folder}/results/Task1_car.txt`,
        "s1 0.9 100 100 140 100 140 120 100 120\ns2 0.2 100 100 140 100 140 120 100 120\n" +
          "nosuchimage 0.8 1 1 9 1 9 5 1 5\n",
      );
      await Deno.writeTextFile(
        `${folder}/results/Task1_ship.txt`,
        "s1 0.7 300 200 360 230 350 250 290 220\n",
      );
      const { summary, events } = await run(model, {
        images: `${folder}/images`,
        detections: { kind: "path", path: `${folder}/results` },
        out: `${folder}/out`,
        minScore: 0.5,
      });
      assert.equal(summary.imagesDone, 2);
      const s1 = await readFc(`${folder}/out/s1.geojson`);
      assert.deepEqual(s1.features.map((f) => [f.properties.class, f.properties.score]), [
        ["car", 0.9],
        ["ship", 0.7],
      ]);
      assert.deepEqual((await readFc(`${folder}/out/s2.geojson`)).features, []);
      assert.ok(
        events.some((e) => e.kind === "warning" && /nosuchimage/.test(e.message)),
        JSON.stringify(events),
      );
      // said before the parse (it can take seconds), counted after it
      const kinds = events.map((e) => e.kind);
      assert.ok(kinds.indexOf("results-reading") < kinds.indexOf("results-read"));
      assert.deepEqual(events.find((e) => e.kind === "results-reading"), {
        kind: "results-reading",
        source: "2 Task1 files",
        what: "the Task1 results",
      });
      const read = events.find((e) => e.kind === "results-read");
      assert.ok(read?.kind === "results-read");
      assert.deepEqual([read.detections, read.imageIds], [3, 3]); // s2's 0.2 left out
      assert.ok(kinds.indexOf("results-read") < kinds.indexOf("image-start"));
    });

    await t.step(
      "removes .sopseg-parts after a clean run; resume then reads coco.json",
      async () => {
        const options = {
          images: png,
          detections: text("100 100 140 100 140 120 100 120 car 0\n"),
          out: `${dir}/clean`,
        };
        await run(model, options);
        assert.equal(await exists(`${dir}/clean/.sopseg-parts`), false);
        const before = await Deno.readTextFile(`${dir}/clean/coco.json`);
        const { summary } = await run(model, { ...options, resume: true });
        assert.equal(summary.imagesSkipped, 1);
        assert.equal(summary.imagesDone, 0);
        assert.equal(await Deno.readTextFile(`${dir}/clean/coco.json`), before);
      },
    );

    await t.step(
      "a resume counts only its own run's files: not an earlier run's coco.json or parts",
      async () => {
        const folder = `${dir}/rerun`;
        await Deno.mkdir(`${folder}/images`, { recursive: true });
        await Deno.mkdir(`${folder}/labels`);
        for (const name of ["a", "b", "c"]) {
          await Deno.copyFile(png, `${folder}/images/${name}.png`);
          await Deno.writeTextFile(
            `${folder}/labels/${name}.txt`,
            "100 100 160 100 160 124 100 124 car 0\n300 200 360 230 350 250 290 220 ship 0\n",
          );
        }
        const base = {
          images: `${folder}/images`,
          detections: { kind: "path" as const, path: `${folder}/labels` },
        };
        const files = async (out: string) =>
          await Promise.all(["a", "b", "c"].map((n) => Deno.readTextFile(`${out}/${n}.geojson`)));
        // run A to the end, then run B (other settings) started over in the same folder and
        // stopped after its first image, then resumed
        await run(model, { ...base, out: `${folder}/out` });
        const a = await files(`${folder}/out`);
        const stop = new AbortController();
        await assert.rejects(
          segmentRun(model, {
            ...base,
            out: `${folder}/out`,
            promptMode: "box",
            signal: stop.signal,
            onEvent: (e) => e.kind === "image-done" && stop.abort(),
          }),
        );
        const { summary } = await run(model, {
          ...base,
          out: `${folder}/out`,
          promptMode: "box",
          resume: true,
        });
        assert.equal(summary.imagesSkipped, 1, "only run B's finished image is skipped");
        assert.equal(summary.imagesDone, 2);
        // every file is run B's, as a run B from scratch writes them
        await run(model, { ...base, out: `${folder}/fresh`, promptMode: "box" });
        const b = await files(`${folder}/fresh`);
        assert.deepEqual(await files(`${folder}/out`), b);
        assert.notDeepEqual(a, b, "the two settings give other masks");
        const coco = (out: string) =>
          Deno.readTextFile(`${out}/coco.json`).then((t) => {
            const { info: _, ...rest } = JSON.parse(t);
            return rest;
          });
        assert.deepEqual(await coco(`${folder}/out`), await coco(`${folder}/fresh`));

        // a new run over fewer images says which earlier files it leaves
        await Deno.remove(`${folder}/labels/c.txt`);
        await Deno.remove(`${folder}/images/c.png`);
        const { events } = await run(model, { ...base, out: `${folder}/out` });
        const warning = events.find((e) => e.kind === "warning" && /earlier run/.test(e.message));
        assert.ok(warning?.kind === "warning", JSON.stringify(events));
        assert.match(warning.message, /1 file\(s\) of an earlier run .*\(c\.geojson: /);
      },
    );

    await t.step(
      "a resumed box-searched run keeps box_moved (from the parts and from coco.json)",
      async () => {
        const folder = `${dir}/searched`;
        await Deno.mkdir(`${folder}/images`, { recursive: true });
        await Deno.mkdir(`${folder}/labels`);
        for (const name of ["a", "b"]) {
          await Deno.copyFile(png, `${folder}/images/${name}.png`);
          // two boxes whose crops are over 96 px (searched), a car's (the small graphs: not)
          await Deno.writeTextFile(
            `${folder}/labels/${name}.txt`,
            "100 100 220 100 220 160 100 160 ship 0\n300 200 400 250 380 290 280 240 ship 0\n" +
              "450 300 470 300 470 312 450 312 car 0\n",
          );
        }
        const base = {
          images: `${folder}/images`,
          detections: { kind: "path" as const, path: `${folder}/labels` },
          boxSearch: { shift: 0.06, margin: 0 },
        };
        const read = async (out: string) => ({
          files: await Promise.all(
            ["a", "b"].map((n) => Deno.readTextFile(`${out}/${n}.geojson`)),
          ),
          coco: await Deno.readTextFile(`${out}/coco.json`).then((t) => {
            const { info: _, ...rest } = JSON.parse(t);
            return rest;
          }),
        });
        const fresh = await run(model, { ...base, out: `${folder}/fresh` });
        const want = await read(`${folder}/fresh`);
        const moved = want.coco.annotations.map((a: { box_moved?: boolean }) => a.box_moved);
        assert.deepEqual(moved.map((m: unknown) => typeof m), [
          ...["boolean", "boolean", "undefined"],
          ...["boolean", "boolean", "undefined"],
        ]);
        const counts = (ms: (boolean | undefined)[]) => ({
          searched: ms.filter((m) => m !== undefined).length,
          moved: ms.filter((m) => m === true).length,
        });
        assert.deepEqual(fresh.summary.boxSearch, counts(moved));

        // stopped after its first image, then resumed: the same files, box_moved kept
        const stop = new AbortController();
        await assert.rejects(
          segmentRun(model, {
            ...base,
            out: `${folder}/out`,
            signal: stop.signal,
            onEvent: (e) => e.kind === "image-done" && stop.abort(),
          }),
        );
        const resumed = await run(model, { ...base, out: `${folder}/out`, resume: true });
        assert.deepEqual([resumed.summary.imagesSkipped, resumed.summary.imagesDone], [1, 1]);
        assert.deepEqual(await read(`${folder}/out`), want);
        // the summary counts this run's image only (as `instances` does), not the one skipped
        assert.deepEqual(resumed.summary.boxSearch, counts(moved.slice(3)));
        assert.equal(resumed.summary.instances, 3);

        // a resume of the finished run reads coco.json back: box_moved stays
        const before = await Deno.readTextFile(`${folder}/out/coco.json`);
        const again = await run(model, { ...base, out: `${folder}/out`, resume: true });
        assert.equal(again.summary.imagesSkipped, 2);
        assert.equal(await Deno.readTextFile(`${folder}/out/coco.json`), before);
      },
    );

    await t.step("reads a detection file that is not UTF-8, and says so", async () => {
      const file = `${dir}/latin1.txt`;
      // "véhicule" in Latin-1: the é is one byte, 0xE9, not UTF-8
      await Deno.writeFile(
        file,
        new Uint8Array([
          ...new TextEncoder().encode("100 100 140 100 140 120 100 120 v"),
          0xe9,
          ...new TextEncoder().encode("hicule 0\n"),
        ]),
      );
      const { summary, events } = await run(model, {
        images: png,
        detections: { kind: "path", path: file },
        out: null,
      });
      assert.equal(summary.instances, 1);
      assert.ok(
        events.some((e) => e.kind === "warning" && /latin1\.txt is not UTF-8 text/.test(e.message)),
        JSON.stringify(events),
      );
    });

    await t.step("fails an image asked for WGS84 without a georeference, naming why", async () => {
      const { summary, events } = await run(model, {
        images: png,
        detections: text("100 100 140 100 140 120 100 120 car 0\n"),
        out: null,
        crs: "wgs84",
      });
      assert.equal(summary.imagesFailed, 1);
      const e = events.find((e) => e.kind === "image-failed");
      assert.match(e?.kind === "image-failed" ? e.message : "", /WGS84.*no georeference/);
    });
    await t.step("flags detections of classes the model was not trained on", async () => {
      const classes = model.trainingClasses!;
      assert.ok(classes !== null, "the shipped manifest lists its classes");
      const { summary } = await run(model, {
        images: png,
        detections: text(
          "100 100 140 100 140 120 100 120 small-vehicle 0\n" +
            "200 100 240 100 240 120 200 120 container-crane 0\n" +
            "300 100 340 100 340 120 300 120 Harbour 0\n",
        ),
        out: `${dir}/classes`,
      });
      const fc = await readFc(`${dir}/classes/rgb8.geojson`);
      // deno-lint-ignore no-explicit-any
      const flags = fc.features.map((f) => (f.properties as any).in_training_classes);
      const harbour = classes.has("harbor");
      assert.deepEqual(flags, [true, false, harbour]);
      const outside: Record<string, number> = { "container-crane": 1 };
      if (!harbour) outside.Harbour = 1;
      assert.deepEqual(summary.outsideTrainingClasses, outside);
      const coco = JSON.parse(await Deno.readTextFile(`${dir}/classes/coco.json`));
      assert.deepEqual(
        coco.annotations.map((a: { in_training_classes?: boolean }) => a.in_training_classes),
        [true, false, harbour],
      );
    });
    await t.step(
      "segmentDetections() writes the frame asked for: the raster's CRS, WGS84 as the CLI, pixels",
      async () => {
        const tif = await fixture("rgb8_striped_deflate.tif"); // UTM 33N, 1 m pixels
        const dets = "100 100 140 100 140 120 100 120 car 0\n";
        const { events } = await run(model, {
          images: tif,
          detections: text(dets),
          out: `${dir}/geo`,
        });
        assert.ok(!events.some((e) => e.kind === "image-failed"));
        const cli = await readFc(`${dir}/geo/rgb8_striped_deflate.geojson`); // WGS84 by default
        const source = await openImage(tif);
        try {
          const frame = async (coordinates?: "auto" | "wgs84" | "pixel") =>
            await segmentDetections(model, { source, detections: text(dets) }, { coordinates });
          const map = await frame();
          assert.equal(map["sopseg:coordinates"], "map");
          const ring = (fc: { features: { geometry: unknown }[] }) =>
            (fc.features[0]!.geometry as { coordinates: number[][][] }).coordinates[0]!;
          assert.ok(ring(map).every(([x, y]) => x! > 500000 && y! > 5199000), "UTM metres");
          const wgs84 = await frame("wgs84");
          assert.equal(wgs84["sopseg:coordinates"], "wgs84");
          assert.deepEqual(wgs84.features, cli.features); // what the CLI writes
          const pixel = await frame("pixel");
          assert.ok(ring(pixel).every(([x, y]) => x! >= 90 && x! <= 150 && y! >= 90 && y! <= 130));
        } finally {
          await source.close();
        }
      },
    );

    await t.step(
      "segmentDetections() checks a list as a file's records: an InputError naming the detection",
      async () => {
        const source = await openImage(png);
        const det = (cx: number, width: number) => ({
          box: { cx, cy: 50, width, height: 10, angle: 0 },
          className: "car",
          score: null,
          difficult: false,
          source: "list",
          line: 0,
        });
        try {
          await assert.rejects(
            () =>
              segmentDetections(model, {
                source,
                detections: { kind: "list", detections: [det(50, 20), det(NaN, 20), det(90, 0)] },
              }),
            (e: unknown) =>
              e instanceof InputError && e.kind === "detections-malformed" &&
              /Cannot segment the detections: detection 1: its box \[NaN, 50, 20, 10, 0\] is not finite \(and 1 more\)/
                .test(e.message) &&
              e.issues?.length === 2 && /degenerate box: 0 x 10/.test(e.issues[1]!.message),
          );
        } finally {
          await source.close();
        }
      },
    );

    await t.step(
      "a second run into a folder one of this process writes is refused as such",
      async () => {
        const dets = text("100 100 140 100 140 120 100 120 car 0\n");
        // the second starts once the first holds the folder (its first image has begun)
        let started!: () => void;
        const holding = new Promise<void>((resolve) => started = resolve);
        const first = segmentRun(model, {
          images: png,
          detections: dets,
          out: `${dir}/busy`,
          onEvent: (e) => {
            if (e.kind === "image-start") started();
          },
        });
        await holding;
        await assert.rejects(
          () => segmentRun(model, { images: png, detections: dets, out: `${dir}/busy` }),
          (e: unknown) =>
            e instanceof RunBusyError &&
            new RegExp(`another run of this process \\(${Deno.pid}\\) is writing there`).test(
              e.message,
            ),
        );
        assert.equal((await first).instances, 1);
      },
    );

    await t.step("names the detections that lie mostly on nodata", async () => {
      // nodata 0: the columns x < 40, and the block x 450..600, y 300..380
      const tif = await fixture("u16x4_tiled_nodata.tif");
      const dets = [
        "5 100 30 100 30 120 5 120 car 0", // all nodata
        "20 200 60 200 60 220 20 220 car 0", // half: not named
        "100 100 140 100 140 120 100 120 car 0", // valid
        "460 320 500 320 500 340 460 340 car 0", // in the block
      ].join("\n") + "\n";
      const { events } = await run(model, {
        images: tif,
        detections: text(dets),
        out: `${dir}/nodata`,
      });
      const said = events.filter((e) => e.kind === "warning").map((e) => e.message);
      assert.deepEqual(said, [
        `${tif}: 2 of 4 detection(s) lie mostly on nodata (over half of their pixels; detection_index 0, 3): their masks may be empty, or hold a neighbour's pixels`,
      ]);
      // the same through segmentDetections()
      const source = await openImage(tif);
      const byCall: string[] = [];
      try {
        await segmentDetections(model, { source, detections: text(dets) }, {
          onWarning: (m) => byCall.push(m),
        });
      } finally {
        await source.close();
      }
      assert.deepEqual(byCall, said);
    });

    await t.step("segmentDetections() says through onWarning what segmentRun() says", async () => {
      const dets = "700 500 760 500 760 540 700 540 car 0\n100 100 140 100 140 120 100 120 car 0\n";
      const { events } = await run(model, {
        images: png,
        detections: text(dets),
        out: `${dir}/said`,
      });
      const byRun = events.filter((e) => e.kind === "warning").map((e) => e.message);
      const source = await openImage(png);
      const byCall: string[] = [];
      try {
        const fc = await segmentDetections(
          model,
          { source, detections: text(dets) },
          { onWarning: (m) => byCall.push(m) },
        );
        assert.equal(fc.features.length, 2);
      } finally {
        await source.close();
      }
      assert.deepEqual(byCall, [
        `${png}: 1 of 2 detection(s) lie entirely outside the image (600 x 400 px): their masks are empty`,
      ]);
      assert.deepEqual(byRun, byCall);
      // results of other images only: empty, and said (a mistyped image id is not silent)
      const others = JSON.stringify([
        { image_id: "P0706", bbox: [10, 10, 30, 10, 30, 20, 10, 20], score: 0.9, category_id: 0 },
      ]);
      const other = await openImage(png);
      const said: string[] = [];
      try {
        const fc = await segmentDetections(model, {
          source: other,
          detections: { ...text(others), format: "mmrotate-json" },
        }, { onWarning: (m) => said.push(m) });
        assert.equal(fc.features.length, 0);
      } finally {
        await other.close();
      }
      assert.deepEqual(said, [
        "no detections of image id rgb8 in the mmrotate results <test> (its 1 image id(s): P0706): the detector found nothing there, or named the image otherwise (give its id)",
      ]);
    });
  } finally {
    await model.close();
    await Deno.remove(dir, { recursive: true });
  }
});
