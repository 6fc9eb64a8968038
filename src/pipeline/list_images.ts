/**
 * The images of an `--images` folder: the files sopseg reads, less the
 * overlays an earlier run wrote there; raster files it cannot read are named
 * rather than passed over in silence.
 *
 * @module
 */
import { fileStem } from "../formats/detection_files.ts";
import { baseName } from "./paths.ts";
import { listFiles } from "./results_input.ts";
import { OVERLAY_SUFFIX } from "./run_outputs.ts";

/** Image file extensions a folder scan picks up. */
export const IMAGE_EXTENSIONS = [".tif", ".tiff", ".png", ".jpg", ".jpeg"] as const;

/**
 * Raster files that GDAL reads and sopseg does not (VRT, JPEG 2000, WebP, ERDAS
 * Imagine, ...): a folder of images that holds them says so.
 */
const UNREAD_RASTER = /\.(vrt|jp2|j2k|jpx|webp|gif|bmp|img|ecw|sid|ntf|nitf|kea|hdf|h5|nc|hgt)$/i;

/** Options of {@linkcode listImages}. */
export interface ListImagesOptions {
  /** Receives a link to nothing (left out, or listed with `keepDangling`). Default: none. */
  onDangling?: (path: string) => void;
  /** List links to nothing as images (a volume mounted late: opening them fails). Default: false. */
  keepDangling?: boolean;
  /** Receives a link in a loop of links (left out). Default: none. */
  onLoop?: (path: string) => void;
  /** Receives a subfolder, or a link to one (not searched). Default: none. */
  onFolder?: (path: string) => void;
  /** Receives one note for the raster files not read and one for the overlays left out. */
  onWarning?: (message: string) => void;
}

/**
 * The image files of `dir` (GeoTIFF, PNG, JPEG by their extension), sorted.
 * Left out with one warning each: raster files sopseg does not read (`.vrt`,
 * `.jp2`, ...), and the overlays of an earlier run with `--overlay` into this
 * folder (`<stem>.overlay.png` beside an image `<stem>.<ext>` of the folder),
 * which a run must not take for images. A `.overlay.png` without its image is
 * kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listImages } from "./list_images.ts";
 *
 * const dir = await Deno.makeTempDir();
 * for (const name of ["a.tif", "a.overlay.png", "b.vrt"]) await Deno.writeTextFile(`${dir}/${name}`, "");
 * const notes: string[] = [];
 * assert.deepEqual(await listImages(dir, { onWarning: (m) => notes.push(m) }), [`${dir}/a.tif`]);
 * assert.equal(notes.length, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listImages(dir: string, options: ListImagesOptions = {}): Promise<string[]> {
  const unread: string[] = [];
  const files = await listFiles(
    dir,
    (name) => {
      if (IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) return true;
      if (UNREAD_RASTER.test(name)) unread.push(name);
      return false;
    },
    {
      onDangling: options.onDangling,
      keepDangling: options.keepDangling,
      onLoop: options.onLoop,
      onFolder: options.onFolder,
    },
  );
  const named = (names: string[]) =>
    `${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""}`;
  if (unread.length > 0) {
    unread.sort();
    options.onWarning?.(
      `${unread.length} raster file(s) in ${dir} not read (${named(unread)}): sopseg reads ` +
        `GeoTIFF, PNG and JPEG; convert them first (gdal_translate -of GTiff IN OUT.tif)`,
    );
  }
  const overlay = (path: string) => baseName(path).endsWith(OVERLAY_SUFFIX);
  // the image an overlay was made of: a.overlay.png of a.tif (a.overlay.overlay.png too, the
  // overlay of an overlay that a run before this check took for an image)
  const stems = new Set(files.filter((f) => !overlay(f)).map(fileStem));
  const overlays = files.filter((f) =>
    overlay(f) && stems.has(baseName(f).replace(/(\.overlay)+\.png$/, ""))
  );
  if (overlays.length > 0) {
    options.onWarning?.(
      `${overlays.length} file(s) in ${dir} left out as overlays of an earlier run ` +
        `(<stem>${OVERLAY_SUFFIX} beside its image: ${named(overlays.map(baseName))}); ` +
        `rename them to segment them`,
    );
  }
  const left = new Set(overlays);
  return files.filter((f) => !left.has(f));
}
