/**
 * Decodes one large JPEG off the main thread, for {@linkcode openJpeg}: the
 * decoder's WASM memory grows to hold the whole image and never shrinks, so a
 * large image is decoded in a worker whose memory goes when it is terminated,
 * not whenever the garbage collector gets to it.
 *
 * Message in: `{ bytes, kept }`. Out: `{ width, height, channels, planes }`
 * (the planes' buffers transferred) or `{ error }`.
 *
 * @module
 */
import { decodeJpegPlanes } from "./jpeg_decode.ts";

/** A message to the worker. */
export interface JpegRequest {
  /** The JPEG file. */
  bytes: Uint8Array;
  /** 0-based channels to keep. */
  kept: number[];
}

/** A message from the worker. */
export type JpegReply =
  | { width: number; height: number; channels: number[]; planes: Uint8Array[] }
  | { error: string };

// `globalThis`, not `self`: under `deno test` a worker's `self` is not defined.
const scope = globalThis as unknown as {
  postMessage(message: JpegReply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<JpegRequest>) => void) | null;
};

scope.onmessage = async (e) => {
  try {
    const { width, height, planes } = await decodeJpegPlanes(e.data.bytes, e.data.kept);
    const channels = [...planes.keys()], list = [...planes.values()];
    scope.postMessage(
      { width, height, channels, planes: list },
      list.map((p) => p.buffer as ArrayBuffer),
    );
  } catch (error) {
    scope.postMessage({ error: (error as Error).message ?? String(error) });
  }
};
