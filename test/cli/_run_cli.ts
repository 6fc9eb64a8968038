import { fixture } from "../raster/_fixtures.ts";
/** Spawn the real CLI as a subprocess (with all permissions, or through `deno task`). */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const root = new URL("../..", import.meta.url).pathname;

/** Run `deno run -A cli.ts <args>` in the repository root. */
export async function runCli(args: string[], stdin?: string): Promise<CliResult> {
  return await spawn(["run", "-A", `${root}cli.ts`, ...args], stdin);
}

/** Run `deno task <task> <args>` (the permission-scoped launcher) in the repository root. */
export async function runTask(task: string, args: string[], stdin?: string): Promise<CliResult> {
  return await spawn(["task", "-q", task, ...args], stdin);
}

async function spawn(args: string[], stdin?: string): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The DOTA samples in ../shared/data, read in place. */
export const DOTA = `${root}../shared/data/dota-samples`;

/**
 * Runs `fn` on a new temporary folder holding empty `images/` and `labels/`, then removes it;
 * `args` are the segment flags for them (`--images`, `--detections`, `--out <dir>/out`).
 */
export async function withFolders(
  fn: (dir: string, args: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-cli-" });
  try {
    await Deno.mkdir(`${dir}/images`);
    await Deno.mkdir(`${dir}/labels`);
    await fn(dir, [
      "--images",
      `${dir}/images`,
      "--detections",
      `${dir}/labels`,
      "--out",
      `${dir}/out`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * {@linkcode withFolders} with `images/<stem>.png` (copies of the 600 x 400 test PNG) and
 * `labels/<stem>.txt` (the text given) for each entry of `labels`; `extra` flags follow the
 * folder flags (e.g. `--backend wasm`).
 */
export function withRun(
  labels: Record<string, string>,
  extra: string[],
  fn: (dir: string, args: string[]) => Promise<void>,
): Promise<void> {
  return withFolders(async (dir, args) => {
    for (const [stem, text] of Object.entries(labels)) {
      await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/${stem}.png`);
      await Deno.writeTextFile(`${dir}/labels/${stem}.txt`, text);
    }
    await fn(dir, [...args, ...extra]);
  });
}

/** 200 car boxes of 20 x 12 px in a grid over a 600 x 400 image, as DOTA lines: seconds of work. */
export const GRID_200 = Array.from({ length: 200 }, (_, i) => {
  const x = 20 + (i % 20) * 28, y = 20 + Math.floor(i / 20) * 36;
  return `${x} ${y} ${x + 20} ${y} ${x + 20} ${y + 12} ${x} ${y + 12} car 0`;
}).join("\n") + "\n";
