/**
 * Runs `cli.ts` in a child Deno process that holds only the permissions the
 * command needs: reads of its inputs, the model and onnxruntime-web's WASM
 * files; writes of `--out` only; no network, no other files. `deno task
 * segment` goes through here.
 *
 * This launcher itself may only start `deno`, read the three environment
 * variables that locate Deno's cache and the array index a batch scheduler
 * sets (to say that `--shard` was not given; `src/cli/scheduler_env.ts`), and
 * read (to resolve symlinked inputs); it writes nothing. The child gets no
 * environment permission.
 *
 * @module
 */
import { scopedPermissions } from "./src/cli/permissions.ts";
import { readSchedulerEnv, schedulerIndexNote } from "./src/cli/scheduler_env.ts";

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  const cli = new URL("./cli.ts", import.meta.url).pathname;
  const env: Record<string, string> = {};
  for (const name of ["DENO_DIR", "HOME", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const flags = command ? scopedPermissions(command, rest, env) : [];
  if (command === "segment") {
    const note = schedulerIndexNote(rest, readSchedulerEnv());
    if (note !== null) console.error(note);
  }
  const child = new Deno.Command("deno", {
    args: ["run", "--no-prompt", ...flags, cli, ...Deno.args],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  Deno.exit(status.code);
}
