/**
 * The permission flags each subcommand runs with, computed from its
 * arguments: reads of the inputs and the model, writes of the output only
 * (`serve`: reads of its --read and --write folders, writes of --write;
 * `merge`: reads of the shard folders, reads and writes of --out).
 *
 * @module
 */
import { DEFAULT_MODEL_DIR } from "../model/default_model.ts";

/** Deno's cache folder, where onnxruntime-web's WASM files live. */
export function denoCacheDir(env: Readonly<Record<string, string>>): string {
  if (env.DENO_DIR) return env.DENO_DIR;
  if (Deno.build.os === "darwin") return `${env.HOME ?? ""}/Library/Caches/deno`;
  if (Deno.build.os === "windows") return `${env.LOCALAPPDATA ?? ""}\\deno`;
  return `${env.XDG_CACHE_HOME ?? `${env.HOME ?? ""}/.cache`}/deno`;
}

function resolveLink(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null; // not there (yet), or not allowed to look: the CLI reports it
  }
}

const SOURCE_DIR = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const IMAGE_FILE = /\.(tiff?|png|jpe?g)$/i;

function parentDir(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "." : cut === 0 ? "/" : path.slice(0, cut);
}

function flagValues(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}` && i + 1 < args.length) out.push(args[++i]!);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/**
 * `--allow-<what>=` for `paths`. Deno's flag separates paths by commas and has
 * no escape for one, so a path with a comma is granted through its deepest
 * folder without one (wider than asked; the server's own --read/--write check
 * still holds requests to the folders given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowFlag } from "./permissions.ts";
 *
 * assert.equal(allowFlag("read", ["/d/a,b/x.png", "/m"]), "--allow-read=/d,/m");
 * ```
 */
export function allowFlag(what: "read" | "write", paths: readonly string[]): string {
  const grantable = (path: string) => {
    const comma = path.indexOf(",");
    return comma < 0 ? path : parentDir(path.slice(0, comma));
  };
  return `--allow-${what}=${[...new Set(paths.map(grantable))].join(",")}`;
}

/** `merge --out DIR SHARD...`: reads of the shard folders and --out, writes of --out. */
function mergePermissions(args: readonly string[]): string[] {
  const reads: string[] = [];
  const writes = flagValues(args, "out");
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--out") i++;
    else if (!a.startsWith("-")) reads.push(a);
  }
  reads.push(...writes);
  for (const path of [...reads]) {
    const real = resolveLink(path);
    if (real !== null && real !== path) reads.push(real);
  }
  const flags = reads.length ? [allowFlag("read", reads)] : [];
  if (writes.length) flags.push(allowFlag("write", writes));
  return flags;
}

/**
 * Permission flags for `command` run with `args`. Unknown flags are left to
 * the CLI, which reports them; a value of `-` (stdin/stdout) needs no file
 * permission.
 *
 * @example
 * ```ts
 * import { scopedPermissions } from "./permissions.ts";
 * const flags = scopedPermissions("segment", ["--images", "a.tif", "--detections", "-", "--out", "o"], { HOME: "/h" });
 * if (!flags.includes("--allow-write=o")) throw new Error(flags.join(" "));
 * if (flags.some((f) => f.startsWith("--allow-net"))) throw new Error("network granted");
 * ```
 */
export function scopedPermissions(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): string[] {
  if (command === "merge") return mergePermissions(args);
  const cache = `${denoCacheDir(env)}/npm`;
  // Model sessions in workers (--sessions): Deno reads a worker's modules as
  // files, so the program's own src/ (code only) is readable.
  const reads = [cache, SOURCE_DIR];
  const writes: string[] = [];
  const model = flagValues(args, "model");
  reads.push(...(model.length ? model : [DEFAULT_MODEL_DIR]));
  // An image file may have sidecars (world file, .aux.xml): grant its folder.
  for (const v of flagValues(args, "images")) reads.push(IMAGE_FILE.test(v) ? parentDir(v) : v);
  for (const name of ["detections", "gt"]) {
    reads.push(...flagValues(args, name).filter((v) => v !== "-"));
  }
  for (const v of flagValues(args, "out")) {
    if (v !== "-") {
      writes.push(v);
      reads.push(v);
    }
  }
  // Report files are written atomically (a temporary file beside them, then a
  // rename), which needs the folder that holds them.
  for (const v of ["out-json", "out-md", "out-coco"].flatMap((n) => flagValues(args, n))) {
    writes.push(parentDir(v));
    reads.push(parentDir(v));
  }
  // serve: requests may read the --read and --write folders and write the --write ones.
  if (command === "serve") {
    reads.push(...flagValues(args, "read"));
    for (const v of flagValues(args, "write")) {
      writes.push(v);
      reads.push(v);
    }
  }
  // Deno checks permissions on resolved paths: grant the target of a symlinked input too.
  for (const path of [...reads]) {
    const real = resolveLink(path);
    if (real !== null && real !== path) reads.push(real);
  }
  const flags = [allowFlag("read", reads)];
  if (writes.length) flags.push(allowFlag("write", writes));
  return flags;
}
