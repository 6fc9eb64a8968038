/**
 * Where the shipped model lives, for every front end (CLI, JSON-RPC server,
 * benchmarks) to default to.
 *
 * @module
 */

/**
 * The default model directory, `models/sopseg-lite` next to the code.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL_DIR } from "./default_model.ts";
 * if (!DEFAULT_MODEL_DIR.endsWith("/models/sopseg-lite")) throw new Error(DEFAULT_MODEL_DIR);
 * ```
 */
export const DEFAULT_MODEL_DIR: string =
  new URL("../../models/sopseg-lite", import.meta.url).pathname;
