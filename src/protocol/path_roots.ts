/**
 * The folders a server may read and write, checked before any file is
 * touched: a request naming a path outside them is refused with a message
 * that names the flag that would allow it (Deno's permissions would refuse
 * it too, but only with "NotCapable" and after the fact).
 *
 * @module
 */
import { isAbsolute, resolve, sep } from "node:path";
import { ERROR_CODES, RpcError } from "./errors.ts";

function inside(root: string, path: string): boolean {
  if (path === root) return true;
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function parentDir(path: string): string {
  const cut = path.lastIndexOf(sep);
  return cut <= 0 ? sep : path.slice(0, cut);
}

/**
 * `path` with every symbolic link resolved: the real path of its deepest
 * existing ancestor (itself when it exists), the rest appended. `path` as it
 * is when nothing of it can be looked at.
 */
function realPathOfNearest(path: string): string {
  let head = path, tail = "";
  for (;;) {
    try {
      const real = Deno.realPathSync(head);
      return tail === "" ? real : (real.endsWith(sep) ? real : real + sep) + tail;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || head === sep) return path;
    }
    const cut = head.lastIndexOf(sep);
    tail = tail === "" ? head.slice(cut + 1) : `${head.slice(cut + 1)}${sep}${tail}`;
    head = cut <= 0 ? sep : head.slice(0, cut);
  }
}

/**
 * Read and write roots, as absolute paths (and the targets of symlinked
 * roots). Write roots are readable too.
 *
 * @example
 * ```ts
 * import { PathRoots } from "./path_roots.ts";
 * const roots = new PathRoots({ read: ["/data"], write: ["/tmp/out"] });
 * if (roots.checkRead("/data/a/../b.png", "image") !== "/data/b.png") throw new Error();
 * try {
 *   roots.checkWrite("/data/x.geojson", "out");
 *   throw new Error("allowed");
 * } catch (e) {
 *   if (!(e as Error).message.includes("--write")) throw e;
 * }
 * ```
 */
export class PathRoots {
  /** Folders readable by requests. */
  readonly read: readonly string[];
  /** Folders writable by requests. */
  readonly write: readonly string[];
  readonly #cwd: string;

  /**
   * @param roots The `--read` and `--write` folders, absolute or relative to `cwd`.
   * @param cwd The folder relative paths start from. Default: `Deno.cwd()`.
   */
  constructor(roots: { read: readonly string[]; write: readonly string[] }, cwd = Deno.cwd()) {
    this.#cwd = cwd;
    const expand = (list: readonly string[]) => {
      const out: string[] = [];
      for (const r of list) {
        const abs = resolve(cwd, r);
        out.push(abs);
        try {
          const real = Deno.realPathSync(abs);
          if (real !== abs) out.push(real);
        } catch {
          // not there (yet) or not allowed to look: the lexical root stands
        }
      }
      return [...new Set(out)];
    };
    this.read = expand(roots.read);
    this.write = expand(roots.write);
  }

  /** `path` made absolute (relative to the server's folder) and normalised. */
  absolute(path: string): string {
    return isAbsolute(path) ? resolve(path) : resolve(this.#cwd, path);
  }

  /**
   * The absolute path, if it lies in a read or write root; else a -32004
   * error naming `--read` and the folder that would allow it.
   */
  checkRead(path: string, field: string): string {
    const abs = this.absolute(path);
    if ([...this.read, ...this.write].some((r) => inside(r, abs))) return abs;
    throw this.#refuse(abs, field, "--read", "read");
  }

  /**
   * The absolute path, if it lies in a write root, through any symbolic link
   * on the way too (a link in a write root must not lead a request's output
   * elsewhere; Deno's `--allow-write` checks the path as given); else a
   * -32004 error naming `--write`, or the link.
   */
  checkWrite(path: string, field: string): string {
    const abs = this.absolute(path);
    if (!this.write.some((r) => inside(r, abs))) throw this.#refuse(abs, field, "--write", "write");
    const real = realPathOfNearest(abs);
    if (real === abs || this.write.some((r) => inside(r, real))) return abs;
    return this.#refuseLink(abs, real, field);
  }

  #refuseLink(abs: string, real: string, field: string): never {
    throw new RpcError(
      ERROR_CODES.pathNotAllowed,
      `Cannot write ${abs} (${field}): a symbolic link on the way leads to ${real}, outside the folders the server may write (${
        this.write.join(", ")
      })`,
      { kind: "path-not-allowed", path: abs, field, flag: "--write", roots: this.write },
    );
  }

  #refuse(abs: string, field: string, flag: "--read" | "--write", verb: string): RpcError {
    const roots = flag === "--read" ? [...this.read, ...this.write] : this.write;
    const dir = parentDir(abs);
    const have = roots.length
      ? `(it may ${verb}: ${roots.join(", ")})`
      : `(it has no ${flag} folder)`;
    return new RpcError(
      ERROR_CODES.pathNotAllowed,
      `Cannot ${verb} ${abs} (${field}): outside the folders the server may ${verb} ${have}; start the server with ${flag} ${dir} or a folder above it`,
      { kind: "path-not-allowed", path: abs, field, flag, roots },
    );
  }
}
