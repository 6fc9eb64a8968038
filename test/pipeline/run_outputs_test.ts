// What a run writes against what it reads, on real files: a run whose --out would replace one of
// its inputs stops before writing (QA: --out given as the GeoJSON detections' folder).
import assert from "node:assert/strict";
import { imageOutputNames, refuseOverwritingInputs } from "../../src/pipeline/run_outputs.ts";
import { overwrittenInput } from "../../src/pipeline/paths.ts";
import type { DetectionsInput } from "../../src/pipeline/segment_run.ts";
import { carBoxGeoJson, withTempDir } from "../_files.ts";

const BOXES = carBoxGeoJson(10, 10, 30, 20);

const path = (p: string): DetectionsInput => ({ kind: "path", path: p });

Deno.test("refuseOverwritingInputs() stops a run whose vector file is its GeoJSON detections", async () => {
  await withTempDir("sopseg_outputs_", async (dir) => {
    await Deno.mkdir(`${dir}/det`);
    await Deno.writeTextFile(`${dir}/det/utm.geojson`, BOXES);
    const planned = [{ image: `${dir}/img/utm.tif`, detections: path(`${dir}/det/utm.geojson`) }];
    await assert.rejects(
      refuseOverwritingInputs(planned, { out: `${dir}/det/`, detections: path(`${dir}/det`) }),
      (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.equal(
          e.message,
          `Cannot write to --out ${dir}/det/: the run would write ${dir}/det/utm.geojson, which ` +
            `is an input of the run; give another --out (a folder of its own)`,
        );
        return true;
      },
    );
    // FlatGeobuf output, or another folder: nothing of the input is written over
    await refuseOverwritingInputs(planned, {
      out: `${dir}/det`,
      detections: path(`${dir}/det`),
      vectorFormat: "fgb",
    });
    await refuseOverwritingInputs(planned, { out: `${dir}/out`, detections: path(`${dir}/det`) });
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/out/utm.geojson`, "{}"); // an earlier run's output
    await refuseOverwritingInputs(planned, { out: `${dir}/out`, detections: path(`${dir}/det`) });
    assert.equal(await Deno.readTextFile(`${dir}/det/utm.geojson`), BOXES);
  });
});

Deno.test("refuseOverwritingInputs() compares files, not spellings: a linked --out, a hard link", async () => {
  await withTempDir("sopseg_outputs_", async (dir) => {
    await Deno.mkdir(`${dir}/det`);
    await Deno.writeTextFile(`${dir}/det/a.geojson`, BOXES);
    await Deno.symlink(`${dir}/det`, `${dir}/linked`);
    const planned = [{ image: `${dir}/a.png`, detections: path(`${dir}/det/a.geojson`) }];
    await assert.rejects(
      refuseOverwritingInputs(planned, { out: `${dir}/linked`, detections: path(`${dir}/det`) }),
      new RegExp(
        `would write ${dir}/linked/a\\.geojson, which is an input of the run ` +
          `\\(${dir}/det/a\\.geojson, the same file\\)`,
      ),
    );
    await Deno.mkdir(`${dir}/out`);
    await Deno.link(`${dir}/det/a.geojson`, `${dir}/out/a.geojson`);
    assert.deepEqual(
      await overwrittenInput([`${dir}/out/a.geojson`, `${dir}/out/b.geojson`], [
        `${dir}/a.png`,
        `${dir}/det/a.geojson`,
      ]),
      { output: `${dir}/out/a.geojson`, input: `${dir}/det/a.geojson` },
    );
  });
});

Deno.test("refuseOverwritingInputs() names a results file the run's coco.json would replace", async () => {
  await withTempDir("sopseg_outputs_", async (dir) => {
    await Deno.writeTextFile(`${dir}/coco.json`, "[]"); // mmrotate results, unluckily named
    const planned = [{
      image: `${dir}/imgs/P0001.png`,
      detections: { kind: "list" as const, detections: [], source: `${dir}/coco.json` },
    }];
    await assert.rejects(
      refuseOverwritingInputs(planned, { out: dir, detections: path(`${dir}/coco.json`) }),
      new RegExp(`would write ${dir}/coco\\.json, which is an input`),
    );
    // a stream to stdout writes nothing
    await refuseOverwritingInputs(planned, { out: null, detections: path(`${dir}/coco.json`) });
  });
});

Deno.test("imageOutputNames() names the files segment_run writes per image", () => {
  assert.deepEqual(imageOutputNames("P0001", {}), ["P0001.geojson"]);
  assert.deepEqual(imageOutputNames("P0001", { vectorFormat: "fgb", overlay: true }), [
    "P0001.fgb",
    "P0001.overlay.png",
    "P0001.overlay.pgw",
    "P0001.overlay.png.aux.xml",
  ]);
});

Deno.test("overwrittenInput() sees a linked output file, and a name in another case that is the same file", async () => {
  await withTempDir("sopseg_outputs_", async (dir) => {
    await Deno.mkdir(`${dir}/det`);
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/det/a.geojson`, BOXES);
    // an output left as a link to an input (a copy step that linked instead)
    await Deno.symlink(`${dir}/det/a.geojson`, `${dir}/out/b.geojson`);
    assert.deepEqual(
      await overwrittenInput([`${dir}/out/b.geojson`], [`${dir}/det/a.geojson`]),
      { output: `${dir}/out/b.geojson`, input: `${dir}/det/a.geojson` },
    );
    // an input that links to an output: its content is what the run would replace
    await Deno.writeTextFile(`${dir}/out/c.geojson`, BOXES);
    await Deno.symlink(`${dir}/out/c.geojson`, `${dir}/det/c.geojson`);
    assert.deepEqual(
      await overwrittenInput([`${dir}/out/c.geojson`], [`${dir}/det/c.geojson`]),
      { output: `${dir}/out/c.geojson`, input: `${dir}/det/c.geojson` },
    );
    // what a case-insensitive file system shows: one file under a name in another case (here
    // a hard link stands for it)
    await Deno.link(`${dir}/det/a.geojson`, `${dir}/det/A.GEOJSON`);
    assert.deepEqual(await overwrittenInput([`${dir}/det/a.geojson`], [`${dir}/det/A.GEOJSON`]), {
      output: `${dir}/det/a.geojson`,
      input: `${dir}/det/A.GEOJSON`,
    });
    // other files of the same name in another folder, a link to nothing: not an input
    await Deno.writeTextFile(`${dir}/out/a.geojson`, "{}");
    await Deno.symlink(`${dir}/nowhere.geojson`, `${dir}/out/d.geojson`);
    assert.equal(
      await overwrittenInput([`${dir}/out/a.geojson`, `${dir}/out/d.geojson`], [
        `${dir}/det/a.geojson`,
        `${dir}/nowhere.geojson`,
      ]),
      null,
    );
  });
});

Deno.test("refuseOverwritingInputs() stops a run whose input is a link under another name to an output", async () => {
  await withTempDir("sopseg_outputs_", async (dir) => {
    await Deno.mkdir(`${dir}/out`);
    await Deno.mkdir(`${dir}/labels`);
    await Deno.writeTextFile(`${dir}/out/coco.json`, "[]"); // an earlier run's, fed back
    await Deno.symlink(`${dir}/out/coco.json`, `${dir}/labels/latest.json`);
    const planned = [{
      image: `${dir}/imgs/P0001.png`,
      detections: { kind: "list" as const, detections: [], source: `${dir}/labels/latest.json` },
    }];
    await assert.rejects(
      refuseOverwritingInputs(planned, {
        out: `${dir}/out`,
        detections: path(`${dir}/labels/latest.json`),
      }),
      new RegExp(`would write ${dir}/out/coco\\.json, which is an input`),
    );
    // through a chain of links, and a link to a link in a linked folder
    await Deno.symlink(`${dir}/labels/latest.json`, `${dir}/labels/newest.json`);
    await Deno.symlink(`${dir}/labels`, `${dir}/linked`);
    for (const input of [`${dir}/labels/newest.json`, `${dir}/linked/newest.json`]) {
      assert.deepEqual(await overwrittenInput([`${dir}/out/coco.json`], [input]), {
        output: `${dir}/out/coco.json`,
        input,
      });
    }
    // a link to another file, a link to nothing, an output that is not there: no input
    await Deno.writeTextFile(`${dir}/labels/v1.json`, "[]");
    await Deno.symlink(`${dir}/labels/v1.json`, `${dir}/labels/other.json`);
    await Deno.symlink(`${dir}/nowhere.json`, `${dir}/labels/dangling.json`);
    assert.equal(
      await overwrittenInput([`${dir}/out/coco.json`, `${dir}/out/a.geojson`], [
        `${dir}/labels/other.json`,
        `${dir}/labels/dangling.json`,
        `${dir}/labels/v1.json`,
      ]),
      null,
    );
  });
});
