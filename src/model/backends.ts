/**
 * Backend names and the choice between them.
 *
 * @module
 */

/** A backend a graph can run on. */
export type BackendName = "wasm" | "webgpu";

/** What the user may ask for: a backend, or `auto`. */
export type BackendChoice = BackendName | "auto";

/** Every accepted `--backend` value, with what it means. */
export const BACKEND_CHOICES: Readonly<Record<BackendChoice, string>> = {
  auto:
    "WebGPU if an adapter exists, a parity self-check against WASM passes and it is the faster of the two on a timed batch, else WASM (always WASM for a run of one batch)",
  wasm: "multi-threaded WASM SIMD (onnxruntime-web), runs everywhere",
  webgpu: "WebGPU (onnxruntime-web), fails if no adapter exists",
};

/**
 * Parse a `--backend` value; unknown names fail with the list of valid ones.
 *
 * @example
 * ```ts
 * import { parseBackendChoice } from "./backends.ts";
 * if (parseBackendChoice("wasm") !== "wasm") throw new Error();
 * ```
 */
export function parseBackendChoice(name: string): BackendChoice {
  if (Object.hasOwn(BACKEND_CHOICES, name)) return name as BackendChoice;
  throw new RangeError(
    `Cannot use backend "${name}": valid backends are ${Object.keys(BACKEND_CHOICES).join(", ")}`,
  );
}
