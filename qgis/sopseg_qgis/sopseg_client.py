"""A client for the sopseg JSON-RPC server (docs/PROTOCOL.md), standard library only.

The server is `deno task serve` run in the sopseg folder: JSON-RPC 2.0, one UTF-8 JSON message
per line, requests on its stdin, responses and `$/progress` notifications on its stdout, logs on
its stderr. This module starts it, sends requests one at a time, forwards progress, cancels
through `$/cancelRequest` and shuts it down cleanly. Server errors become `SopsegError`
(carrying the JSON-RPC code and message); a cancelled request becomes `SopsegCancelled`.

    with SopsegServer("/path/to/sopseg", read=["/data"]) as server:
        collection = server.segment("/data/a.tif", {"boxes": [{"corners": corners}]})

Boxes that would make a request line longer than the server accepts (`--max-line-bytes`, 16 MiB
by default: about 100,000 boxes) go in several `segment` requests, answered as one collection.

Nothing here imports QGIS: the QGIS plugin and any other Python program can use it.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

PROTOCOL_VERSION = "1.4"
REQUEST_CANCELLED = -32800
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
"""The server's longest request line unless `--max-line-bytes` says otherwise."""
MAX_BOXES_PER_REQUEST = 10_000
"""Boxes per `segment` request at most: keeps each answer's line (the masks) tens of MB, not GB."""
BOX_FIELD = re.compile(r"detections\.boxes\[(\d+)\]")

ProgressCallback = Callable[[int, int], None]
"""Called with `(done, total)` for each `$/progress` notification of the running request."""

WarningCallback = Callable[[str], None]
"""Called with the message of each `$/warning` notification of the running request."""

CancelledCallback = Callable[[], bool]
"""Polled while a request runs; returning True sends `$/cancelRequest` (once)."""


class SopsegError(Exception):
    """An error answered by the server (or the server process failing).

    `code` is the JSON-RPC error code (-32700 parse error, -32600 invalid request, -32601 unknown
    method, -32602 bad params, -32800 cancelled, -32099..-32000 application errors); `None` when
    the process itself failed (could not start, died, closed its stdout) or the request could not
    be sent (a NaN in it, a box too long for one line).
    """

    def __init__(self, message: str, code: Optional[int] = None, data: Any = None) -> None:
        super().__init__(message if code is None else f"{message} (code {code})")
        self.message = message
        self.code = code
        self.data = data


class SopsegCancelled(SopsegError):
    """The request was cancelled through `$/cancelRequest` and answered with code -32800."""


def find_deno(configured: Optional[str] = None) -> str:
    """The `deno` executable: `configured` if given, else PATH, else Deno's default install place.

    Raises `FileNotFoundError` naming where it looked.
    """
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        found = shutil.which(configured)
        if found:
            return found
        raise FileNotFoundError(f"Cannot find deno: {configured!r} is not an executable file")
    found = shutil.which("deno")
    if found:
        return found
    exe = "deno.exe" if sys.platform == "win32" else "deno"
    for candidate in (Path.home() / ".deno" / "bin" / exe, Path("/usr/local/bin") / exe):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise FileNotFoundError(
        "Cannot find deno: not on PATH nor in ~/.deno/bin; install it (https://deno.com) or "
        "set its path in the sopseg settings"
    )


def serve_command(
    deno: str,
    read: Iterable[str] = (),
    write: Iterable[str] = (),
    model: Optional[str] = None,
    backend: Optional[str] = None,
    threads: Optional[int] = None,
    small_graphs: Optional[str] = None,
    tta: Optional[str] = None,
    max_line_bytes: Optional[int] = None,
) -> list[str]:
    """The argv of `deno task serve` with its flags (run it with cwd = the sopseg folder).
    `small_graphs`: "on", "off" or a crop side in pixels (`--small-graphs`); `tta`: "off",
    "main" or "all" (`--tta`: crops also run mirrored, masks averaged); `max_line_bytes`: the
    longest request line the server reads (`--max-line-bytes`)."""
    args = [deno, "task", "--quiet", "serve"]
    for path in read:
        args += ["--read", str(path)]
    for path in write:
        args += ["--write", str(path)]
    if model:
        args += ["--model", str(model)]
    if backend:
        args += ["--backend", backend]
    if threads:
        args += ["--threads", str(int(threads))]
    if small_graphs:
        args += ["--small-graphs", str(small_graphs)]
    if tta:
        args += ["--tta", tta]
    if max_line_bytes:
        args += ["--max-line-bytes", str(int(max_line_bytes))]
    return args


def encode_json(value: Any, name: str = "") -> bytes:
    """`value` as compact UTF-8 JSON; ValueError naming the first NaN or infinite number in it,
    which JSON cannot carry (`name`: what `value` is, for that path).

    >>> encode_json({"corners": [[0, float("inf")]]}, "box")
    Traceback (most recent call last):
    ...
    ValueError: box.corners[0][1] is not a finite number (JSON has no NaN or Infinity)
    """
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError:
        path = non_finite_path(value, name)
        if path is None:
            raise
        raise ValueError(
            f"{path or 'the value'} is not a finite number (JSON has no NaN or Infinity)"
        ) from None


def non_finite_path(value: Any, path: str) -> Optional[str]:
    """Where the first NaN or infinite float in `value` is, e.g. `detections.boxes[3].score`
    (`path` names `value` itself); None if there is none.

    >>> non_finite_path({"boxes": [{"score": 1.0}, {"score": float("nan")}]}, "detections")
    'detections.boxes[1].score'
    """
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, Mapping):
        items: Iterable[tuple[str, Any]] = (
            (f"{path}.{key}" if path else str(key), v) for key, v in value.items()
        )
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, v in items:
        found = non_finite_path(v, where)
        if found is not None:
            return found
    return None


def once(callback: WarningCallback) -> WarningCallback:
    """`callback`, called once per distinct message.

    >>> seen = []
    >>> say = once(seen.append)
    >>> say("a"); say("b"); say("a")
    >>> seen
    ['a', 'b']
    """
    said: set[str] = set()

    def call(message: str) -> None:
        if message not in said:
            said.add(message)
            callback(message)

    return call


def shift_box_indexes(value: Any, offset: int) -> Any:
    """`value` (a message, or an error's data) with each `detections.boxes[i]` it names as
    `detections.boxes[i + offset]`: a part's box index as the whole list's.

    >>> shift_box_indexes({"field": "detections.boxes[2].class"}, 100)
    {'field': 'detections.boxes[102].class'}
    """
    if isinstance(value, str):
        return BOX_FIELD.sub(lambda m: f"detections.boxes[{int(m.group(1)) + offset}]", value)
    if isinstance(value, Mapping):
        return {k: shift_box_indexes(v, offset) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_box_indexes(v, offset) for v in value]
    return value


class SopsegServer:
    """One sopseg server process and the JSON-RPC conversation with it.

    Requests are sent one at a time (the server answers in order anyway); `$/progress`
    notifications of the running request go to its progress callback. Use it as a context
    manager, or call `start()` and `close()`.
    """

    def __init__(
        self,
        sopseg_dir: str | os.PathLike[str],
        *,
        deno: Optional[str] = None,
        read: Sequence[str | os.PathLike[str]] = (),
        write: Sequence[str | os.PathLike[str]] = (),
        model: Optional[str] = None,
        backend: Optional[str] = None,
        threads: Optional[int] = None,
        small_graphs: Optional[str] = None,
        tta: Optional[str] = None,
        max_line_bytes: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None,
        log: Optional[Callable[[str], None]] = None,
    ) -> None:
        """Configure (not start) a server.

        `sopseg_dir`: the folder holding sopseg's deno.json. `deno`: path of the executable
        (default: found by `find_deno`). `read`/`write`: folders the server may read/write
        (the images' folders; `out` targets). `model`, `backend` ("auto", "wasm", "webgpu"),
        `threads`, `small_graphs` ("on", "off" or a crop side), `tta` ("off", "main", "all"),
        `max_line_bytes` (longest request line; default 16 MiB): the server's flags. `env`: the
        process environment (default: ours).
        `log`: called with each line the server writes to stderr (default: kept for errors only).
        """
        self.sopseg_dir = Path(sopseg_dir)
        if not (self.sopseg_dir / "deno.json").is_file():
            raise FileNotFoundError(
                f"Cannot use sopseg folder {str(self.sopseg_dir)!r}: no deno.json"
            )
        self.command = serve_command(
            find_deno(deno),
            read=[str(Path(p).resolve()) for p in read],
            write=[str(Path(p).resolve()) for p in write],
            model=str(Path(model).resolve()) if model else None,
            backend=backend,
            threads=threads,
            small_graphs=small_graphs,
            tta=tta,
            max_line_bytes=max_line_bytes,
        )
        self.max_line_bytes = max_line_bytes or DEFAULT_MAX_LINE_BYTES
        self.env = dict(os.environ if env is None else env)
        self.initialize_result: Optional[dict[str, Any]] = None
        self._log = log
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._messages: queue.Queue[Optional[dict[str, Any]]] = queue.Queue()
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._next_id = 1
        self._unanswered: deque[int] = deque()  # ids sent and not answered yet, in order
        self._lock = threading.Lock()
        self._readers: list[threading.Thread] = []

    # -- process -------------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> dict[str, Any]:
        """Start the process and send `initialize`; returns its result (protocol, model, backend)."""
        if self._process is not None:
            raise RuntimeError("Cannot start the sopseg server: it is already started")
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True  # its own process group: close() can end it all
        elif sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        self._process = subprocess.Popen(
            self.command,
            cwd=self.sopseg_dir,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **kwargs,
        )
        self._readers = [
            threading.Thread(target=self._read_stdout, name="sopseg-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="sopseg-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            result = self.request(
                "initialize", {"client": {"name": "sopseg_client.py"}}, timeout=timeout
            )
        except BaseException:
            self.kill()
            raise
        if not isinstance(result, dict):
            self.kill()
            raise SopsegError(f"initialize answered {result!r}, not an object")
        version = str(result.get("protocolVersion", ""))
        if version.split(".")[0] != PROTOCOL_VERSION.split(".")[0]:
            self.kill()
            raise SopsegError(
                f"Cannot talk to the sopseg server: protocol {version!r}, this client speaks "
                f"{PROTOCOL_VERSION}"
            )
        self.initialize_result = result
        return result

    def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for raw in self._process.stdout:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = {"_invalid": line}
            self._messages.put(message if isinstance(message, dict) else {"_invalid": line})
        self._messages.put(None)  # EOF

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self._stderr_tail.append(line)
            if self._log is not None:
                try:
                    self._log(line)
                except Exception:  # a failing logger must not stop the drain
                    pass

    @property
    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr."""
        return "\n".join(self._stderr_tail)

    @property
    def returncode(self) -> Optional[int]:
        """The exit code once the process has ended, else None."""
        return None if self._process is None else self._process.poll()

    def _died(self, what: str, running: str, timeout: float = 5.0) -> SopsegError:
        """The error for a server that stopped talking: how it ended and the end of its stderr.

        Waits up to `timeout` seconds for the process to exit and for the stderr reader to
        reach EOF: a server failing at start-up (a flag its Deno does not know, a broken
        wrapper) writes why and exits, and an error built before the reader has read that
        would say nothing useful. `what` says when (`before answering initialize`);
        `running` what it did if it has not exited (`closed its stdout`).
        """
        code: Optional[int] = None
        if self._process is not None:
            try:
                code = self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        deadline = time.monotonic() + (timeout if code is not None else 0.5)
        for reader in self._readers:
            if reader.name == "sopseg-stderr" and reader is not threading.current_thread():
                reader.join(timeout=max(0.0, deadline - time.monotonic()))
        if code is None:
            how = f"{running} while still running"
        elif code < 0 and os.name == "posix":
            how = f"was killed (signal {-code})"
        else:
            how = f"exited (code {code})"
        tail = self.stderr_tail.strip()
        return SopsegError(f"The sopseg server {how} {what}" + (f":\n{tail}" if tail else ""))

    def _send(self, message: dict[str, Any]) -> None:
        if self._process is None or self._process.stdin is None:
            raise RuntimeError("Cannot send to the sopseg server: it is not started")
        try:
            data = encode_json(message) + b"\n"
        except ValueError as e:
            raise SopsegError(f"Cannot send {message.get('method')}: {e}") from None
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as e:  # ValueError: we closed it (killed)
            method = message.get("method")
            what = f"before answering {method}" if "id" in message else f"before reading {method}"
            raise self._died(what, "closed its stdin") from e

    # -- requests ------------------------------------------------------------------------------

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer expected)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def cancel(self, request_id: int) -> None:
        """Ask the server to stop request `request_id` (it then answers with -32800)."""
        self.notify("$/cancelRequest", {"id": request_id})

    def request(
        self,
        method: str,
        params: Any = None,
        *,
        progress: Optional[ProgressCallback] = None,
        warning: Optional[WarningCallback] = None,
        cancelled: Optional[CancelledCallback] = None,
        timeout: Optional[float] = None,
        poll_interval: float = 0.1,
        cancel_grace: float = 15.0,
    ) -> Any:
        """Send one request and wait for its answer; returns the result or raises SopsegError.

        `progress(done, total)` gets the request's `$/progress` notifications, `warning(message)`
        its `$/warning` notifications (what the server has to say about its inputs); `cancelled()` is
        polled every `poll_interval` seconds and, once it returns True, `$/cancelRequest` is sent
        and the request ends in `SopsegCancelled`. `timeout`: seconds without any message from
        the server before giving up (the server is then killed, as its state is unknown).
        `cancel_grace`: seconds a cancelled request may take to answer before the server is
        killed (a server stuck in a model call cannot read the cancel); SopsegCancelled then too.
        """
        with self._lock:
            request_id = self._next_id
            self._next_id += 1
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
            if params is not None:
                message["params"] = params
            self._send(message)
            self._unanswered.append(request_id)
            cancel_sent: Optional[float] = None
            last_message = time.monotonic()
            while True:
                if cancelled is not None and cancel_sent is None and cancelled():
                    self.cancel(request_id)
                    cancel_sent = time.monotonic()
                if cancel_sent is not None and time.monotonic() - cancel_sent > cancel_grace:
                    self.kill()
                    raise SopsegCancelled(
                        f"{method} did not stop within {cancel_grace} s of the cancel: "
                        "the sopseg server was killed",
                        REQUEST_CANCELLED,
                    )
                try:
                    reply = self._messages.get(timeout=poll_interval)
                except queue.Empty:
                    if timeout is not None and time.monotonic() - last_message > timeout:
                        self.kill()
                        raise SopsegError(
                            f"{method}: no answer from the sopseg server in {timeout} s"
                        )
                    continue
                last_message = time.monotonic()
                if reply is None:
                    self._messages.put(None)  # later calls see the EOF too
                    raise self._died("before answering " + method, "closed its stdout")
                if "_invalid" in reply:
                    raise SopsegError(
                        f"The sopseg server wrote a non-JSON-RPC line: {reply['_invalid']!r}"
                    )
                if "method" in reply or ("id" not in reply and "error" not in reply):
                    self._notification(reply, request_id, progress, warning)
                    continue
                reply_id = reply.get("id")
                if reply_id is None and self._unanswered:
                    # An error to a line the server could not read (-32700 not JSON, -32006
                    # over --max-line-bytes): answers come in order, so it answers the oldest
                    # request still waiting; ours unless we gave up on one before.
                    reply_id = self._unanswered[0]
                if reply_id in self._unanswered:
                    self._unanswered.remove(reply_id)
                if reply_id != request_id:
                    continue  # an answer to a request we gave up on
                if "error" in reply:
                    error = reply["error"] or {}
                    code = error.get("code")
                    kind = SopsegCancelled if code == REQUEST_CANCELLED else SopsegError
                    raise kind(str(error.get("message", "unknown error")), code, error.get("data"))
                return reply.get("result")

    @staticmethod
    def _notification(
        message: dict[str, Any],
        request_id: int,
        progress: Optional[ProgressCallback],
        warning: Optional[WarningCallback],
    ) -> None:
        params = message.get("params") or {}
        if params.get("id") != request_id:
            return
        method = message.get("method")
        if method == "$/progress" and progress is not None:
            progress(int(params.get("done", 0)), int(params.get("total", 0)))
        elif method == "$/warning" and warning is not None:
            warning(str(params.get("message", "")))

    def segment(
        self,
        image: str | os.PathLike[str],
        detections: Mapping[str, Any],
        options: Optional[Mapping[str, Any]] = None,
        out: Optional[str | os.PathLike[str]] = None,
        *,
        progress: Optional[ProgressCallback] = None,
        warning: Optional[WarningCallback] = None,
        cancelled: Optional[CancelledCallback] = None,
        timeout: Optional[float] = None,
        max_boxes: int = MAX_BOXES_PER_REQUEST,
    ) -> dict[str, Any]:
        """`segment` one image: a GeoJSON FeatureCollection, one feature per detection in order.

        `detections`: `{"boxes": [{"corners": [[x, y]] * 4, "class"?: s, "score"?: n}]}` in
        pixel coordinates, `{"text": ..., "format"?: ...}` or `{"path": ..., "format"?: ...}`.
        With `out`, the server writes the collection there and answers where and how many (and,
        with `options["box_search"]`, `box_search`: boxes searched and masks from a moved box).

        Without `out`, boxes go in as many requests as the server's line limit and `max_boxes`
        ask for; their answers come back as one collection (`detection_index` counting all the
        boxes, progress over all of them) and an error names its box by its index in
        `detections["boxes"]`. A box with a NaN or infinite number is refused before anything
        is sent (SopsegError naming it). `warning(message)` gets each of the server's warnings
        about the inputs once (a raster note repeated by every part is passed on once).
        """
        if warning is not None:
            warning = once(warning)
        params: dict[str, Any] = {"image": str(image), "detections": dict(detections)}
        if options:
            params["options"] = dict(options)
        boxes = detections.get("boxes")
        if out is not None or not isinstance(boxes, list):
            if out is not None:
                params["out"] = str(out)
            return self.request(
                "segment",
                params,
                progress=progress,
                warning=warning,
                cancelled=cancelled,
                timeout=timeout,
            )
        parts = self._box_parts(params, boxes, max_boxes)
        collection: dict[str, Any] = {}
        features: list[Any] = []
        for start, end in parts:
            if start > 0 and cancelled is not None and cancelled():
                raise SopsegCancelled("Request cancelled", REQUEST_CANCELLED)
            part = dict(params, detections={"boxes": boxes[start:end]})
            part_progress = (
                None
                if progress is None
                else lambda done, _total, start=start: progress(start + done, len(boxes))
            )
            try:
                answer = self.request(
                    "segment",
                    part,
                    progress=part_progress,
                    warning=warning,
                    cancelled=cancelled,
                    timeout=timeout,
                )
            except SopsegError as e:
                if start == 0:
                    raise
                raise type(e)(
                    shift_box_indexes(e.message, start), e.code, shift_box_indexes(e.data, start)
                ) from e
            if not isinstance(answer, dict):
                raise SopsegError(f"segment answered {answer!r}, not a FeatureCollection")
            for feature in answer.get("features") or []:
                props = feature.setdefault("properties", {})
                props["detection_index"] = start + int(props.get("detection_index", 0))
                features.append(feature)
            collection = answer
        collection["features"] = features
        return collection

    def _box_parts(
        self, params: Mapping[str, Any], boxes: Sequence[Any], max_boxes: int
    ) -> list[tuple[int, int]]:
        """`[start, end)` ranges of `boxes` whose `segment` requests (`params` with those boxes)
        each fit the server's line limit and hold at most `max_boxes` boxes."""
        limit = int(
            ((self.initialize_result or {}).get("capabilities") or {}).get("maxLineBytes")
            or self.max_line_bytes
        )
        envelope = {"jsonrpc": "2.0", "id": 10**15, "method": "segment"}
        empty = dict(params, detections={"boxes": []})
        budget = limit - len(encode_json(dict(envelope, params=empty)))
        parts: list[tuple[int, int]] = []
        start, size = 0, 0
        for i, box in enumerate(boxes):
            field = f"detections.boxes[{i}]"
            try:
                cost = len(encode_json(box, field)) + 1  # and its comma
            except ValueError as e:
                raise SopsegError(f"Cannot send segment: {e}") from None
            if cost > budget:
                raise SopsegError(
                    f"Cannot send segment: {field} is {cost} bytes, more than a request line may "
                    f"hold besides the image and options ({budget} of the server's {limit}, "
                    "--max-line-bytes)"
                )
            if i > start and (size + cost > budget or i - start >= max_boxes):
                parts.append((start, i))
                start, size = i, 0
            size += cost
        parts.append((start, len(boxes)))
        return parts

    # -- ending --------------------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> Optional[int]:
        """`shutdown`, then `exit`; waits for the process and returns its exit code.

        If the server does not end within `timeout` seconds it is killed.
        """
        if self._process is None:
            return None
        if self._process.poll() is None:
            try:
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
            except SopsegError:
                pass
            try:
                if self._process.stdin is not None:
                    self._process.stdin.close()
            except OSError:
                pass
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        code = self._process.wait()
        self._release()
        return code

    def _release(self) -> None:
        """Let the reader threads reach EOF, then close the pipes."""
        assert self._process is not None
        for reader in self._readers:
            reader.join(timeout=5)
        for pipe in (self._process.stdin, self._process.stdout, self._process.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass

    def kill(self) -> None:
        """End the process (and the Deno processes it started) at once."""
        if self._process is None or self._process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self._process.pid, signal.SIGKILL)
            else:
                self._process.kill()
        except (ProcessLookupError, PermissionError):
            pass
        self._process.wait()
        self._release()

    def __enter__(self) -> "SopsegServer":
        if self._process is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.kill()
