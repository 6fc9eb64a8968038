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

Deno.test("docs/scale/slurm-array.sh: array task -> --shard, from 0 or from 1", async () => {
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
    const run = async (task: number, min: number, count: number, exit = 0) => {
      const argsFile = `${dir}/args-${task}`;
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
        },
      }).output();
      assert.equal(out.code, exit, new TextDecoder().decode(out.stderr));
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
