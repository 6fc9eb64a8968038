/**
 * Writes a file atomically: readers see the old file or the complete new one,
 * never a partial one.
 *
 * @module
 */

/** What {@linkcode writeFileAtomic} writes: text, bytes, or pieces of either. */
export type AtomicWriteData =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** Options for {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** Flush the data to disk before the rename (`fsync`). Default: `true`. */
  sync?: boolean;
  /** Permission bits of a new file (ignored on Windows). Default: `0o666` minus the umask. */
  mode?: number;
}

function splitPath(path: string): { dir: string; base: string } {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut < 0
    ? { dir: "", base: path }
    : { dir: path.slice(0, cut + 1), base: path.slice(cut + 1) };
}

/**
 * Writes `data` to a temporary file in the same directory as `path` (so both
 * are on one file system), then renames it over `path`. If anything fails,
 * including an error thrown by an iterable `data`, the temporary file is
 * removed, `path` is left as it was, and the error is thrown again wrapped
 * as "Cannot write <path>: <why>" (the original is its `cause`).
 *
 * Text is written as UTF-8. Iterables are written piece by piece, so a large
 * output (e.g. {@linkcode CocoWriter.chunks}) never has to be one string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileAtomic } from "./atomic_write.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/out.json`, '{"ok":true}\n');
 * assert.equal(await Deno.readTextFile(`${dir}/out.json`), '{"ok":true}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param path The file to write.
 * @param data The content.
 * @param options Fsync and permissions.
 */
export async function writeFileAtomic(
  path: string,
  data: AtomicWriteData,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { sync = true, mode } = options;
  const { dir, base } = splitPath(path);
  if (base === "") {
    throw new TypeError(`Cannot write "${path}": the path names a directory`);
  }
  const suffix = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = `${dir}.${base}.${suffix}.tmp`;
  let file: Deno.FsFile | null = null;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode });
    const encoder = new TextEncoder();
    const writeAll = async (chunk: string | Uint8Array) => {
      let bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      while (bytes.length > 0) {
        const n = await file!.write(bytes);
        bytes = bytes.subarray(n);
      }
    };
    if (typeof data === "string" || data instanceof Uint8Array) {
      await writeAll(data);
    } else {
      for await (const chunk of data) await writeAll(chunk);
    }
    if (sync) await file.sync();
    file.close();
    file = null;
    await Deno.rename(temp, path);
  } catch (error) {
    try {
      file?.close();
    } catch {
      // already closed
    }
    try {
      await Deno.remove(temp);
    } catch {
      // never created, or already gone
    }
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot write "${path}": ${why}`, { cause: error });
  }
}
