/**
 * Keeps the last few opened images open between requests, so that a client
 * clicking box after box on one raster does not pay for opening (or, for a
 * PNG or JPEG, decoding) it each time. An entry is reused only while the
 * file's size and modification time are unchanged, and those of the files
 * beside it that georeference it (world file, `.aux.xml`, `.prj`).
 *
 * @module
 */
import type { RasterSource } from "../raster/source.ts";
import { georefSidecarNames } from "../raster/world_file.ts";

/** Options of {@linkcode RasterCache}. */
export interface RasterCacheOptions {
  /** Opened images kept. Default: 2. */
  capacity?: number;
}

interface Entry {
  source: RasterSource;
  stamp: string;
}

/**
 * An LRU of opened rasters keyed by path and band selection.
 *
 * @example
 * ```ts
 * import { RasterCache } from "./raster_cache.ts";
 * import { openRaster } from "../raster/open_raster.ts";
 * import { encode } from "fast-png";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await Deno.writeFile(path, encode({ width: 1, height: 1, channels: 3, data: new Uint8Array(3) }));
 * const cache = new RasterCache();
 * const a = await cache.open(path, undefined, (p) => openRaster(p));
 * const b = await cache.open(path, undefined, (p) => openRaster(p));
 * if (a !== b) throw new Error("not reused");
 * await cache.close();
 * await Deno.remove(path);
 * ```
 */
export class RasterCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: RasterCacheOptions = {}) {
    this.#capacity = Math.max(1, options.capacity ?? 2);
  }

  /**
   * The open source for `path` with `bands`, opened with `open` when not
   * cached or changed on disk. The cache owns it: do not close it.
   */
  async open(
    path: string,
    bands: readonly number[] | undefined,
    open: (path: string) => Promise<RasterSource>,
  ): Promise<RasterSource> {
    const key = `${bands?.join(",") ?? ""}|${path}`;
    let stamp = "";
    try {
      const info = await Deno.stat(path);
      stamp = `${info.size}|${info.mtime?.getTime() ?? ""}`;
      // a world file, .aux.xml or .prj added, changed or removed changes the georeference
      for (const sidecar of georefSidecarNames(path)) {
        const s = await Deno.stat(sidecar).catch(() => null);
        stamp += s === null ? "|-" : `|${s.size}|${s.mtime?.getTime() ?? ""}`;
      }
    } catch {
      // let `open` report the problem
    }
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      if (hit.stamp === stamp && stamp !== "") {
        this.#entries.set(key, hit); // most recent last
        return hit.source;
      }
      await hit.source.close();
    }
    const source = await open(path);
    this.#entries.set(key, { source, stamp });
    while (this.#entries.size > this.#capacity) {
      const [oldKey, old] = this.#entries.entries().next().value!;
      this.#entries.delete(oldKey);
      await old.source.close();
    }
    return source;
  }

  /** Closes every cached source. */
  async close(): Promise<void> {
    for (const e of this.#entries.values()) await e.source.close();
    this.#entries.clear();
  }
}
