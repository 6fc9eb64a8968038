/**
 * A least-recently-used cache of decoded raster blocks, bounded in bytes.
 *
 * @module
 */

/**
 * LRU cache of values loaded asynchronously, bounded by the sum of their
 * declared byte sizes. Concurrent requests for the same key share one load;
 * a failed load is not cached.
 *
 * @example Usage
 * ```ts
 * import { BlockCache } from "./block_cache.ts";
 * const cache = new BlockCache<Uint8Array>(1024);
 * let loads = 0;
 * const load = () => { loads++; return Promise.resolve(new Uint8Array(600)); };
 * await cache.get(1, 600, load);
 * await cache.get(1, 600, load);
 * await cache.get(2, 600, load); // evicts key 1
 * console.log(loads, cache.size, cache.bytes); // 2 1 600
 * ```
 */
export class BlockCache<T> {
  #maxBytes: number;
  #entries = new Map<number, { value: Promise<T>; bytes: number }>();
  #bytes = 0;

  /**
   * @param maxBytes Budget in bytes; a single value larger than the budget is
   * still returned but not kept.
   */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Number of cached values. */
  get size(): number {
    return this.#entries.size;
  }

  /** Sum of the declared sizes of the cached values. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Returns the value of `key`, loading it with `load` on a miss.
   *
   * @param key The key.
   * @param bytes The value's size in bytes (known before loading).
   * @param load Loads the value.
   * @returns The value.
   */
  get(key: number, bytes: number, load: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.value;
    }
    const value = load();
    if (bytes > this.#maxBytes) return value;
    const entry = { value, bytes };
    this.#entries.set(key, entry);
    this.#bytes += bytes;
    value.catch(() => {
      if (this.#entries.get(key) === entry) {
        this.#entries.delete(key);
        this.#bytes -= bytes;
      }
    });
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.bytes;
    }
    return value;
  }

  /**
   * Drops every value.
   *
   * @example Usage
   * ```ts
   * import { BlockCache } from "./block_cache.ts";
   * const cache = new BlockCache<number>(10);
   * await cache.get(1, 1, () => Promise.resolve(1));
   * cache.clear();
   * console.log(cache.size); // 0
   * ```
   */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
