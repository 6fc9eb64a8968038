/**
 * `deno task qgis:package`: builds `dist/sopseg_qgis-<version>.zip` for QGIS's "Install from
 * ZIP". It holds the plugin (`sopseg_qgis/`) and, inside it, what the plugin needs besides Deno:
 * the sopseg sources and the shipped model (`sopseg_qgis/sopseg/`), where the plugin looks first
 * when no folder is configured. Deno fetches the npm packages (onnxruntime-web, geotiff, ...) at
 * the first run, pinned by the bundled `deno.lock`.
 *
 *     deno task qgis:package
 *
 * The task reads only the files it packs and writes only `dist/`.
 *
 * @module
 */
import { zipSync } from "fflate";

/** What goes under `sopseg_qgis/sopseg/`: the tool's sources and the model, relative to the root. */
export const TOOL_PATHS = [
  "deno.json",
  "deno.lock",
  "launch.ts",
  "cli.ts",
  "mod.ts",
  "serve.ts",
  "src",
  "models/sopseg-lite",
  "docs/PROTOCOL.md",
  "docs/protocol.schema.json",
  "docs/CONTRACT.md",
  "README.md",
  "LICENSE",
];

const SKIP = /(^|\/)(__pycache__|config\.json|.*\.pyc)$|^models\/sopseg-lite\/eval$/;

// A fixed timestamp: the same sources give the same zip.
const MTIME = new Date("2026-01-01T00:00:00Z");

async function collect(
  root: string,
  rel: string,
  into: string,
  files: Record<string, [Uint8Array, { mtime: Date }]>,
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(`${root}/${rel}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // optional entries (serve.ts, LICENSE)
    throw e;
  }
  if (info.isFile) {
    files[`${into}/${rel}`] = [await Deno.readFile(`${root}/${rel}`), { mtime: MTIME }];
    return;
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${rel}`)) {
    if (!SKIP.test(`${rel}/${entry.name}`)) names.push(entry.name);
  }
  for (const name of names.sort()) await collect(root, `${rel}/${name}`, into, files);
}

/** The plugin's version from its metadata.txt. */
export function pluginVersion(metadata: string): string {
  const match = metadata.match(/^version\s*=\s*(\S+)/m);
  if (!match) throw new SyntaxError("Cannot read the plugin version: no version= in metadata.txt");
  return match[1]!;
}

/** The zip's entries: path in the zip -> bytes. */
export async function packageFiles(root: string): Promise<Record<string, Uint8Array>> {
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const plugin: string[] = [];
  for await (const entry of Deno.readDir(`${root}/qgis/sopseg_qgis`)) {
    if (!SKIP.test(entry.name)) plugin.push(entry.name);
  }
  for (const name of plugin.sort()) {
    await collect(`${root}/qgis`, `sopseg_qgis/${name}`, ".", files);
  }
  for (const rel of TOOL_PATHS) await collect(root, rel, "sopseg_qgis/sopseg", files);
  const out: Record<string, Uint8Array> = {};
  for (const [path, [bytes]] of Object.entries(files)) out[path.replace(/^\.\//, "")] = bytes;
  return out;
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const version = pluginVersion(await Deno.readTextFile(`${root}/qgis/sopseg_qgis/metadata.txt`));
  const out = `dist/sopseg_qgis-${version}.zip`;
  const entries = await packageFiles(root);
  const zip = zipSync(
    Object.fromEntries(
      Object.entries(entries).map(([path, bytes]) => [
        path,
        [bytes, { mtime: MTIME, level: /\.(onnx|ort)$/.test(path) ? 6 : 9 }],
      ]),
    ),
  );
  await Deno.mkdir("dist", { recursive: true });
  await Deno.writeFile(out, zip);
  const names = Object.keys(entries);
  if (!names.some((n) => n.startsWith("sopseg_qgis/sopseg/src/protocol/"))) {
    console.error(
      "qgis:package: warning: no src/protocol/ in the package: the plugin needs the server",
    );
  }
  console.log(
    `${out}: ${names.length} files, ${(zip.length / 1e6).toFixed(1)} MB (sopseg_qgis ${version})`,
  );
}
