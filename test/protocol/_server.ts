/**
 * The real server as a subprocess, through the permission-scoped
 * `deno task serve`, and the real data it reads in place.
 */
import { assertSchema } from "./_schema.ts";
import { dataTest as sharedDataTest, SHARED_DATA } from "../_data.ts";

const root = new URL("../..", import.meta.url).pathname;

/** ../shared/data, read in place (never copied into git), as an absolute path without "..". */
export const DATA = new URL(`file://${SHARED_DATA}`).pathname.replace(/\/$/, "");
/** A DOTA sample: 64 boxes in labelTxt/P1888.txt. */
export const P1888 = {
  image: `${DATA}/dota-samples/images/P1888.png`,
  labels: `${DATA}/dota-samples/labelTxt/P1888.txt`,
};
/** A DOTA sample with 536 boxes. */
export const P0706 = {
  image: `${DATA}/dota-samples/images/P0706.png`,
  labels: `${DATA}/dota-samples/labelTxt/P0706.txt`,
};
/** iSAID val tiles (512x512 JPEG). */
export const ISAID_IMAGES = `${DATA}/isaid512/val/images`;

/**
 * A test that needs the DOTA samples and the iSAID val tiles: skipped with
 * the reason when they are missing, failed in CI (test/_data.ts).
 */
export function dataTest(name: string, fn: () => Promise<void>): void {
  sharedDataTest({ name, needs: [P1888.image, P0706.labels, ISAID_IMAGES], fn });
}

/** The first iSAID val tile (sorted by name). */
export async function firstIsaidTile(): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(ISAID_IMAGES)) if (e.isFile) names.push(e.name);
  names.sort();
  return `${ISAID_IMAGES}/${names[0]}`;
}

/** A message the server wrote. */
// deno-lint-ignore no-explicit-any
export type Message = Record<string, any>;

/** A running server and the conversation with it. */
export class Server {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: Promise<string>;
  /** Every line the server wrote to stdout, as written. */
  readonly stdoutLines: string[] = [];
  #nextId = 1;
  #stdinOpen = true;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = splitLines(child.stdout)[Symbol.asyncIterator]();
    this.#stderr = new Response(child.stderr).text();
  }

  /** Starts `deno task serve <args>` (WASM, the shipped model) in the repository root. */
  static start(args: string[] = []): Server {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "serve", "--backend", "wasm", ...args],
      cwd: root,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    return new Server(child);
  }

  /** Writes raw text (a line, part of a line, bytes) to the server's stdin. */
  async writeRaw(data: string | Uint8Array): Promise<void> {
    await this.#writer.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** Writes one message as a line. */
  async send(message: unknown): Promise<void> {
    await this.writeRaw(`${JSON.stringify(message)}\n`);
  }

  /** Sends a request and returns its id (answers are read with `next`). */
  async sendRequest(method: string, params?: unknown): Promise<number> {
    const id = this.#nextId++;
    await this.send(
      params === undefined ? { jsonrpc: "2.0", id, method } : {
        jsonrpc: "2.0",
        id,
        method,
        params,
      },
    );
    return id;
  }

  /**
   * The next message on stdout, checked against the schema's ServerMessage
   * (each stdout line must be one).
   */
  async next(): Promise<Message> {
    const r = await this.#lines.next();
    if (r.done) {
      throw new Error(
        `Cannot read a message: the server closed stdout\n${await this.stderrText()}`,
      );
    }
    this.stdoutLines.push(r.value);
    const message = JSON.parse(r.value) as Message;
    assertSchema("ServerMessage", message);
    return message;
  }

  /** The next response (skipping and returning progress and warning notifications). */
  async response(): Promise<{ response: Message; progress: Message[]; warnings: Message[] }> {
    const progress: Message[] = [];
    const warnings: Message[] = [];
    while (true) {
      const m = await this.next();
      if (m.method === "$/progress") progress.push(m);
      else if (m.method === "$/warning") warnings.push(m);
      else return { response: m, progress, warnings };
    }
  }

  /** Sends a request and waits for its response (which must carry its id). */
  async call(method: string, params?: unknown): Promise<Message> {
    const id = await this.sendRequest(method, params);
    const { response } = await this.response();
    if (response.id !== id) {
      throw new Error(`Expected the answer to ${id}, got ${JSON.stringify(response)}`);
    }
    return response;
  }

  /** Closes stdin (EOF). */
  async closeStdin(): Promise<void> {
    if (!this.#stdinOpen) return;
    this.#stdinOpen = false;
    await this.#writer.close().catch(() => {});
  }

  /** Waits for the process; returns its exit code and whatever stdout still held. */
  async wait(): Promise<{ code: number; rest: string[] }> {
    const rest: string[] = [];
    while (true) {
      const r = await this.#lines.next();
      if (r.done) break;
      this.stdoutLines.push(r.value);
      rest.push(r.value);
    }
    const status = await this.#child.status;
    return { code: status.code, rest };
  }

  /** Everything the server wrote to stderr (after it ended). */
  async stderrText(): Promise<string> {
    return await this.#stderr;
  }

  /** shutdown + exit, then waits; returns the exit code. Kills the server if anything fails. */
  async stop(): Promise<number> {
    try {
      const r = await this.call("shutdown");
      if (r.result !== null) throw new Error(`shutdown answered ${JSON.stringify(r)}`);
      await this.send({ jsonrpc: "2.0", method: "exit" });
      await this.closeStdin();
      return (await this.wait()).code;
    } catch (e) {
      await this.kill();
      throw e;
    }
  }

  /**
   * Ends the server (test cleanup): kills the launcher, closes stdin and stops
   * reading stdout, so that the server process, which `deno task` started as
   * a grandchild, ends on EOF or on its next write to the closed pipe.
   */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.closeStdin();
    await this.#lines.return?.();
    await this.#child.status;
  }
}

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** A one-box `segment` params object. */
export function oneBox(image: string, x = 100, y = 100): Record<string, unknown> {
  return {
    image,
    detections: {
      boxes: [{ corners: [[x, y], [x + 40, y], [x + 40, y + 20], [x, y + 20]], class: "car" }],
    },
  };
}
