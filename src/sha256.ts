/**
 * SHA-256 in hex, the one digest the project writes (run records, model files).
 *
 * @module
 */

/**
 * The SHA-256 of `data` (a string as UTF-8) in hex: all 32 bytes, or the first `bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./sha256.ts";
 * assert.equal((await sha256Hex("abc")).slice(0, 8), "ba7816bf");
 * assert.equal((await sha256Hex("abc", 4)), "ba7816bf");
 * ```
 */
export async function sha256Hex(data: string | Uint8Array, bytes = 32): Promise<string> {
  const buffer = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const hash = await crypto.subtle.digest("SHA-256", buffer as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(hash).subarray(0, bytes), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
