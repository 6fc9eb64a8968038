/**
 * Random access to the bytes of a file, read at an offset: the only I/O a
 * GeoTIFF reader needs, so that a window read touches only the bytes of the
 * tiles or strips it covers.
 *
 * @module
 */

/**
 * Random-access bytes: a local file, memory, or (later) an HTTP range client.
 *
 * @example Usage
 * ```ts
 * import { memoryByteSource } from "./byte_source.ts";
 * const src = memoryByteSource(new Uint8Array([1, 2, 3, 4]));
 * console.log(await src.read(1, 2)); // Uint8Array(2) [ 2, 3 ]
 * ```
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset`. Bytes past the end of the source read
   * as zeros, so the result always has `length` bytes.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the source. */
  close(): Promise<void>;
}

/**
 * Wraps bytes in memory as a {@linkcode ByteSource}.
 *
 * @example Usage
 * ```ts
 * import { memoryByteSource } from "./byte_source.ts";
 * const src = memoryByteSource(new Uint8Array([9, 8]));
 * console.log(src.size, await src.read(1, 3)); // 2 Uint8Array(3) [ 8, 0, 0 ]
 * ```
 *
 * @param bytes The bytes (not copied).
 * @returns A byte source over `bytes`.
 */
export function memoryByteSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset: number, length: number): Promise<Uint8Array> {
      const out = new Uint8Array(length);
      if (offset < bytes.length) {
        out.set(bytes.subarray(offset, Math.min(bytes.length, offset + length)));
      }
      return Promise.resolve(out);
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Opens a local file as a {@linkcode ByteSource}. Reads are positioned
 * (`seek` + `read` on one `Deno.FsFile`), serialised so concurrent reads
 * cannot interleave, and read exactly the requested byte ranges.
 *
 * @example Usage
 * ```ts
 * import { openFileByteSource } from "./byte_source.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
 * const src = await openFileByteSource(path);
 * console.log(src.size, await src.read(2, 1)); // 3 Uint8Array(1) [ 3 ]
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path Path of the file.
 * @returns The opened source; close it when done.
 */
export async function openFileByteSource(path: string): Promise<ByteSource> {
  const file = await Deno.open(path, { read: true });
  let size: number;
  try {
    // Deno.stat on the path, not file.stat(): Deno checks an open file's stat
    // against the symlink's target, which a scoped run may not be granted.
    const info = await Deno.stat(path);
    if (!info.isFile) throw new TypeError(`Cannot open ${path}: not a regular file`);
    size = info.size;
  } catch (error) {
    file.close();
    throw error;
  }
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  async function readAt(offset: number, length: number): Promise<Uint8Array> {
    if (closed) throw new TypeError(`Cannot read ${path}: the file is closed`);
    const out = new Uint8Array(length);
    const end = Math.min(length, Math.max(0, size - offset));
    if (end === 0) return out;
    await file.seek(offset, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < end) {
      const n = await file.read(out.subarray(filled, end));
      if (n === null) break;
      filled += n;
    }
    return out;
  }

  return {
    size,
    read(offset: number, length: number): Promise<Uint8Array> {
      const next = queue.then(() => readAt(offset, length));
      queue = next.catch(() => {});
      return next;
    },
    async close(): Promise<void> {
      if (closed) return;
      await queue;
      closed = true;
      file.close();
    },
  };
}
