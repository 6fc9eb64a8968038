// What a scheduler does to a run: a second worker on the same folder, SIGTERM to the process it
// started, a resume killed in its turn, another shard in a used folder, temporary files left by
// a kill, and a path the permission flags cannot express.
import assert from "node:assert/strict";
import { GRID_200, runCli, runTask, withRun as withRunIn } from "./_run_cli.ts";
import { beginRunRecord, readRunRecord, writeRunRecord } from "../../src/pipeline/run_record.ts";

const root = new URL("../..", import.meta.url).pathname;
const CAR = "100 100 140 100 140 120 100 120 car 0\n";

/** A temporary folder with `images/` (copies of the 600 x 400 PNG) and `labels/`. */
const withRun = (
  labels: Record<string, string>,
  fn: (dir: string, args: string[]) => Promise<void>,
) => withRunIn(labels, ["--backend", "wasm"], fn);

const segment = (args: string[]) => runCli(["segment", ...args]);
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("segment: a folder another run is writing is refused (exit 1), naming that run", async () => {
  await withRun({ a: CAR }, async (dir, args) => {
    await Deno.mkdir(`${dir}/out`);
    const lock = await Deno.open(`${dir}/out/.sopseg-lock`, { write: true, create: true });
    try {
      assert.ok(await lock.tryLock(true));
      await lock.write(new TextEncoder().encode("process 4242, started 2026-12-05T09:00:00Z\n"));
      const busy = await segment(args);
      assert.equal(busy.code, 1, busy.stderr);
      assert.match(
        busy.stderr,
        /another sopseg run is writing there \(process 4242, started .*\); wait for it to end.*--resume/,
      );
      assert.equal(await exists(`${dir}/out/sopseg-run.json`), false);
    } finally {
      lock.close(); // the system releases the lock with the handle (or the process)
    }
    const r = await segment(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readRunRecord(`${dir}/out`))!.state, "done");
  });
});

Deno.test("segment --resume: a resume of a finished run, killed, still trusts that run's coco.json", async () => {
  // the record a resume writes when it starts says that coco.json is a finished run's
  const dir = await Deno.makeTempDir();
  try {
    const done = {
      format: "sopseg-run" as const,
      format_version: 1 as const,
      model: { name: "m", files_sha256: {} },
      backend: "wasm",
      options: {} as never,
      shard: null,
      plan: [],
      state: "done" as const,
      failed: [],
    };
    await writeRunRecord(dir, done);
    await beginRunRecord(dir, done, true);
    assert.equal((await readRunRecord(dir))!.resumes_ended_run, true);
    // and one resume after another that was killed keeps saying it
    await beginRunRecord(dir, done, true);
    assert.equal((await readRunRecord(dir))!.resumes_ended_run, true);
    // a run started over does not
    await beginRunRecord(dir, done, false);
    assert.equal((await readRunRecord(dir))!.resumes_ended_run, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // through the CLI, killed for real: a, b and c finished; a removed; the resume that redoes it
  // killed; the next resume redoes a only
  await withRun({ a: GRID_200, b: CAR, c: CAR }, async (dir, args) => {
    assert.equal((await segment(args)).code, 0);
    await Deno.remove(`${dir}/out/a.geojson`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}cli.ts`, "segment", ...args, "--resume", "--quiet"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let t = 0; t < 600; t++) {
      const rec = await readRunRecord(`${dir}/out`).catch(() => null);
      if (rec?.state === "running") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    await child.status;
    const killed = (await readRunRecord(`${dir}/out`))!;
    assert.equal(killed.state, "running", "the resume ended before it was killed");
    assert.equal(killed.resumes_ended_run, true);
    const r = await segment([...args, "--resume"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /done: 200 masks on 1 image\(s\).*2 skipped/);
    const coco = JSON.parse(await Deno.readTextFile(`${dir}/out/coco.json`));
    assert.deepEqual(coco.images.map((i: { file_name: string }) => i.file_name), [
      "a.png",
      "b.png",
      "c.png",
    ]);
    assert.equal(coco.annotations.length, 202);
  });
});

Deno.test("segment: another shard in a used folder warns about the earlier shard's files; kills' temporaries go", async () => {
  await withRun({ a: CAR, b: CAR, c: CAR }, async (dir, args) => {
    assert.equal((await segment([...args, "--shard", "1/2"])).code, 0);
    const first = (await Array.fromAsync(Deno.readDir(`${dir}/out`))).map((e) => e.name)
      .filter((n) => n.endsWith(".geojson"));
    assert.ok(first.length >= 1);
    // what a kill during an atomic write leaves
    await Deno.writeTextFile(`${dir}/out/.${first[0]}.123456789.tmp`, "{");
    const r = await segment([...args, "--shard", "0/2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `holds ${first.length} file\\(s\\) of an earlier run that this run does not write`,
      ),
    );
    assert.equal(await exists(`${dir}/out/.${first[0]}.123456789.tmp`), false);
    // the same share in the other vector format: this share's GeoJSON files are said
    const fgb = await segment([...args, "--shard", "0/2", "--vector-format", "fgb"]);
    assert.equal(fgb.code, 0, fgb.stderr);
    assert.match(fgb.stderr, /of an earlier run that this run does not write \(.*\.geojson/);
    // --out naming a file
    const file = await segment([...args.slice(0, 4), "--out", `${dir}/labels/a.txt`]);
    assert.equal(file.code, 2, file.stderr);
    assert.match(file.stderr, /Cannot write to --out .*a\.txt: it is a file, not a folder/);
  });
});

/** Processes whose command line names `text` (Linux /proc). */
async function processesNaming(text: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    if (cmd.includes(text)) n++;
  }
  return n;
}

Deno.test({
  name:
    "deno task segment: SIGTERM or SIGINT to the task stops the run it started; a comma in --out is refused",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withRun({ a: GRID_200, b: GRID_200, c: GRID_200 }, async (dir, args) => {
      // SIGINT: `deno task` ended the launcher and left the run going (timeout -s INT, Docker)
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        const out = `${dir}/out_${signal}`;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "task",
            "-q",
            "segment",
            ...args.slice(0, 4),
            ...args.slice(6),
            "--out",
            out,
            "--quiet",
          ],
          cwd: root,
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        // the run has started once its record is there
        for (let t = 0; t < 1500 && !(await exists(`${out}/sopseg-run.json`)); t++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(await processesNaming(out) >= 2);
        child.kill(signal);
        await child.status;
        // what to do next is the last line, not a progress line
        assert.match(
          await stderr,
          new RegExp(
            `stopped by ${signal}; the images finished are in .*out_${signal}: run the ` +
              `same command with --resume to go on\\n$`,
          ),
        );
        let left = -1;
        for (let t = 0; t < 50 && left !== 0; t++) {
          await new Promise((r) => setTimeout(r, 200));
          left = await processesNaming(out);
        }
        assert.equal(left, 0, `${signal}: a process of the run outlived the task`);
        assert.equal((await readRunRecord(out))!.state, "running");
      }

      const comma = await runTask("segment", [...args.slice(0, 4), "--out", `${dir}/a,b`]);
      assert.equal(comma.code, 2, comma.stderr);
      assert.match(comma.stderr, /a,b: Deno's --allow-write cannot express a path with a comma/);
      assert.equal(await exists(`${dir}/a,b`), false);
    });
  },
});

Deno.test("segment --out -: lines say their frame; a reader that goes away (| head -1) stops the run, exit 0", async () => {
  await withRun({ a: GRID_200 }, async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${root}cli.ts`,
        "segment",
        "--images",
        `${dir}/images/a.png`,
        "--detections",
        `${dir}/labels/a.txt`,
        "--out",
        "-",
        "--backend",
        "wasm",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errText = new Response(child.stderr).text();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^\{"type":"Feature"/);
    await reader.cancel(); // closes the pipe: the next write fails with EPIPE
    const { code } = await child.status;
    const stderr = await errText;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /stdout was closed by its reader: stopped/);
    // a line says its frame, and a frame other than WGS84 is said once
    assert.match(new TextDecoder().decode(first.value), /"sopseg:coordinates":"pixel"/);
    assert.equal(stderr.match(/streamed features are in pixel coordinates/g)?.length, 1);
    assert.doesNotMatch(stderr, /error|failed/);
  });
});
