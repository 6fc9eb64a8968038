/**
 * Splits a byte stream into `\n`-terminated lines without ever holding more
 * than a bounded number of bytes: a line longer than the limit is skipped
 * through its end and reported by its length instead.
 *
 * @module
 */

/** One line of input, or a line that was too long to keep. */
export type LineChunk =
  | { kind: "line"; bytes: Uint8Array; number: number }
  | { kind: "too-long"; bytes: number; number: number };

/** Options of {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** Longest line kept, in bytes, without its `\n` (and a `\r` before it). Default: 16 MiB. */
  maxLineBytes?: number;
}

/** Default of {@linkcode ReadLinesOptions.maxLineBytes}: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Yields the lines of `stream` in order (1-based `number`), `\n` and a
 * trailing `\r` removed; empty lines are yielded too. A last line without
 * `\n` is yielded at the end of the stream. Lines over `maxLineBytes` come
 * as `too-long` with their length; their bytes are dropped as they arrive.
 *
 * @example
 * ```ts
 * import { readLines } from "./line_reader.ts";
 * const stream = ReadableStream.from([new TextEncoder().encode('{"a":1}\nxxxxxxxx\n{"b"'), new TextEncoder().encode(":2}")]);
 * const kinds: string[] = [];
 * for await (const l of readLines(stream, { maxLineBytes: 7 })) {
 *   kinds.push(l.kind === "line" ? new TextDecoder().decode(l.bytes) : `too-long ${l.bytes}`);
 * }
 * if (kinds.join("|") !== '{"a":1}|too-long 8|{"b":2}') throw new Error(kinds.join("|"));
 * ```
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  options: ReadLinesOptions = {},
): AsyncGenerator<LineChunk> {
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Uint8Array[] = [];
  let length = 0; // bytes of the current line seen so far (kept or dropped)
  let dropping = false;
  let number = 0;
  const finish = (): LineChunk => {
    number++;
    if (dropping) return { kind: "too-long", bytes: length, number };
    let bytes = concat(parts, length);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    return { kind: "line", bytes, number };
  };
  const take = (piece: Uint8Array) => {
    length += piece.length;
    if (dropping) return;
    // A line of exactly `limit` bytes plus "\r" is still fine.
    if (length > limit + 1) {
      dropping = true;
      parts = [];
      return;
    }
    if (piece.length) parts.push(piece.slice());
  };
  for await (const chunk of stream) {
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) {
        take(chunk.subarray(start));
        break;
      }
      take(chunk.subarray(start, nl));
      const line = finish();
      if (line.kind === "line" && line.bytes.length > limit) {
        yield { kind: "too-long", bytes: line.bytes.length, number: line.number };
      } else {
        yield line;
      }
      parts = [];
      length = 0;
      dropping = false;
      start = nl + 1;
    }
  }
  if (length > 0 || dropping) {
    const line = finish();
    yield line.kind === "line" && line.bytes.length > limit
      ? { kind: "too-long", bytes: line.bytes.length, number: line.number }
      : line;
  }
}
