// The CLI on inputs users hit on day one: a broken image mid-folder, YOLO-OBB
// with and without confidence, an interrupted run resumed, and the scoped
// launcher's grants actually enforced.
import assert from "node:assert/strict";
import { GRID_200, runCli, runTask, withFolders } from "./_run_cli.ts";
import { fixture } from "../raster/_fixtures.ts";
import { scopedPermissions } from "../../src/cli/permissions.ts";

const CAR = "100 100 140 100 140 120 100 120 car 0\n";
const root = new URL("../..", import.meta.url).pathname;

/** `sopseg segment <args> --backend wasm` as a subprocess (cli.ts, all permissions). */
const segmentCli = (args: string[], stdin?: string) =>
  runCli(["segment", ...args, "--backend", "wasm"], stdin);

Deno.test("segment: an undecodable image mid-folder fails alone; summary and exit code 1", async () => {
  await withFolders(async (dir, args) => {
    for (const name of ["a", "b", "c"]) {
      const src = await fixture(name === "b" ? "truncated.png" : "rgb8.png");
      await Deno.copyFile(src, `${dir}/images/${name}.png`);
      await Deno.writeTextFile(`${dir}/labels/${name}.txt`, CAR);
    }
    const r = await runTask("segment", [...args, "--backend", "wasm"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: .*b\.png: /);
    assert.match(r.stderr, /done: 2 masks on 2 image\(s\).*, 1 failed \(.*b\.png\)/);
    for (const name of ["a", "c"]) await Deno.stat(`${dir}/out/${name}.geojson`);
  });
});

Deno.test("segment reads YOLO-OBB with and without confidence, names classes with --classes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // rgb8.png is 600 x 400: normalised corners of the CAR box, class 1.
    const corners = "0.166667 0.25 0.233333 0.25 0.233333 0.3 0.166667 0.3";
    await Deno.mkdir(`${dir}/labels`);
    await Deno.writeTextFile(`${dir}/labels/plain.txt`, `1 ${corners}\n`);
    await Deno.writeTextFile(`${dir}/labels/scored.txt`, `1 ${corners} 0.87\n0 ${corners} 0.1\n`);
    for (const [name, scores] of [["plain", [null]], ["scored", [0.87]]] as const) {
      const r = await runCli([
        "segment",
        "--images",
        await fixture("rgb8.png"),
        "--detections",
        `${dir}/labels/${name}.txt`,
        "--classes",
        "ship,car",
        "--min-score",
        "0.5",
        "--out",
        "-",
        "--backend",
        "wasm",
        "--quiet",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const features = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(features.map((f) => f.properties.class), ["car"]);
      assert.deepEqual(features.map((f) => f.properties.score), scores);
      const [cx, cy, w, h] = features[0].properties.obb_pixel;
      assert.ok(Math.abs(cx - 120) < 1e-3 && Math.abs(cy - 110) < 1e-3 && w > 39 && h > 19);
      assert.doesNotMatch(r.stderr, /class id/);
    }
    // without --classes the ids are the classes: segmented, and the note says what to give
    const bare = await segmentCli([
      "--images",
      await fixture("rgb8.png"),
      "--detections",
      `${dir}/labels/plain.txt`,
      "--out",
      "-",
    ]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(
      bare.stderr,
      /note: 1 instance\(s\) with a class id for a class \(id 1: 1\): the model was told their class is unknown; give the detector's class names in id order with --classes/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("segment --resume finishes an interrupted run; a clean end leaves no .sopseg-parts", async () => {
  await withFolders(async (dir, folders) => {
    const png = await fixture("rgb8.png");
    // "a" is quick; "b" has enough boxes to be interrupted while it runs.
    await Deno.copyFile(png, `${dir}/images/a.png`);
    await Deno.copyFile(png, `${dir}/images/b.png`);
    await Deno.writeTextFile(`${dir}/labels/a.txt`, CAR);
    await Deno.writeTextFile(`${dir}/labels/b.txt`, GRID_200);
    const args = [
      ...["run", "-A", `${root}cli.ts`, "segment", ...folders],
      ...["--backend", "wasm", "--threads", "1", "--batch", "2"],
    ];
    const child = new Deno.Command(Deno.execPath(), { args, stderr: "piped", stdout: "null" })
      .spawn();
    // Kill it once image a is done and b has started.
    let seen = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    while (!/b\.png: 200 detections/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    assert.match(seen, /a\.png: 1 masks/);
    await Deno.stat(`${dir}/out/.sopseg-parts/a.json`); // the interrupted run kept its parts
    await assert.rejects(Deno.stat(`${dir}/out/b.geojson`));

    const r = await runCli([...args.slice(3), "--resume"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /a\.png: skipped/);
    assert.match(r.stderr, /done: 200 masks on 1 image\(s\).*1 skipped/);
    const coco = JSON.parse(await Deno.readTextFile(`${dir}/out/coco.json`));
    assert.deepEqual(coco.images.map((i: { file_name: string }) => i.file_name), [
      "a.png",
      "b.png",
    ]);
    assert.equal(coco.annotations.length, 201);
    await assert.rejects(Deno.stat(`${dir}/out/.sopseg-parts`), Deno.errors.NotFound);
  });
});

Deno.test("the scoped launcher's grants refuse reads and writes outside them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/in`);
    await Deno.mkdir(`${dir}/other`);
    await Deno.writeTextFile(`${dir}/in/a.txt`, CAR);
    await Deno.writeTextFile(`${dir}/other/secret.txt`, "not for the CLI\n");
    const flags = scopedPermissions(
      "segment",
      ["--images", `${dir}/in/a.png`, "--detections", `${dir}/in/a.txt`, "--out", `${dir}/out`],
      { HOME: Deno.env.get("HOME") ?? "/root" },
    );
    const probe = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `const tries = {
        input: () => Deno.readTextFileSync(${JSON.stringify(`${dir}/in/a.txt`)}),
        outside: () => Deno.readTextFileSync(${JSON.stringify(`${dir}/other/secret.txt`)}),
        writeOutside: () => Deno.writeTextFileSync(${JSON.stringify(`${dir}/other/x`)}, "x"),
        env: () => Deno.env.get("PATH"),
      };
      for (const [k, f] of Object.entries(tries)) {
        try { f(); console.log(k, "ok"); } catch (e) { console.log(k, e.name); }
      }`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...flags.map((f) => f.replace("--allow-read=", `--allow-read=${probe},`)),
        probe,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout);
    assert.match(lines, /^input ok$/m);
    assert.match(lines, /^outside NotCapable$/m);
    assert.match(lines, /^writeOutside NotCapable$/m);
    assert.match(lines, /^env NotCapable$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("segment: a detector's labelTxt-layout output with scores, and YOLO-OBB in pixels, as such", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const png = await fixture("rgb8.png"); // 600 x 400
    // "x1 .. y4 class score": the scores read, --min-score applied
    const scored = `${dir}/scored.txt`;
    await Deno.writeTextFile(
      scored,
      "100 100 140 100 140 120 100 120 car 0.91\n300 200 360 200 360 230 300 230 ship 0.35\n",
    );
    const r = await segmentCli([
      "--images",
      png,
      "--detections",
      scored,
      "--out",
      "-",
      "--min-score",
      "0.5",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const features = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(features.map((f) => [f.properties.class, f.properties.score]), [[
      "car",
      0.91,
    ]]);

    // YOLO-OBB written in pixels is not read as DOTA boxes of class "120"
    const yolo = `${dir}/yolo_px.txt`;
    await Deno.writeTextFile(yolo, "0 100 100 140 100 140 120 100 120\n");
    const y = await segmentCli([
      "--images",
      png,
      "--detections",
      yolo,
      "--out",
      "-",
    ]);
    assert.equal(y.code, 1, y.stderr);
    assert.equal(y.stdout, "");
    assert.match(y.stderr, /yolo_px\.txt:1: .*looks like pixel coordinates/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("segment: a relative path not found is named from the folder deno task started in", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, CAR);
    // `deno task` runs in deno.json's folder, wherever it is started from: the launcher makes
    // the user's relative paths absolute from where they were typed
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "--config",
        `${root}deno.json`,
        "segment",
        "--images",
        "images/a.png",
        "--detections",
        "a.txt",
        "--out",
        "out",
      ],
      cwd: dir,
      // what `deno task` sets when typed in `dir`; one inherited from an outer task (`deno task
      // ok` running these tests) would win over it, as in npm
      env: { NO_COLOR: "1", INIT_CWD: dir },
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    assert.equal(child.code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(`Cannot read ${dir}/images/a\\.png: no such file or folder\n`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("segment: images sharing a stem are left out (recorded), a link to nothing fails (exit 1)", async () => {
  await withFolders(async (dir, args) => {
    const png = await fixture("rgb8.png");
    for (const name of ["a.png", "b.png", "b.tif"]) {
      if (name.endsWith(".tif")) {
        await Deno.copyFile(await fixture("rgb8_tiled_lzw.tif"), `${dir}/images/${name}`);
      } else await Deno.copyFile(png, `${dir}/images/${name}`);
    }
    await Deno.symlink(`${dir}/gone.png`, `${dir}/images/c.png`);
    for (const stem of ["a", "b", "c"]) await Deno.writeTextFile(`${dir}/labels/${stem}.txt`, CAR);
    const r = await segmentCli(args);
    // a retry may find c.png's target (a volume mounted late): 1 wins over 2 (left out)
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /several image files share the stem "b": .*b\.png, .*b\.tif; left out/);
    assert.match(
      r.stderr,
      /error: .*images\/c\.png: .*c\.png: it is a symbolic link to nothing \(.*gone\.png: a volume not mounted yet\?\); rerun with --resume/,
    );
    assert.match(
      r.stderr,
      /done: 1 masks on 1 image\(s\).*, 1 failed \(.*c\.png\), 2 input file\(s\) left out \(a retry will not segment them\)/,
    );
    await Deno.stat(`${dir}/out/a.geojson`);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/out/sopseg-run.json`));
    assert.deepEqual(record.failed, ["c.png"]);
    assert.deepEqual(record.plan.map((p: { image: string }) => p.image), ["a.png", "c.png"]);
    assert.deepEqual(record.left_out.map((l: { files: string[] }) => l.files), [[
      "b.png",
      "b.tif",
    ]]);
    assert.match(record.left_out[0].reason, /several image files share the stem "b"/);
    // once c.png is there, a retry segments it; what is left out stays: exit 2, not 1 again
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/gone.png`);
    const retry = await segmentCli([...args, "--resume"]);
    assert.equal(retry.code, 2, retry.stderr);
    assert.match(
      retry.stderr,
      /done: 1 masks on 1 image\(s\).*1 skipped, 2 input file\(s\) left out/,
    );
  });
});

Deno.test("segment: Task1 result lines piped in are refused once, naming why", async () => {
  const png = await fixture("rgb8.png");
  const lines = "P1888 0.9 100 100 140 100 140 120 100 120\n".repeat(5);
  const r = await segmentCli(["--images", png, "--detections", "-", "--out", "-"], lines);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /Cannot read DOTA Task1 results from <stdin>: their class is in the file name/,
  );
  assert.doesNotMatch(r.stderr, /x1 is not a number/);
});

Deno.test("segment: a raster whose every sampled pixel is nodata is said, not silently empty", async () => {
  await withFolders(async (dir, args) => {
    await Deno.copyFile(await fixture("f32_all_nodata.tif"), `${dir}/images/void.tif`);
    await Deno.writeTextFile(`${dir}/labels/void.txt`, "10 10 40 10 40 25 10 25 car 0\n");
    const r = await segmentCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /void\.tif: every pixel sampled in band 1 is nodata \(-9999\) or not finite: its masks will be empty/,
    );
  });
});

Deno.test("segment: detection files or results ids none of which names an image: said once, exit 2", async () => {
  await withFolders(async (dir, args) => {
    const png = await fixture("rgb8.png");
    for (const stem of ["a", "b"]) await Deno.copyFile(png, `${dir}/images/${stem}.png`);
    // Task2-like names, or another folder's files: not one pairs
    for (const stem of ["a_task2", "b_task2", "c"]) {
      await Deno.writeTextFile(`${dir}/labels/${stem}.txt`, CAR);
    }
    const r = await segmentCli(args);
    assert.equal(r.code, 2, r.stderr); // a retry will not pair them
    assert.match(
      r.stderr,
      /not one of the 3 detection file\(s\) in .*labels is named after one of the 2 image\(s\) \(a_task2\.txt, b_task2\.txt, c\.txt\): a detection file pairs with the image of its stem \(a\.txt for a\.png\)/,
    );
    assert.doesNotMatch(r.stderr, /no detection file for image/); // said once, not per file
    assert.match(r.stderr, /3 input file\(s\) left out/);
    const coco = JSON.parse(await Deno.readTextFile(`${dir}/out/coco.json`));
    assert.equal(coco.images.length, 2);

    // mmrotate results whose ids are numbers (ultralytics-style), not the images' stems
    const results = `${dir}/results.bbox.json`;
    await Deno.writeTextFile(
      results,
      JSON.stringify([{
        image_id: 7,
        bbox: [10, 10, 30, 10, 30, 20, 10, 20],
        score: 0.9,
        category_id: 0,
      }]),
    );
    const fromResults = (out: string) =>
      segmentCli(["--images", `${dir}/images`, "--detections", results, "--out", out]);
    const ids = await fromResults(`${dir}/out2`);
    assert.equal(ids.code, 2, ids.stderr);
    assert.match(
      ids.stderr,
      /no image for 1 image id\(s\) of the mmrotate results: 7; not one of them names one of the 2 image\(s\), so none of its detections is segmented/,
    );
    // one id that names an image is enough: the others are a warning, exit 0
    await Deno.writeTextFile(
      results,
      JSON.stringify([
        { image_id: 7, bbox: [10, 10, 30, 10, 30, 20, 10, 20], score: 0.9, category_id: 0 },
        { image_id: "a", bbox: [10, 10, 30, 10, 30, 20, 10, 20], score: 0.9, category_id: 0 },
      ]),
    );
    const one = await fromResults(`${dir}/out3`);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, /warning: no image for 1 image id\(s\) of the mmrotate results: 7\n/);
  });
});

Deno.test("segment: an image without a detection file is written with no detections (coco.json lists it)", async () => {
  await withFolders(async (dir, args) => {
    const png = await fixture("rgb8.png");
    for (const stem of ["a", "b"]) await Deno.copyFile(png, `${dir}/images/${stem}.png`);
    await Deno.writeTextFile(`${dir}/labels/b.txt`, CAR);
    const r = await segmentCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /no detection file for image .*images\/a\.png: written with no detections/,
    );
    const coco = JSON.parse(await Deno.readTextFile(`${dir}/out/coco.json`));
    assert.deepEqual(coco.images.map((i: { file_name: string }) => i.file_name), [
      "a.png",
      "b.png",
    ]);
    assert.equal(coco.annotations.length, 1);
    const a = JSON.parse(await Deno.readTextFile(`${dir}/out/a.geojson`));
    assert.deepEqual(a.features, []);
  });
});

Deno.test("segment: a file of many malformed records shows the first 20 and counts the rest; ultralytics JSON is named", async () => {
  await withFolders(async (dir, args) => {
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/a.png`);
    const records = Array.from({ length: 30 }, (_, i) => ({
      image_id: "a",
      category_id: 1,
      score: 0.9,
      rbox: [100 + i, 100, 20, 10, 0.1],
      poly: [90, 95, 110, 95, 110, 105, 90, 105],
    }));
    const file = `${dir}/predictions.json`;
    await Deno.writeTextFile(file, JSON.stringify(records));
    const r = await segmentCli([...args.slice(0, 2), "--detections", file, ...args.slice(4)]);
    assert.equal(r.code, 1, r.stderr);
    const shown = r.stderr.split("\n").filter((l) => l.includes("(skipped)"));
    assert.equal(shown.length, 20, r.stderr);
    assert.match(
      shown[0]!,
      /record 0 \(image a\): no bbox but rbox\/poly: this is ultralytics' predictions\.json/,
    );
    assert.match(
      r.stderr,
      /predictions\.json: 30 malformed record\(s\) in all, skipped; the first 20 are shown above/,
    );
    assert.match(r.stderr, /30 malformed detection\(s\) skipped/);
  });
});

Deno.test("segment: subfolders of --images are named as not searched (not --out inside it)", async () => {
  await withFolders(async (dir) => {
    const images = `${dir}/images`;
    await Deno.copyFile(await fixture("rgb8.png"), `${images}/a.png`);
    await Deno.writeTextFile(`${dir}/labels/a.txt`, CAR);
    await Deno.mkdir(`${images}/2026-11`);
    await Deno.copyFile(await fixture("rgb8.png"), `${images}/2026-11/b.png`);
    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.symlink(`${dir}/elsewhere`, `${images}/linked`);
    const args = ["--images", images, "--detections", `${dir}/labels`, "--backend", "wasm"];
    const r = await runTask("segment", [...args, "--out", `${images}/out`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: 2 subfolder\(s\) of .*images not searched \(2026-11, linked\): only its own images/,
    );
    assert.match(r.stderr, /done: 1 masks on 1 image\(s\)/);
    // a folder of subfolders only: the error says where the images may be
    await Deno.remove(`${images}/a.png`);
    const none = await runTask("segment", [...args, "--out", `${dir}/out2`]);
    assert.notEqual(none.code, 0);
    assert.match(
      none.stderr,
      /no images .* in .*images \(its subfolders, not searched: 2026-11, linked, out; give one of them\)/,
    );
  });
});

Deno.test("deno task segment started in another folder reads and writes relative paths there", async () => {
  await withFolders(async (dir) => {
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/a.png`);
    await Deno.writeTextFile(`${dir}/labels/a.txt`, CAR);
    // as a user would: cd into the data, then run the checkout's task (`deno task` itself runs
    // in deno.json's folder, where these relative paths named nothing)
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["task", "-q", "--config", `${root}deno.json`, "segment"],
        ...["--images", "images", "--detections", "./labels", "--out", "out", "--backend", "wasm"],
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", INIT_CWD: dir }, // as above
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stderr, /done: 1 masks on 1 image\(s\)/);
    const fc = JSON.parse(await Deno.readTextFile(`${dir}/out/a.geojson`));
    assert.equal(fc.features.length, 1);
  });
});
