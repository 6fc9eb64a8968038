// The scheduler recipes in docs/scale (neither Kubernetes nor Slurm runs here): the command
// each worker runs, with the scheduler's variables filled in, takes flags the CLI knows and
// gives every shard 0..N-1 exactly once, with its own output folder.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { SEGMENT_USAGE } from "../../src/cli/segment.ts";

const root = new URL("../..", import.meta.url).pathname;
const SCALE = `${root}docs/scale`;

/** Asserts every `--flag` of `args` is in the segment usage text. */
function assertKnownFlags(args: readonly string[]) {
  for (const a of args.filter((a) => a.startsWith("--"))) {
    assert.match(SEGMENT_USAGE, new RegExp(`^\\s+${a}\\b`, "m"), `${a} is not a segment flag`);
  }
}

/** The value after `flag` in `args`. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

/** Asserts the workers' args cover shards 0..count-1 once each, each with its own --out. */
function assertShards(workers: string[][], count: number) {
  const shards = workers.map((a) => flag(a, "--shard"));
  assert.deepEqual(shards, [...Array(count).keys()].map((i) => `${i}/${count}`));
  const outs = new Set(workers.map((a) => flag(a, "--out")));
  assert.equal(outs.size, count, "one --out per shard");
  for (const a of workers) {
    assert.deepEqual(a.slice(0, 3), ["task", "-q", "segment"]);
    assert.ok(a.includes("--resume"), "a retried worker resumes");
    assertKnownFlags(a);
  }
}

Deno.test("docs/scale/k8s-indexed-job.yaml: one pod per shard, exit 2 not retried", async () => {
  const job = parse(await Deno.readTextFile(`${SCALE}/k8s-indexed-job.yaml`));
  assert.equal(job.apiVersion, "batch/v1");
  assert.equal(job.kind, "Job");
  const spec = job.spec;
  assert.equal(spec.completionMode, "Indexed");
  const pod = spec.template.spec;
  assert.equal(pod.restartPolicy, "Never"); // podFailurePolicy and backoffLimitPerIndex need it
  const [container] = pod.containers;
  const env = new Map<string, { value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>(
    container.env.map((e: { name: string }) => [e.name, e]),
  );
  assert.equal(
    env.get("SHARD_INDEX")?.valueFrom?.fieldRef?.fieldPath,
    "metadata.annotations['batch.kubernetes.io/job-completion-index']",
  );
  const count = Number(env.get("SHARD_COUNT")?.value);
  assert.equal(spec.completions, count, "completions = SHARD_COUNT");
  assert.ok(spec.parallelism <= count);
  // Exit code 2 (usage or configuration) fails the index at once; 1 is retried.
  const failIndex = spec.podFailurePolicy.rules.find((r: { action: string }) =>
    r.action === "FailIndex"
  );
  assert.deepEqual(failIndex.onExitCodes.values, [2]);
  assert.equal(failIndex.onExitCodes.containerName, container.name);
  assert.ok(spec.backoffLimitPerIndex >= 1);
  assert.deepEqual(container.command, ["deno"]);
  assert.equal(flag(container.args, "--threads"), container.resources.requests.cpu);
  // Kubernetes expands $(VAR) in args from the container's env.
  const workers = [...Array(count).keys()].map((i) =>
    (container.args as string[]).map((a) =>
      a.replace(
        /\$\((\w+)\)/g,
        (_, v: string) => v === "SHARD_INDEX" ? String(i) : env.get(v)?.value ?? `$(${v})`,
      )
    )
  );
  assertShards(workers, count);
  for (const a of workers) assert.doesNotMatch(a.join(" "), /\$\(/);
  const mounts = new Set(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath));
  for (const path of [flag(workers[0]!, "--images"), flag(workers[0]!, "--out")]) {
    assert.ok([...mounts].some((m) => path!.startsWith(`${m}/`)), `${path} is on a volume`);
  }
});

Deno.test("docs/scale/slurm-array.sh: array task -> --shard, from 0 or 1, stepped; a list refused", async () => {
  const script = `${SCALE}/slurm-array.sh`;
  const text = await Deno.readTextFile(script);
  const array = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(text);
  assert.ok(array, "an #SBATCH --array=A-B line");
  const cpus = /^#SBATCH --cpus-per-task=(\d+)$/m.exec(text)?.[1];
  assert.ok(cpus);
  // A stand-in `deno` that records its arguments, one per line.
  const dir = await Deno.makeTempDir({ prefix: "sopseg_slurm_" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno`,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "$SOPSEG_TEST_ARGS"\nexit "\${SOPSEG_TEST_EXIT:-0}"\n`,
      { mode: 0o755 },
    );
    const run = async (
      task: number,
      min: number,
      count: number,
      exit = 0,
      more: Record<string, string> = {},
    ) => {
      const argsFile = `${dir}/args-${task}`;
      await Deno.remove(argsFile).catch(() => {});
      const out = await new Deno.Command("bash", {
        args: [script, "/data/images", "/data/labels", "/scratch/out"],
        cwd: dir,
        env: {
          PATH: `${dir}:${Deno.env.get("PATH")}`,
          SLURM_ARRAY_TASK_ID: String(task),
          SLURM_ARRAY_TASK_MIN: String(min),
          SLURM_ARRAY_TASK_COUNT: String(count),
          SLURM_CPUS_PER_TASK: cpus,
          SLURM_SUBMIT_DIR: root,
          SOPSEG_TEST_ARGS: argsFile,
          SOPSEG_TEST_EXIT: String(exit),
          ...more,
        },
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, exit, stderr);
      if (exit === 2 && Object.keys(more).length) return [stderr]; // refused: deno not run
      return (await Deno.readTextFile(argsFile)).trimEnd().split("\n");
    };
    const first = Number(array[1]), last = Number(array[2]);
    const count = last - first + 1;
    const workers = [];
    for (let id = first; id <= last; id++) workers.push(await run(id, first, count));
    assertShards(workers, count);
    assert.equal(flag(workers[0]!, "--out"), "/scratch/out/shard-0");
    assert.equal(flag(workers[0]!, "--threads"), cpus);
    // An array numbered 1..3 still gives shards 0..2.
    assertShards([await run(1, 1, 3), await run(2, 1, 3), await run(3, 1, 3)], 3);
    // The CLI's exit code is the task's: Slurm sees 2 (do not requeue) as 2.
    await run(0, 0, 2, 2);
    // --array=0-30:2: tasks 0, 2, .. 30 are shards 0..15
    const stepped = [];
    for (let id = 0; id <= 30; id += 2) {
      stepped.push(
        await run(id, 0, 16, 0, { SLURM_ARRAY_TASK_STEP: "2", SLURM_ARRAY_TASK_MAX: "30" }),
      );
    }
    assertShards(stepped, 16);
    // --array=1,3,7 (Slurm's step for a list: 1): no shard of it runs, each task says why
    for (const id of [1, 3, 7]) {
      const [stderr] = await run(id, 1, 3, 2, {
        SLURM_ARRAY_TASK_STEP: "1",
        SLURM_ARRAY_TASK_MAX: "7",
      });
      assert.match(stderr!, /not one of 3 evenly stepped tasks .*not a list/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/SCALE.md points at each recipe and states the exit codes", async () => {
  const doc = await Deno.readTextFile(`${root}docs/SCALE.md`);
  for (const file of ["parallel.sh", "slurm-array.sh", "k8s-indexed-job.yaml"]) {
    assert.match(doc, new RegExp(`docs/scale/${file.replaceAll(".", "\\.")}`));
  }
  for (const code of ["0", "1", "2"]) assert.match(doc, new RegExp(`\\| ${code} +\\|`));
});

Deno.test("docs/scale: the Slurm and Kubernetes merges run when shard 0 exits 2 for left-out inputs", async () => {
  const doc = await Deno.readTextFile(`${root}docs/SCALE.md`);
  const slurm = await Deno.readTextFile(`${SCALE}/slurm-array.sh`);
  const k8s = await Deno.readTextFile(`${SCALE}/k8s-indexed-job.yaml`);
  // afterok never runs the merge once a task exited 2; afterany does, and merge checks each shard
  for (const text of [doc, slurm]) {
    assert.match(text, /--dependency=afterany:<job id>/);
    assert.doesNotMatch(text, /--dependency=afterok/);
  }
  // the Indexed Job ends Failed when an index failed (FailIndex on exit 2): wait for either
  for (const text of [doc, k8s]) {
    assert.match(text, /kubectl wait --for=condition=complete .*job\/sopseg-segment &/);
    assert.match(text, /kubectl wait --for=condition=failed .*job\/sopseg-segment &/);
  }
  // `wait -n` is bash's: in sh/dash it returns at once and the merge starts while the Job runs
  assert.match(doc, /```bash\nkubectl wait --for=condition=complete/);
  assert.match(k8s, /bash -c 'kubectl wait --for=condition=complete/);
  // the exit-code section says what each recipe does with the codes
  const codes = doc.slice(doc.indexOf("## Exit codes"), doc.indexOf("## Recipes"));
  for (const recipe of ["parallel.sh", "Kubernetes", "Slurm"]) {
    assert.match(codes, new RegExp(`- \\*\\*\`?${recipe.replace(".", "\\.")}\`?\\*\\*: `));
  }
  assert.match(codes, /\.parallel-started/);
});

const haveParallel = new Deno.Command("sh", { args: ["-c", "command -v parallel"] }).outputSync()
  .success;

Deno.test({
  name: `docs/scale/parallel.sh: exit 1 retried with --resume, exit 2 not; the merge's code is its${
    haveParallel ? "" : " [skipped: GNU parallel missing (apt-get install parallel)]"
  }`,
  ignore: !haveParallel && !Deno.env.get("CI"), // in CI (which installs it) a missing parallel fails
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_parallel_" });
    try {
      // A stand-in `deno`: logs each call, exits with SOPSEG_TEST_EXIT_<shard> (merge:
      // SOPSEG_TEST_MERGE_EXIT), and writes a finished record when it exits 0 (or always,
      // SOPSEG_TEST_DONE=1: a shard that ended but left inputs out, which its record names);
      // SOPSEG_TEST_NO_RECORD=1: it writes none (refused before it ran).
      await Deno.writeTextFile(
        `${dir}/deno`,
        `#!/bin/bash
printf '%s\\n' "$*" >> "$SOPSEG_TEST_LOG"
prev=""; shard=""; out=""
for a in "$@"; do
  if [ "$prev" = "--shard" ]; then shard=\${a%/*}; fi
  if [ "$prev" = "--out" ]; then out=$a; fi
  prev=$a
done
if [ -z "$shard" ]; then exit "\${SOPSEG_TEST_MERGE_EXIT:-0}"; fi
code=$(eval echo "\\\${SOPSEG_TEST_EXIT_$shard:-0}")
if [ "\${SOPSEG_TEST_NO_RECORD:-}" = 1 ]; then exit "$code"; fi
if [ "\${SOPSEG_TEST_DONE:-}" = 1 ]; then
  mkdir -p "$out"
  printf '{\\n "state": "done",\\n "left_out": [{"reason": "r", "files": ["a.png"], "count": 1}]\\n}\\n' \\
    > "$out/sopseg-run.json"
elif [ "$code" = 0 ]; then
  mkdir -p "$out"; printf '{\\n "state": "done"\\n}\\n' > "$out/sopseg-run.json"
fi
exit "$code"
`,
        { mode: 0o755 },
      );
      let n = 0;
      const run = async (env: Record<string, string>, into?: string) => {
        const log = `${dir}/log-${++n}`;
        const out = await new Deno.Command("bash", {
          args: [
            `${SCALE}/parallel.sh`,
            dir,
            dir,
            into ?? `${dir}/out-${n}`,
            "3",
            "--backend",
            "wasm",
          ],
          env: {
            PATH: `${dir}:${Deno.env.get("PATH")}`,
            SOPSEG_DIR: dir,
            SOPSEG_TEST_LOG: log,
            ...env,
          },
          stdin: "null",
        }).output();
        const calls = (await Deno.readTextFile(log)).trimEnd().split("\n");
        const shardCalls = (i: number) => calls.filter((c) => c.includes(`--shard ${i}/3`)).length;
        return {
          code: out.code,
          stderr: new TextDecoder().decode(out.stderr),
          shardCalls: [0, 1, 2].map(shardCalls),
          merges: calls.filter((c) => / merge /.test(c)),
        };
      };
      const ok = await run({});
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(ok.shardCalls, [1, 1, 1]);
      assert.equal(ok.merges.length, 1);
      assert.match(ok.merges[0]!, /--out .*out-1\/merged .*shard-0 .*shard-1 .*shard-2$/);
      // exit 1: tried 4 times in all, each with --resume; no merge
      const failed = await run({ SOPSEG_TEST_EXIT_1: "1" });
      assert.equal(failed.code, 1, failed.stderr);
      assert.deepEqual(failed.shardCalls, [1, 4, 1]);
      assert.equal(failed.merges.length, 0);
      assert.match(failed.stderr, /some shards failed .*run the script again/);
      // exit 2 before the run (a usage error): not retried, no merge, the script says 2
      const usage = await run({ SOPSEG_TEST_EXIT_2: "2" });
      assert.equal(usage.code, 2, usage.stderr);
      assert.deepEqual(usage.shardCalls, [1, 1, 1]);
      assert.equal(usage.merges.length, 0);
      assert.match(usage.stderr, /shard 2\/3 stopped with exit 2 .*a retry cannot help/);
      // exit 2 of a shard that ran to its end (inputs left out): merged, the merge's 2 is the
      // script's
      const leftOut = await run({
        SOPSEG_TEST_EXIT_0: "2",
        SOPSEG_TEST_DONE: "1",
        SOPSEG_TEST_MERGE_EXIT: "2",
      });
      assert.equal(leftOut.code, 2, leftOut.stderr);
      assert.deepEqual(leftOut.shardCalls, [1, 1, 1]);
      assert.equal(leftOut.merges.length, 1);
      // run again into a finished run's folders with other settings: every shard's --resume
      // is refused (exit 2) before it writes, and the earlier run's "done" records are not
      // this run's: no merge of the earlier outputs, exit 2 (the earlier script exited 0)
      const stale = await run(
        {
          SOPSEG_TEST_EXIT_0: "2",
          SOPSEG_TEST_EXIT_1: "2",
          SOPSEG_TEST_EXIT_2: "2",
          SOPSEG_TEST_NO_RECORD: "1",
        },
        `${dir}/out-1`,
      );
      assert.equal(stale.code, 2, stale.stderr);
      assert.deepEqual(stale.shardCalls, [1, 1, 1]);
      assert.equal(stale.merges.length, 0);
      assert.match(stale.stderr, /shard 0\/3 stopped with exit 2 before it ran .*nothing merged/);
      // nor when only shard 0's was refused: its folder holds the earlier run's outputs
      const one = await run(
        { SOPSEG_TEST_EXIT_0: "2", SOPSEG_TEST_NO_RECORD: "1" },
        `${dir}/out-1`,
      );
      assert.equal(one.code, 2, one.stderr);
      assert.equal(one.merges.length, 0);
      // an earlier run's record that left inputs out is not this run's either
      const earlier = await run(
        { SOPSEG_TEST_EXIT_0: "2", SOPSEG_TEST_NO_RECORD: "1" },
        `${dir}/out-4`,
      );
      assert.equal(earlier.code, 2, earlier.stderr);
      assert.equal(earlier.merges.length, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("docs/scale/parallel.sh: exit 2 without GNU parallel; an earlier joblog is never read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg_parallel_" });
  try {
    // stand-ins: `deno` logs its calls; `parallel` is moreutils' (no GNU --version) or a GNU one
    // that fails before it runs a job (no joblog written)
    await Deno.writeTextFile(
      `${dir}/deno`,
      `#!/bin/bash\nprintf '%s\\n' "$*" >> "${dir}/deno.log"\n`,
      { mode: 0o755 },
    );
    const run = async (parallel: string, out: string) => {
      await Deno.writeTextFile(`${dir}/parallel`, `#!/bin/bash\n${parallel}`, { mode: 0o755 });
      const result = await new Deno.Command("bash", {
        args: [`${SCALE}/parallel.sh`, dir, dir, out, "2"],
        env: { PATH: `${dir}:${Deno.env.get("PATH")}`, SOPSEG_DIR: dir },
        stdin: "null",
      }).output();
      return { code: result.code, stderr: new TextDecoder().decode(result.stderr) };
    };
    const calls = () => Deno.readTextFile(`${dir}/deno.log`).catch(() => "");

    const moreutils = await run(
      `echo "parallel [OPTIONS] command -- arguments" >&2; exit 1`,
      `${dir}/a`,
    );
    assert.equal(moreutils.code, 2, moreutils.stderr);
    assert.match(moreutils.stderr, /needs GNU parallel/);
    assert.equal(await calls(), "", "no shard ran, nothing merged");

    // an earlier invocation's joblog says every shard exited 0; this one's parallel failed
    await Deno.mkdir(`${dir}/b`);
    await Deno.writeTextFile(
      `${dir}/b/parallel.log`,
      "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n" +
        "1\t:\t0\t1\t0\t0\t0\t0\trun_shard 0\n2\t:\t0\t1\t0\t0\t0\t0\trun_shard 1\n",
    );
    const broken = await run(
      `if [ "$1" = --version ]; then echo "GNU parallel 20221122"; exit 0; fi; exit 255`,
      `${dir}/b`,
    );
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /some shards failed/);
    assert.equal(await calls(), "", "the earlier shards' folders are not merged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
