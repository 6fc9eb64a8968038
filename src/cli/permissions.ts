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

/**
 * What a path flag's value is to the permissions: `read` (a file or folder
 * read), `image` (an image file, whose folder is granted for its sidecars, or
 * a folder), `model` (read; the shipped model when absent), `output` (a folder
 * read and written), `report` (a file written atomically, so its folder is
 * read and written).
 */
type PathRole = "read" | "image" | "model" | "output" | "report";

/**
 * Every flag whose value is a path, by command, with its role: the one table
 * both the grants (`scopedPermissions`) and the launcher's path resolution
 * (`fromUserDir`) read. merge's shard folders are its positionals (read).
 */
const PATH_FLAGS: Record<string, Readonly<Record<string, PathRole>>> = {
  segment: { model: "model", images: "image", detections: "read", out: "output" },
  eval: {
    model: "model",
    images: "image",
    detections: "read",
    gt: "read",
    "out-json": "report",
    "out-md": "report",
    "out-coco": "report",
  },
  serve: { model: "model", read: "read", write: "output" },
  merge: { out: "output" },
};

/** merge's shard folders: its arguments that are neither flags nor a flag's value. */
function positionals(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--out") i++;
    else if (!a.startsWith("-")) out.push(a);
  }
  return out;
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
  const table = PATH_FLAGS[command] ?? {};
  // merge reads and writes files only; the others run the model: onnxruntime-web's
  // WASM files in Deno's cache, and (--sessions: Deno reads a worker's modules as
  // files) the program's own src/ (code only).
  const reads = command === "merge" ? positionals(args) : [`${denoCacheDir(env)}/npm`, SOURCE_DIR];
  const writes: string[] = [];
  for (const [name, role] of Object.entries(table)) {
    const values = flagValues(args, name).filter((v) => v !== "-");
    for (const v of values) {
      if (role === "image") {
        reads.push(IMAGE_FILE.test(v) ? parentDir(v) : v); // sidecars: world file, .aux.xml
      } else if (role === "report") {
        // written atomically (a temporary file beside it, then a rename): its folder
        writes.push(parentDir(v));
        reads.push(parentDir(v));
      } else if (role === "output") {
        writes.push(v);
        reads.push(v);
      } else reads.push(v);
    }
    if (role === "model" && values.length === 0) reads.push(DEFAULT_MODEL_DIR);
  }
  // Deno checks permissions on resolved paths: grant the target of a symlinked input too.
  for (const path of [...reads]) {
    const real = resolveLink(path);
    if (real !== null && real !== path) reads.push(real);
  }
  // The server's own check holds its writes to the --write folders given; a CLI's output
  // folder is never widened. Written first: an --out refused for its comma is not also said
  // to be granted through its parent folder for reads.
  const write = writes.length
    ? allowFlag("write", writes, { widen: command === "serve", onWiden })
    : null;
  const flags = reads.length ? [allowFlag("read", reads, { onWiden })] : [];
  if (write !== null) flags.push(write);
  return flags;
}

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
  const flags = PATH_FLAGS[command];
  if (userDir === taskDir || flags === undefined) return [...args];
  const abs = (p: string) =>
    p === "-" || p === "" || p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p)
      ? p
      : `${userDir.replace(/\/+$/, "")}/${p.replace(/^\.\//, "")}`;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : null;
    if (name !== null && Object.hasOwn(flags, name)) {
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
