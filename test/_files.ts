// Test helpers shared across folders: temporary folders, box files, GDAL's transform.
import assert from "node:assert/strict";

/** Runs `fn` on a new temporary folder (name starting with `prefix`), then removes it. */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A GeoJSON detection file (pixel coordinates) of one axis-aligned "car" box, as text. */
export function carBoxGeoJson(x0: number, y0: number, x1: number, y1: number): string {
  return JSON.stringify({
    type: "FeatureCollection",
    features: [{
      type: "Feature",
      properties: { class: "car" },
      geometry: {
        type: "Polygon",
        coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
      },
    }],
  });
}

/** gdaltransform of many points (one "x y" line each), parsed; `args` before the points. */
export async function gdaltransform(args: string[], points: number[][]): Promise<number[][]> {
  const child = new Deno.Command("gdaltransform", {
    args: ["-output_xy", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(points.map((p) => `${p[0]} ${p[1]}\n`).join("")));
  await w.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
    l.trim().split(/\s+/).map(Number)
  );
}
