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

/**
 * The values `args` gives the flag `--name` (as `--name V` or `--name=V`), in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagValues } from "./permissions.ts";
 *
 * assert.deepEqual(flagValues(["--out", "a", "--out=b", "--outx", "c"], "out"), ["a", "b"]);
 * ```
 */
export function flagValues(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}` && i + 1 < args.length) out.push(args[++i]!);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/**
 * A path Deno's permission flags cannot express (a comma) where widening the
 * grant is not acceptable: the launcher reports it as a usage error (exit 2).
 */
export class PermissionPathError extends Error {
  override name = "PermissionPathError";
}

/**
 * `--allow-<what>=` for `paths`. Deno's flag separates paths by commas and has
 * no escape for one, so a path with a comma is granted through its deepest
 * folder without one (wider than asked; `onWiden` is told) where `widen`
 * allows it (reads; the server's --write folders, which its own check holds to
 * the folders given), and refused otherwise (a CLI's --out), and always when
 * that folder is the file system's root or the working folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowFlag } from "./permissions.ts";
 *
 * assert.equal(allowFlag("read", ["/d/a,b/x.png", "/m"]), "--allow-read=/d,/m");
 * assert.throws(() => allowFlag("write", ["/d/a,b"], { widen: false }), /comma/);
 * assert.throws(() => allowFlag("read", ["/a,b/x.png"]), /whole file system/);
 * ```
 */
export function allowFlag(
  what: "read" | "write",
  paths: readonly string[],
  options: { widen?: boolean; onWiden?: (path: string, grant: string) => void } = {},
): string {
  const grantable = (path: string) => {
    const comma = path.indexOf(",");
    if (comma < 0) return path;
    const how = `Deno's --allow-${what} cannot express a path with a comma`;
    if (options.widen === false) {
      throw new PermissionPathError(`${path}: ${how}; use a folder without one`);
    }
    const grant = parentDir(path.slice(0, comma));
    if (grant === "/" || grant === "." || /^[A-Za-z]:[\\/]?$/.test(grant)) {
      throw new PermissionPathError(
        `${path}: ${how}, and the folder above the comma is ${
          grant === "." ? "the working folder" : "the whole file system"
        }; rename it or move it into a folder without one`,
      );
    }
    options.onWiden?.(path, grant);
    return grant;
  };
  return `--allow-${what}=${[...new Set(paths.map(grantable))].join(",")}`;
}

/** `merge --out DIR SHARD...`: reads of the shard folders and --out, writes of --out. */
function mergePermissions(
  args: readonly string[],
  onWiden?: (path: string, grant: string) => void,
): string[] {
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
  const flags = reads.length ? [allowFlag("read", reads, { onWiden })] : [];
  if (writes.length) flags.push(allowFlag("write", writes, { widen: false }));
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
  onWiden?: (path: string, grant: string) => void,
): string[] {
  if (command === "merge") return mergePermissions(args, onWiden);
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
  const flags = [allowFlag("read", reads, { onWiden })];
  if (writes.length) {
    flags.push(allowFlag("write", writes, { widen: command === "serve", onWiden }));
  }
  return flags;
}

/** The flags whose values are paths, by command (merge's shard folders are its positionals). */
const PATH_FLAGS: Record<string, readonly string[]> = {
  segment: ["images", "detections", "out", "model"],
  eval: ["gt", "images", "model", "detections", "out-json", "out-md", "out-coco"],
  serve: ["read", "write", "model"],
  merge: ["out"],
};

/**
 * `args` with relative paths made absolute from `userDir`, the folder `deno task` was started
 * from (its `INIT_CWD`): `deno task` runs the launcher in deno.json's folder, where
 * `--images imgs/` would name the checkout's `imgs/`, not the user's. `-` (stdin, stdout) and
 * absolute paths are kept; so is everything when `userDir` is `taskDir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromUserDir } from "./permissions.ts";
 *
 * const args = ["--images", "imgs", "--detections", "-", "--out=/o", "--batch", "4"];
 * assert.deepEqual(fromUserDir("segment", args, "/home/u/data", "/opt/sopseg"), [
 *   "--images", "/home/u/data/imgs", "--detections", "-", "--out=/o", "--batch", "4",
 * ]);
 * assert.deepEqual(fromUserDir("merge", ["s0", "--out", "m"], "/w", "/opt"), ["/w/s0", "--out", "/w/m"]);
 * assert.deepEqual(fromUserDir("segment", args, "/opt/sopseg", "/opt/sopseg"), args);
 * ```
 */
export function fromUserDir(
  command: string,
  args: readonly string[],
  userDir: string,
  taskDir: string,
): string[] {
  const flags = PATH_FLAGS[command] ?? [];
  if (userDir === taskDir || flags.length === 0) return [...args];
  const abs = (p: string) =>
    p === "-" || p === "" || p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p)
      ? p
      : `${userDir.replace(/\/+$/, "")}/${p.replace(/^\.\//, "")}`;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : null;
    if (name !== null && flags.includes(name)) {
      if (a.includes("=")) out.push(`--${name}=${abs(a.slice(name.length + 3))}`);
      else {
        out.push(a);
        if (i + 1 < args.length) out.push(abs(args[++i]!));
      }
    } else if (command === "merge" && !a.startsWith("-")) {
      out.push(abs(a)); // a shard folder
    } else out.push(a);
  }
  return out;
}
