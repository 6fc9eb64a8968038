/**
 * One writer per output folder: a segment run or a merge holds
 * `<out>/.sopseg-lock`, an advisory lock that the system releases when the
 * process ends (`kill -9` included), so a scheduler's retry beside a worker
 * that is still alive, or a merge into a folder a run is writing, is refused
 * instead of mixing two writers' files.
 *
 * @module
 */
import { readRunRecord } from "./run_record.ts";
import type { Shard } from "./shard.ts";

/**
 * Another run (another process) is writing the same `out` folder: a retry
 * once it has ended goes on, so front ends exit 1, not 2.
 */
export class RunBusyError extends Error {
  override name = "RunBusyError";
}

/** The lock file of an `out` folder. */
export const LOCK_FILE = ".sopseg-lock";

/** The `out` folders (real paths) that runs of this process hold the lock of. */
const LOCKED_HERE = new Set<string>();

/** Options of {@linkcode lockOutFolder}. */
export interface LockOutFolderOptions {
  /**
   * Who asks: a segment run (told to rerun with `--resume` once the holder has ended) or a
   * merge (told to merge once it has). Default: `"segment"`.
   */
  by?: "segment" | "merge";
  /**
   * The segment run's shard: when the folder's run record names another, the refusal says
   * that a resume there would be refused too. Default: none (a run over every image).
   */
  shard?: Shard | null;
}

/**
 * Takes `out`'s lock or throws a {@linkcode RunBusyError} naming the process
 * that holds it. The folder must exist. The caller releases it when done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockOutFolder, RunBusyError } from "./out_lock.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const lock = await lockOutFolder(dir);
 * await assert.rejects(lockOutFolder(dir, { by: "merge" }), RunBusyError);
 * lock.release();
 * (await lockOutFolder(dir)).release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function lockOutFolder(
  out: string,
  options: LockOutFolderOptions = {},
): Promise<{ release: () => void }> {
  const by = options.by ?? "segment";
  const refused = by === "merge" ? `Cannot merge into ${out}` : `Cannot write to --out ${out}`;
  // runs of this process first: a library caller may start two into one folder
  const key = await Deno.realPath(out).catch(() => out);
  if (LOCKED_HERE.has(key)) {
    throw new RunBusyError(
      `${refused}: another run of this process (${Deno.pid}) is writing there; ` +
        await whenEnded(out, options),
    );
  }
  LOCKED_HERE.add(key); // taken at once (no await since the check): another call sees it
  const path = `${out}/${LOCK_FILE}`;
  const file = await Deno.open(path, { read: true, write: true, create: true })
    .catch((e) => {
      LOCKED_HERE.delete(key);
      throw e;
    });
  if (!(await file.tryLock(true))) {
    LOCKED_HERE.delete(key);
    file.close();
    const holder = (await Deno.readTextFile(path).catch(() => "")).trim();
    throw new RunBusyError(
      `${refused}: another sopseg run is writing there${holder ? ` (${holder})` : ""}; ` +
        await whenEnded(out, options),
    );
  }
  const holder = `process ${Deno.pid}, started ${new Date().toISOString()}`;
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${holder}\n`));
  return {
    release: () => {
      LOCKED_HERE.delete(key);
      file.close();
    },
  };
}

/** What to do once the holder has ended, from what the folder's run record says. */
async function whenEnded(out: string, options: LockOutFolderOptions): Promise<string> {
  if (options.by === "merge") {
    return "wait for it to end (or stop it), then merge, or merge into another folder";
  }
  const record = await readRunRecord(out).catch(() => null);
  const text = (s: Shard | null | undefined) => s ? `--shard ${s.index}/${s.count}` : "no --shard";
  if (record !== null && text(record.shard) !== text(options.shard)) {
    // a resume into another shard's folder would be refused (exit 2): say so now
    return `its run record is of ${text(record.shard)}, this run is ${text(options.shard)}: ` +
      `give each shard its own --out`;
  }
  return "wait for it to end (or stop it), then rerun with --resume";
}
