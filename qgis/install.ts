/**
 * `deno task qgis:install`: copies the QGIS plugin (`qgis/sopseg_qgis`) into a QGIS profile,
 * records where sopseg and deno are (`config.json` beside the plugin) and enables the plugin in
 * the profile's `QGIS3.ini`. Restart QGIS afterwards (a running QGIS rewrites its ini on exit).
 *
 *     deno task qgis:install [--profile NAME] [--profiles-dir DIR]
 *
 * The task may only read `qgis/`, read the three variables that locate QGIS's profiles and
 * start `deno`: it starts itself again with reads of `qgis/` and writes of the profiles folder
 * only, like `launch.ts` does for the CLI.
 *
 * @module
 */

/** Where QGIS 3 keeps its profiles on `os`, from the environment (QStandardPaths' rules). */
export function qgisProfilesDir(
  os: typeof Deno.build.os,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (os === "windows") {
    if (!env.APPDATA) throw new TypeError("Cannot find QGIS profiles: APPDATA is not set");
    return `${env.APPDATA}\\QGIS\\QGIS3\\profiles`;
  }
  if (!env.HOME) throw new TypeError("Cannot find QGIS profiles: HOME is not set");
  if (os === "darwin") return `${env.HOME}/Library/Application Support/QGIS/QGIS3/profiles`;
  return `${env.XDG_DATA_HOME || `${env.HOME}/.local/share`}/QGIS/QGIS3/profiles`;
}

/**
 * `ini` (a QGIS3.ini's text) with `[PythonPlugins] name=true`, other lines untouched.
 *
 * @example
 * ```ts
 * import { enablePluginInIni } from "./install.ts";
 * const ini = enablePluginInIni("[qgis]\na=1\n", "sopseg_qgis");
 * if (ini !== "[qgis]\na=1\n\n[PythonPlugins]\nsopseg_qgis=true\n") throw new Error(ini);
 * ```
 */
export function enablePluginInIni(ini: string, name: string): string {
  const lines = ini.length ? ini.replace(/\r?\n$/, "").split(/\r?\n/) : [];
  const header = lines.findIndex((l) => l.trim() === "[PythonPlugins]");
  if (header < 0) {
    if (lines.length) lines.push("");
    lines.push("[PythonPlugins]", `${name}=true`);
    return lines.join("\n") + "\n";
  }
  let end = header + 1;
  while (end < lines.length && !lines[end]!.trim().startsWith("[")) end++;
  const key = lines.slice(header + 1, end).findIndex((l) => l.split("=")[0]!.trim() === name);
  if (key >= 0) lines[header + 1 + key] = `${name}=true`;
  else lines.splice(header + 1, 0, `${name}=true`);
  return lines.join("\n") + "\n";
}

const PLUGIN = "sopseg_qgis";
const SKIP = new Set(["__pycache__", "config.json"]);

async function copyTree(from: string, to: string): Promise<number> {
  await Deno.mkdir(to, { recursive: true });
  let count = 0;
  for await (const entry of Deno.readDir(from)) {
    if (SKIP.has(entry.name) || entry.name.endsWith(".pyc")) continue;
    if (entry.isDirectory) count += await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) {
      await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
      count++;
    }
  }
  return count;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

interface InstallArgs {
  profile: string;
  profilesDir?: string;
  deno?: string;
}

function parseArgs(args: readonly string[]): InstallArgs {
  const out: InstallArgs = { profile: "default" };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new TypeError(`Cannot install: ${flag} needs a value`);
      return v;
    };
    if (flag === "--profile") out.profile = value();
    else if (flag === "--profiles-dir") out.profilesDir = value();
    else if (flag === "--deno") out.deno = value();
    else throw new TypeError(`Cannot install: unknown argument "${args[i]}"`);
  }
  return out;
}

async function install(args: InstallArgs & { profilesDir: string }): Promise<string> {
  const source = new URL("./sopseg_qgis", import.meta.url).pathname;
  const sopsegDir = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const profileDir = `${args.profilesDir}/${args.profile}`;
  const dest = `${profileDir}/python/plugins/${PLUGIN}`;
  await Deno.remove(dest, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const files = await copyTree(source, dest);
  const config = { sopseg_dir: sopsegDir, deno: args.deno ?? Deno.execPath() };
  await Deno.writeTextFile(`${dest}/config.json`, JSON.stringify(config, null, 2) + "\n");
  const ini = `${profileDir}/QGIS/QGIS3.ini`;
  await Deno.mkdir(`${profileDir}/QGIS`, { recursive: true });
  await Deno.writeTextFile(ini, enablePluginInIni(await readText(ini), PLUGIN));
  return `Installed ${files} files into ${dest}\nEnabled in ${ini}\n` +
    `sopseg folder: ${config.sopseg_dir}; deno: ${config.deno}\nRestart QGIS to load it.\n`;
}

const USAGE = `Usage: deno task qgis:install [--profile NAME] [--profiles-dir DIR] [--deno PATH]

Copies the QGIS plugin into a QGIS profile (default: "default", in QGIS's profiles folder),
records where sopseg and deno are, and enables the plugin. Restart QGIS afterwards.
`;

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    const args = parseArgs(Deno.args);
    const profilesDir = args.profilesDir ?? qgisProfilesDir(Deno.build.os, {
      HOME: Deno.env.get("HOME"),
      XDG_DATA_HOME: Deno.env.get("XDG_DATA_HOME"),
      APPDATA: Deno.env.get("APPDATA"),
    });
    const granted = Deno.permissions.querySync({ name: "write", path: profilesDir }).state;
    if (granted === "granted") {
      console.log(await install({ ...args, profilesDir }));
    } else {
      // Start again with writes of the profiles folder only.
      const self = new URL(import.meta.url).pathname;
      const plugin = new URL("./sopseg_qgis", import.meta.url).pathname;
      const child = new Deno.Command("deno", {
        args: [
          "run",
          "--no-prompt",
          `--allow-read=${plugin},${profilesDir}`,
          `--allow-write=${profilesDir}`,
          self,
          "--profile",
          args.profile,
          "--profiles-dir",
          profilesDir,
          "--deno",
          args.deno ?? Deno.execPath(),
        ],
      }).spawn();
      Deno.exit((await child.status).code);
    }
  } catch (e) {
    console.error(`qgis:install: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
