/**
 * Raster input: open GeoTIFF (windowed), PNG and JPEG images and read pixel
 * windows as 8-bit RGB with band selection, percentile stretch for
 * non-8-bit data, nodata masks and georeferencing.
 *
 * ```ts
 * import { openRaster } from "./mod.ts";
 * import { encode } from "fast-png";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await Deno.writeFile(path, encode({ width: 1, height: 1, channels: 1, data: new Uint8Array([5]) }));
 * const src = await openRaster(path);
 * console.log(Array.from((await src.readWindow([0, 0, 1, 1])).data)); // [ 5, 5, 5 ]
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

export * from "./source.ts";
export * from "./open_raster.ts";
export * from "./geotiff_source.ts";
export * from "./png_source.ts";
export * from "./jpeg_source.ts";
export * from "./decoded_source.ts";
export * from "./byte_source.ts";
export * from "./block_cache.ts";
export * from "./check_window.ts";
export * from "./geotiff_georef.ts";
export * from "./percentile_sampler.ts";
export * from "./rgb_converter.ts";
export * from "./select_bands.ts";
export * from "./world_file.ts";
export * from "./pam_dataset.ts";
