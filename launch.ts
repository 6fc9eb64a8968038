/**
 * Runs `cli.ts` in a child Deno process that holds only the permissions the
 * command needs: reads of its inputs, the model and onnxruntime-web's WASM
 * files; writes of `--out` only; no network, no other files. `deno task
 * segment` goes through here.
 *
 * This launcher itself may only start `deno`, read the three environment
 * variables that locate Deno's cache, `INIT_CWD` (the folder `deno task` was
 * started from: relative paths are made absolute from it) and the array index
 * a batch scheduler sets (to say that `--shard` was not given; `src/cli/scheduler_env.ts`), and
 * read (to resolve symlinked inputs); it writes nothing. The child gets no
 * environment permission.
 *
 * @module
 */
import { fromUserDir, PermissionPathError, scopedPermissions } from "./src/cli/permissions.ts";
import { readSchedulerEnv, schedulerIndexNote } from "./src/cli/scheduler_env.ts";

if (import.meta.main) {
  const [command, ...given] = Deno.args;
  // `deno task` runs this in deno.json's folder: relative paths are the user's, from INIT_CWD
  let userDir: string | undefined;
  try {
    userDir = Deno.env.get("INIT_CWD");
  } catch {
    // run without the grant (deno run launch.ts): paths are taken as given
  }
  const rest = command && userDir ? fromUserDir(command, given, userDir, Deno.cwd()) : given;
  const cli = new URL("./cli.ts", import.meta.url).pathname;
  const env: Record<string, string> = {};
  for (const name of ["DENO_DIR", "HOME", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  let flags: string[] = [];
  try {
    flags = command
      ? scopedPermissions(command, rest, env, (path, grant) =>
        console.error(
          `sopseg ${command}: note: ${path} holds a comma, which Deno's permission flags ` +
            `cannot express: ${grant} is granted instead`,
        ))
      : [];
  } catch (e) {
    if (!(e instanceof PermissionPathError)) throw e;
    console.error(`sopseg ${command}: error: ${e.message}`);
    Deno.exit(2);
  }
  if (command === "segment") {
    const note = schedulerIndexNote(rest, readSchedulerEnv());
    if (note !== null) console.error(note);
  }
  const child = new Deno.Command("deno", {
    args: ["run", "--no-prompt", ...flags, cli, ...(command ? [command] : []), ...rest],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // A supervisor that stops this process (not its group) stops the run: SIGTERM and SIGINT go
  // on to the child, whose exit this process then reports. `deno task` does not pass SIGTERM
  // on, and on SIGINT it ends this process but not the child; a killed `deno task` leaves this
  // process to init: then the child is stopped too. (SIGHUP is left alone: `nohup` ignores it
  // on purpose; Windows has neither.)
  const stop = (signal: "SIGTERM" | "SIGINT" = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // already ended
    }
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    try {
      Deno.addSignalListener(signal, () => stop(signal));
    } catch {
      // not a signal this platform has
    }
  }
  const parent = Deno.ppid;
  const watch = setInterval(() => {
    if (Deno.ppid !== parent) {
      clearInterval(watch);
      stop();
    }
  }, 1000);
  const status = await child.status;
  clearInterval(watch);
  Deno.exit(status.code);
}
