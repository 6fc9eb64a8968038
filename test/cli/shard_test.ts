// Sharded runs through the real launcher on real iSAID val tiles (read in place, a small
// subset): shards merged equal one run, the GNU parallel recipe, a killed shard resumed, and
// the refusals (exit 2) a scheduler must not retry.
import assert from "node:assert/strict";
import { dataTest } from "../_data.ts";
import { runTask } from "./_run_cli.ts";
import { ISAID_VAL, isaidSubset } from "./_isaid_subset.ts";

const root = new URL("../..", import.meta.url).pathname;

function inCi(): boolean {
  return (Deno.env.get("CI") ?? "") !== "";
}

const haveParallel = new Deno.Command("sh", { args: ["-c", "command -v parallel"] }).outputSync()
  .success;

async function bytes(path: string): Promise<Uint8Array> {
  return await Deno.readFile(path);
}

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

/** `deno task -q <args>` with extra environment variables. */
async function taskWithEnv(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Asserts that `dir` holds what the single run in `single` wrote: same bytes. */
async function assertSameRun(dir: string, single: string, names: string[]) {
  assert.deepEqual(await bytes(`${dir}/coco.json`), await bytes(`${single}/coco.json`));
  for (const name of names) {
    const file = name.replace(/\.jpg$/, ".geojson");
    assert.deepEqual(await bytes(`${dir}/${file}`), await bytes(`${single}/${file}`), file);
  }
  const record = await readJson(`${dir}/sopseg-run.json`);
  assert.deepEqual(record, await readJson(`${single}/sopseg-run.json`));
}

dataTest({
  name: "segment --shard and merge on iSAID val tiles",
  needs: [`${ISAID_VAL}/images`, `${ISAID_VAL}/annotations.json.gz`],
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_shard_" });
    try {
      const subset = await isaidSubset(dir, { count: 12, maxBoxes: 10 });
      const total = subset.boxes.reduce((a, b) => a + b);
      const common = [
        "--images",
        subset.images,
        "--detections",
        subset.labels,
        "--backend",
        "wasm",
        "--threads",
        "1",
      ];
      const single = `${dir}/single`;
      const shard = (i: number) => `${dir}/shard-${i}`;

      await t.step("3 shards merged give what one run gives", async () => {
        const r = await runTask("segment", [...common, "--out", single, "--quiet"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`done: ${total} masks on 12 image\\(s\\)`));
        const runs = await Promise.all(
          [0, 1, 2].map((i) =>
            runTask("segment", [...common, "--out", shard(i), "--shard", `${i}/3`, "--quiet"])
          ),
        );
        for (const r of runs) assert.equal(r.code, 0, r.stderr);
        // Each image in exactly one shard; the shards' loads within one image's boxes.
        const loads: number[] = [];
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) {
          const coco = await readJson(`${shard(i)}/coco.json`);
          seen.push(...coco.images.map((im: { file_name: string }) => im.file_name));
          loads.push(coco.annotations.length);
          const record = await readJson(`${shard(i)}/sopseg-run.json`);
          assert.deepEqual(record.shard, { index: i, count: 3 });
          assert.equal(record.state, "done");
        }
        assert.deepEqual(seen.sort(), [...subset.names].sort());
        assert.ok(Math.max(...loads) - Math.min(...loads) <= Math.max(...subset.boxes), `${loads}`);

        const m = await runTask("merge", ["--out", `${dir}/merged`, shard(2), shard(0), shard(1)]);
        assert.equal(m.code, 0, m.stderr);
        assert.match(m.stderr, new RegExp(`merged 3 shard\\(s\\): ${total} masks on 12 image`));
        await assertSameRun(`${dir}/merged`, single, subset.names);
      });

      await t.step({
        name: `the GNU parallel recipe (docs/scale/parallel.sh)${
          haveParallel || inCi()
            ? ""
            : " [skipped: GNU parallel missing (apt-get install parallel)]"
        }`,
        ignore: !haveParallel && !inCi(),
        fn: async () => {
          const out = await new Deno.Command("bash", {
            args: [
              `${root}docs/scale/parallel.sh`,
              subset.images,
              subset.labels,
              `${dir}/parallel`,
              "3",
              "--backend",
              "wasm",
            ],
            stdin: "null",
            env: { NO_COLOR: "1" },
          }).output();
          const stderr = new TextDecoder().decode(out.stderr);
          assert.equal(out.code, 0, stderr);
          const log = await Deno.readTextFile(`${dir}/parallel/parallel.log`);
          // one job per shard (run_shard I N ...: --shard I/N), each ended with exit 0
          for (let i = 0; i < 3; i++) {
            assert.match(log, new RegExp(`\t0\t0\trun_shard ${i} 3 `));
          }
          await assertSameRun(`${dir}/parallel/merged`, single, subset.names);
        },
      });

      await t.step("a shard killed mid-run resumes with --resume and merges the same", async () => {
        const killed = `${dir}/killed`;
        const args = [...common, "--out", killed, "--shard", "0/3"];
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", `${root}cli.ts`, "segment", ...args],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).spawn();
        // Kill it (SIGKILL: no cleanup) once its first image is written.
        let seen = "";
        const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
        while (!/ masks in /.test(seen)) {
          const { value, done } = await reader.read();
          if (done) break;
          seen += value;
        }
        child.kill("SIGKILL");
        await child.status;
        await reader.cancel();
        const first = /\[1\/\d+\] \S*?([^/\s]+\.jpg): /.exec(seen)?.[1];
        assert.ok(first, seen);
        assert.equal((await readJson(`${killed}/sopseg-run.json`)).state, "running");
        await Deno.stat(`${killed}/.sopseg-parts`);

        const early = await runTask("merge", ["--out", `${dir}/early`, killed, shard(1), shard(2)]);
        assert.equal(early.code, 1, early.stderr);
        assert.match(early.stderr, /has not finished .*rerun it with --resume/);

        const r = await runTask("segment", [...args, "--resume"]);
        assert.equal(r.code, 0, r.stderr);
        // The image written before the kill is not written again.
        assert.match(r.stderr, new RegExp(`${first.replaceAll(".", "\\.")}: skipped`));
        const m = await runTask("merge", ["--out", `${dir}/resumed`, killed, shard(1), shard(2)]);
        assert.equal(m.code, 0, m.stderr);
        await assertSameRun(`${dir}/resumed`, single, subset.names);
      });

      await t.step("refuses, with exit code 2, what a retry cannot fix", async () => {
        // --resume into a folder made with other options, or as another shard.
        let r = await runTask("segment", [
          ...common,
          "--out",
          shard(1),
          "--shard",
          "1/3",
          "--resume",
          "--simplify",
          "1",
        ]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /Cannot resume in .*shard-1: .*options\.simplify: 0 vs 1/);
        r = await runTask("segment", [...common, "--out", shard(1), "--shard", "2/3", "--resume"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /shard: --shard 1\/3 vs --shard 2\/3/);
        r = await runTask("segment", [...common, "--out", `${dir}/x`, "--shard", "3/3"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /--shard: .*must be below COUNT/);
        // Merges of folders that are not one run's shards.
        r = await runTask("merge", ["--out", `${dir}/m1`, shard(0), shard(1)]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /shard 2\/3 missing/);
        r = await runTask("merge", ["--out", `${dir}/m2`, shard(0), shard(1), shard(1)]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /are both shard 1\/3/);
        r = await runTask("merge", ["--out", shard(0), shard(0), shard(1), shard(2)]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /it is one of the shard folders/);
        r = await runTask("merge", ["--out", `${dir}/m3`, single, shard(0)]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /one of 1 shards vs one of 3/);
        // Another model or other options: a shard whose record says so.
        await Deno.mkdir(`${dir}/odd`);
        for (const e of Deno.readDirSync(shard(2))) {
          await Deno.copyFile(`${shard(2)}/${e.name}`, `${dir}/odd/${e.name}`);
        }
        const record = await readJson(`${dir}/odd/sopseg-run.json`);
        record.options.prompt = "box";
        record.model.files_sha256["decoder.onnx"] = "0".repeat(64);
        await Deno.writeTextFile(`${dir}/odd/sopseg-run.json`, JSON.stringify(record));
        r = await runTask("merge", ["--out", `${dir}/m4`, shard(0), shard(1), `${dir}/odd`]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /made with other settings .*decoder\.onnx.*options\.prompt/);
        for (const m of ["m1", "m2", "m3", "m4"]) {
          await assert.rejects(Deno.stat(`${dir}/${m}/coco.json`), Deno.errors.NotFound);
        }
      });

      await t.step(
        "a scheduler's array index without --shard gets a note, not a share",
        async () => {
          const env = {
            SLURM_ARRAY_TASK_ID: "2",
            SLURM_ARRAY_TASK_MIN: "1",
            SLURM_ARRAY_TASK_COUNT: "3",
          };
          // --resume over the finished runs: every image is skipped, no model call.
          const r = await taskWithEnv(["segment", ...common, "--out", single, "--resume"], env);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /note: SLURM_ARRAY_TASK_ID=2 .*--shard 1\/3 would run its share/);
          assert.match(r.stderr, /done: 0 masks on 0 image\(s\).*, 12 skipped/);
          const k8s = await taskWithEnv(
            ["segment", ...common, "--out", shard(0), "--shard", "0/3", "--resume"],
            { JOB_COMPLETION_INDEX: "0" },
          );
          assert.doesNotMatch(k8s.stderr, /note:/);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
