/**
 * Batch schedulers hand each array worker an index through the environment.
 * sopseg never shards implicitly: when `segment` runs without `--shard` but
 * such an index is set, it says so on stderr and runs over every image, so a
 * recipe that forgot `--shard` is noticed rather than silently repeated.
 *
 * @module
 */

/** The environment variables read: the index each scheduler sets, and the counts beside them. */
export const SCHEDULER_ENV = [
  "JOB_COMPLETION_INDEX",
  "SLURM_ARRAY_TASK_ID",
  "SLURM_ARRAY_TASK_MIN",
  "SLURM_ARRAY_TASK_COUNT",
  "AWS_BATCH_JOB_ARRAY_INDEX",
] as const;

/**
 * The note to print for `args` of the `segment` command under `env`, or
 * `null` when there is nothing to say (`--shard` given, or no scheduler index
 * set). The note names the scheduler and the `--shard` value that would pick
 * this worker's share.
 *
 * @example
 * ```ts
 * import { schedulerIndexNote } from "./scheduler_env.ts";
 * const note = schedulerIndexNote(["--images", "i"], { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "8" });
 * if (!note?.includes("--shard 3/8")) throw new Error(note ?? "no note");
 * if (schedulerIndexNote(["--shard", "3/8"], { SLURM_ARRAY_TASK_ID: "3" }) !== null) throw new Error();
 * ```
 */
export function schedulerIndexNote(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  if (args.some((a) => a === "--shard" || a.startsWith("--shard="))) return null;
  const tail = "; running over every image. sopseg does not shard implicitly: pass --shard " +
    "INDEX/COUNT (INDEX from 0) to run this worker's share (docs/SCALE.md)";
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== "") {
    return `sopseg: note: JOB_COMPLETION_INDEX=${k8s} is set (a Kubernetes Indexed Job) ` +
      `but --shard is not: --shard ${k8s}/<completions> would run its share` + tail;
  }
  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (slurm !== undefined && slurm !== "") {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? "0");
    const count = env.SLURM_ARRAY_TASK_COUNT;
    const index = Number.isInteger(Number(slurm)) && Number.isInteger(min)
      ? String(Number(slurm) - min)
      : slurm;
    return `sopseg: note: SLURM_ARRAY_TASK_ID=${slurm} is set (a Slurm job array) ` +
      `but --shard is not: --shard ${index}/${count || "<array size>"} would run its share` +
      (min !== 0 ? ` (the array starts at ${min})` : "") + tail;
  }
  const aws = env.AWS_BATCH_JOB_ARRAY_INDEX;
  if (aws !== undefined && aws !== "") {
    return `sopseg: note: AWS_BATCH_JOB_ARRAY_INDEX=${aws} is set (an AWS Batch array job) ` +
      `but --shard is not: --shard ${aws}/<array size> would run its share` + tail;
  }
  return null;
}

/**
 * The {@linkcode SCHEDULER_ENV} variables this process may read, without
 * asking: those it has no permission for are left out.
 */
export function readSchedulerEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const variable of SCHEDULER_ENV) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") continue;
    env[variable] = Deno.env.get(variable);
  }
  return env;
}
