// Test helpers: the generated rasters (made on demand by make_rasters.sh) and
// GDAL's decoding of them.
import type { ByteSource } from "../../src/raster/byte_source.ts";

const here = new URL(".", import.meta.url).pathname;
export const GENERATED = `${here}../testdata/generated/`;
const SCRIPT = `${here}../testdata/make_rasters.sh`;

let made: Promise<void> | null = null;

/** Runs make_rasters.sh once per process (it is a no-op when up to date). */
export function ensureRasters(): Promise<void> {
  made ??= (async () => {
    const out = await new Deno.Command("bash", { args: [SCRIPT], stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(`make_rasters.sh failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  })();
  return made;
}

/** Path of a generated fixture, after making sure it exists. */
export async function fixture(name: string): Promise<string> {
  await ensureRasters();
  return GENERATED + name;
}

type Ctor =
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Float32ArrayConstructor;

/** GDAL's decoding (band-sequential raw) of a fixture: one array per band. */
export async function gdalBands<C extends Ctor>(
  file: string,
  ctor: C,
  width: number,
  height: number,
): Promise<InstanceType<C>[]> {
  const bytes = await Deno.readFile(file);
  const all = new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / ctor.BYTES_PER_ELEMENT);
  const n = width * height;
  const bands = all.length / n;
  const out: InstanceType<C>[] = [];
  for (let b = 0; b < bands; b++) out.push(all.subarray(b * n, (b + 1) * n) as InstanceType<C>);
  return out;
}

/** Numpy's `percentile(..., method="inverted_cdf")` of the finite values other than nodata. */
export function percentile(
  values: ArrayLike<number>,
  p: number,
  nodata: number | null = null,
): number {
  const kept = Array.from(values).filter((v) => Number.isFinite(v) && v !== nodata).sort((a, b) =>
    a - b
  );
  const rank = Math.max(1, Math.ceil((p / 100) * kept.length - 1e-9));
  return kept[rank - 1]!;
}

/** Expected 8-bit value of the linear stretch. */
export function stretched(v: number, low: number, high: number): number {
  const x = ((v - low) * 255) / (high > low ? high - low : 1);
  return x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
}

/** `gdalinfo -json` of a fixture. */
export async function gdalinfo(name: string): Promise<{
  geoTransform?: number[];
  coordinateSystem?: { wkt: string };
  size: [number, number];
}> {
  return JSON.parse(await Deno.readTextFile(`${GENERATED}${name}.gdalinfo.json`));
}

/** A byte source wrapper that counts what is read. */
export function countingSource(
  inner: ByteSource,
): ByteSource & { bytesRead: number; reads: number } {
  const counter = {
    bytesRead: 0,
    reads: 0,
    get size() {
      return inner.size;
    },
    read(offset: number, length: number) {
      counter.bytesRead += length;
      counter.reads++;
      return inner.read(offset, length);
    },
    close: () => inner.close(),
  };
  return counter;
}

/** Runs a GDAL tool and returns stdout; throws on failure. */
export async function gdal(cmd: string, args: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
