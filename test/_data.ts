/**
 * Tests that read real data in place (`../shared/data`). Where the data is
 * missing a test is skipped and says why (the missing path, on stderr, once
 * per path); when the environment variable `CI` is set (`.ci/run` sets it),
 * a missing data file fails the test instead: CI must never pass by skipping.
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

/** The shared data folder, `../shared/data` beside the repository. */
export const SHARED_DATA = `${root}../shared/data`;

function inCi(): boolean {
  try {
    return (Deno.env.get("CI") ?? "") !== "";
  } catch {
    return false; // no --allow-env: not CI
  }
}

function present(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e; // e.g. no --allow-read: say so rather than skip
  }
}

const told = new Set<string>();

/** Whether every path exists; prints each missing path once to stderr. */
export function haveData(...paths: string[]): boolean {
  const missing = paths.filter((p) => !present(p));
  for (const p of missing) {
    if (told.has(p)) continue;
    told.add(p);
    console.error(`data missing: ${p}${inCi() ? " (CI is set: its tests fail)" : ""}`);
  }
  return missing.length === 0;
}

/** A test definition whose body needs data files. */
export interface DataTestDefinition {
  /** The test name. */
  name: string;
  /** Files or folders the test reads. */
  needs: string[];
  /** The test body. */
  fn: (t: Deno.TestContext) => void | Promise<void>;
}

/**
 * Registers a test that needs `needs`: run when they exist; otherwise
 * skipped with the reason in its name and on stderr, or, with `CI` set,
 * failed naming the missing paths.
 */
export function dataTest(def: DataTestDefinition): void {
  const ok = haveData(...def.needs);
  if (ok) {
    Deno.test({ name: def.name, fn: def.fn });
  } else if (inCi()) {
    const missing = def.needs.filter((p) => !present(p));
    Deno.test({
      name: def.name,
      fn: () => {
        throw new Error(`Cannot run in CI: data missing: ${missing.join(", ")}`);
      },
    });
  } else {
    const missing = def.needs.filter((p) => !present(p)).map((p) => p.replace(root, ""));
    Deno.test({
      name: `${def.name} [skipped: missing ${missing.join(", ")}]`,
      ignore: true,
      fn: def.fn,
    });
  }
}
