"""sopseg_client against the real server (`deno task serve`), on a real DOTA image read in place.

No QGIS needed. One server serves the module's tests (the model loads once, as in QGIS);
the tests that end a server start their own.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest
from conftest import DOTA_IMAGE, DOTA_LABELS, ROOT, dota_boxes, missing, require_files
from sopseg_qgis.sopseg_client import (
    REQUEST_CANCELLED,
    SopsegCancelled,
    SopsegError,
    SopsegServer,
    encode_json,
    find_deno,
    serve_command,
)

SERVER_FLAGS = {"backend": "wasm", "threads": 2}
# --max-line-bytes of `small_server`: the sample's 64 boxes take about 7 kB, so 3 requests
SMALL_LINE = 3072


def require_server() -> None:
    """deno on PATH and a `serve` task in deno.json, and the DOTA sample."""
    require_files(DOTA_IMAGE, DOTA_LABELS)
    if not shutil.which("deno"):
        missing("deno is not on PATH")
    tasks = json.loads((ROOT / "deno.json").read_text()).get("tasks", {})
    if "serve" not in tasks:
        missing("deno.json has no serve task: the sopseg server is not there")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def server(out_dir: Path) -> Iterator[SopsegServer]:
    require_server()
    with SopsegServer(
        ROOT, read=[DOTA_IMAGE.parent, DOTA_LABELS.parent], write=[out_dir], **SERVER_FLAGS
    ) as s:
        yield s


@pytest.fixture(scope="module")
def small_server() -> Iterator[SopsegServer]:
    """A server whose request lines hold SMALL_LINE bytes at most: a layer too big for one
    request, in small."""
    require_server()
    with SopsegServer(
        ROOT, read=[DOTA_IMAGE.parent], max_line_bytes=SMALL_LINE, **SERVER_FLAGS
    ) as s:
        yield s


def boxes(n: int | None = None) -> list[dict]:
    chosen = dota_boxes()[:n]
    return [dict(b, score=round(0.5 + i / 256, 4)) for i, b in enumerate(chosen)]


def ring_bounds(geometry: dict) -> tuple[float, float, float, float]:
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    xs = [p[0] for polygon in polygons for p in polygon[0]]
    ys = [p[1] for polygon in polygons for p in polygon[0]]
    return min(xs), min(ys), max(xs), max(ys)


def test_serve_command_passes_the_flags() -> None:
    argv = serve_command("deno", read=["/a", "/b"], write=["/o"], backend="wasm", threads=2)
    assert argv == [
        "deno", "task", "--quiet", "serve", "--read", "/a", "--read", "/b",
        "--write", "/o", "--backend", "wasm", "--threads", "2",
    ]  # fmt: skip
    assert serve_command("deno", small_graphs="64")[-2:] == ["--small-graphs", "64"]
    assert serve_command("deno", tta="main")[-2:] == ["--tta", "main"]
    assert "--tta" not in serve_command("deno")
    assert serve_command("deno", max_line_bytes=4096)[-2:] == ["--max-line-bytes", "4096"]


def test_find_deno_names_a_missing_configured_path() -> None:
    with pytest.raises(FileNotFoundError, match="/nowhere/deno"):
        find_deno("/nowhere/deno")


def test_initialize_reports_protocol_model_and_backend(server: SopsegServer) -> None:
    info = server.initialize_result
    assert info is not None
    assert info["protocolVersion"] == "1.4"
    assert info["backend"] == "wasm"
    assert isinstance(info["model"], dict) and isinstance(info["server"]["name"], str)


def test_segment_answers_one_feature_per_box_in_order(server: SopsegServer) -> None:
    sent = boxes(6)
    collection = server.segment(DOTA_IMAGE, {"boxes": sent})
    assert collection["type"] == "FeatureCollection"
    assert collection["sopseg:coordinates"] == "pixel"  # a PNG without georeference
    features = collection["features"]
    assert [f["properties"]["detection_index"] for f in features] == list(range(6))
    for box, feature in zip(sent, features):
        props = feature["properties"]
        assert props["class"] == box["class"] and props["score"] == box["score"]
        assert 0 <= props["predicted_iou"] <= 1 and props["area_px"] > 0
        # The mask lies around its box (corners may be off the object by a few pixels).
        x0, y0, x1, y1 = ring_bounds(feature["geometry"])
        bx = [p[0] for p in box["corners"]]
        by = [p[1] for p in box["corners"]]
        assert x0 < max(bx) and x1 > min(bx) and y0 < max(by) and y1 > min(by)


def test_segment_streams_progress_to_the_callback(server: SopsegServer) -> None:
    seen: list[tuple[int, int]] = []
    collection = server.segment(
        DOTA_IMAGE, {"boxes": boxes()}, progress=lambda d, t: seen.append((d, t))
    )
    assert len(collection["features"]) == len(dota_boxes())
    assert seen, "no $/progress notification"
    assert all(t == seen[0][1] and 0 <= d <= t for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_segment_passes_the_server_warnings_to_the_callback_once(
    server: SopsegServer, small_server: SopsegServer
) -> None:
    """`$/warning` notifications (here: a box off the image) reach `warning`, those of the
    request only, a message repeated by the parts of a split request once."""
    far = {"corners": [[5000, 5000], [5040, 5000], [5040, 5020], [5000, 5020]], "class": "ship"}
    seen: list[str] = []
    collection = server.segment(DOTA_IMAGE, {"boxes": [*boxes(1), far]}, warning=seen.append)
    assert len(collection["features"]) == 2 and collection["features"][1]["geometry"] is None
    assert len(seen) == 1 and "1 of 2 detection(s) lie entirely outside the image" in seen[0]
    seen.clear()
    assert server.segment(DOTA_IMAGE, {"boxes": boxes(2)}, warning=seen.append)["features"]
    assert seen == []
    # Every part of a split request holds off-image boxes only: the same message each time.
    many = [far] * 60
    parts = small_server.segment(DOTA_IMAGE, {"boxes": many}, warning=seen.append, timeout=120)
    assert len(parts["features"]) == 60
    assert len(set(seen)) == len(seen) >= 1, seen


def test_detections_as_dota_text(server: SopsegServer) -> None:
    result = server.segment(DOTA_IMAGE, {"text": DOTA_LABELS.read_text(), "format": "dota"})
    assert len(result["features"]) == len(dota_boxes())


def test_out_writes_the_collection_and_answers_where(server: SopsegServer, out_dir: Path) -> None:
    out = out_dir / "P1888.geojson"
    result = server.segment(DOTA_IMAGE, {"path": str(DOTA_LABELS)}, out=out)
    assert str(out) in json.dumps(result)
    written = json.loads(out.read_text())
    assert len(written["features"]) == len(dota_boxes())


def test_cancel_answers_32800_and_the_server_stays_ready(server: SopsegServer) -> None:
    calls = {"polled": 0}

    def cancelled() -> bool:
        calls["polled"] += 1
        return calls["polled"] >= 3  # a few polls in: the request is running

    many = {"boxes": boxes() * 4}
    with pytest.raises(SopsegCancelled) as caught:
        server.segment(DOTA_IMAGE, many, cancelled=cancelled)
    assert caught.value.code == REQUEST_CANCELLED
    assert len(server.segment(DOTA_IMAGE, {"boxes": boxes(1)})["features"]) == 1


def test_missing_image_is_an_application_error_naming_it(server: SopsegServer) -> None:
    with pytest.raises(SopsegError) as caught:
        server.segment(DOTA_IMAGE.parent / "nope.png", {"boxes": boxes(1)})
    assert caught.value.code is not None and -32099 <= caught.value.code <= -32000
    assert "nope.png" in caught.value.message


def test_path_outside_the_roots_names_the_flag(server: SopsegServer) -> None:
    with pytest.raises(SopsegError) as caught:
        server.segment(ROOT / "README.md", {"boxes": boxes(1)})
    assert caught.value.code is not None and -32099 <= caught.value.code <= -32000
    assert "--read" in caught.value.message


def test_bad_params_and_unknown_methods_are_protocol_errors(server: SopsegServer) -> None:
    with pytest.raises(SopsegError) as caught:
        server.request("segment", {"image": 5, "detections": {"boxes": []}})
    assert caught.value.code == -32602 and "image" in caught.value.message
    with pytest.raises(SopsegError) as caught:
        server.request("no_such_method", {})
    assert caught.value.code == -32601


def test_an_error_with_a_null_id_answers_the_waiting_request(small_server: SopsegServer) -> None:
    """A line over --max-line-bytes is answered -32006 with id null (the server cannot read the
    id): the request waiting gets it at once, and the next request its own answer."""
    params = {"image": str(DOTA_IMAGE), "detections": {"boxes": boxes()}}
    assert len(encode_json(params)) > SMALL_LINE
    began = time.monotonic()
    with pytest.raises(SopsegError) as caught:
        small_server.request("segment", params, timeout=60)
    assert caught.value.code == -32006 and "--max-line-bytes" in caught.value.message
    assert caught.value.data["limit"] == SMALL_LINE
    assert time.monotonic() - began < 30
    answer = small_server.segment(DOTA_IMAGE, {"boxes": boxes(1)}, timeout=60)
    assert len(answer["features"]) == 1


def test_boxes_over_the_line_limit_go_in_several_requests(
    server: SopsegServer, small_server: SopsegServer
) -> None:
    """The answer is the one-request answer: every feature, detection_index over all the boxes,
    progress over all of them."""
    sent = boxes()
    line = encode_json({"image": str(DOTA_IMAGE), "detections": {"boxes": sent}})
    assert len(line) > 2 * SMALL_LINE  # 3 requests at least
    whole = server.segment(DOTA_IMAGE, {"boxes": sent})
    seen: list[tuple[int, int]] = []
    parts = small_server.segment(
        DOTA_IMAGE, {"boxes": sent}, progress=lambda d, t: seen.append((d, t)), timeout=120
    )
    assert parts["features"] == whole["features"]
    assert {k: v for k, v in parts.items() if k != "features"} == {
        k: v for k, v in whole.items() if k != "features"
    }
    assert seen and seen[-1] == (len(sent), len(sent))
    assert all(t == len(sent) for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_an_error_about_a_box_of_a_later_request_names_its_index_among_all(
    small_server: SopsegServer,
) -> None:
    sent = boxes()
    sent[50]["class"] = ""
    with pytest.raises(SopsegError) as caught:
        small_server.segment(DOTA_IMAGE, {"boxes": sent}, timeout=120)
    assert caught.value.code == -32602
    assert "detections.boxes[50].class" in caught.value.message
    assert caught.value.data == {"field": "detections.boxes[50].class"}


def test_nan_and_infinity_are_refused_before_sending_naming_the_field(
    server: SopsegServer,
) -> None:
    """JSON has no NaN: sent as is, the line was a parse error the client never matched."""
    sent = boxes(3)
    sent[2]["score"] = math.nan
    with pytest.raises(SopsegError, match=r"detections\.boxes\[2\]\.score is not a finite"):
        server.segment(DOTA_IMAGE, {"boxes": sent}, timeout=60)
    sent = boxes(2)
    sent[1]["corners"][3][0] = -math.inf
    params = {"image": str(DOTA_IMAGE), "detections": {"boxes": sent}}
    with pytest.raises(SopsegError, match=r"detections\.boxes\[1\]\.corners\[3\]\[0\] is not"):
        server.request("segment", params, timeout=60)
    assert len(server.segment(DOTA_IMAGE, {"boxes": boxes(1)}, timeout=60)["features"]) == 1


def test_close_shuts_down_with_exit_code_0() -> None:
    require_server()
    server = SopsegServer(ROOT, read=[DOTA_IMAGE.parent], **SERVER_FLAGS)
    server.start()
    assert server.close() == 0


def test_a_server_that_cannot_start_raises_with_its_stderr(tmp_path: Path) -> None:
    require_server()
    server = SopsegServer(ROOT, model=str(tmp_path / "no-model"), **SERVER_FLAGS)
    with pytest.raises(SopsegError) as caught:
        server.start()
    assert caught.value.code is None or caught.value.code <= -32000
    assert "no-model" in str(caught.value)


def test_a_server_that_exits_at_start_up_is_reported_with_its_stderr(tmp_path: Path) -> None:
    """A `deno` that writes why and exits at once (too old for the config, a broken wrapper, a
    flag it does not know): the error says it exited, with its code and its stderr, every time.
    The `initialize` line may hit a closed pipe or reach a process about to exit; either way
    the error waited for the stderr reader (once it came before the reader had read a line)."""
    deno = tmp_path / "bin" / "deno"
    deno.parent.mkdir()
    deno.write_text('#!/bin/sh\necho "error: unsupported flag \'--quiet\'" >&2\nexit 1\n')
    deno.chmod(0o755)
    (tmp_path / "deno.json").write_text(json.dumps({"tasks": {"serve": "deno run main.ts"}}))
    for attempt in range(12):
        logged: list[str] = []
        server = SopsegServer(tmp_path, deno=str(deno), log=logged.append)
        with pytest.raises(SopsegError) as caught:
            server.start(timeout=30)
        message = str(caught.value)
        assert message.startswith(
            "The sopseg server exited (code 1) before answering initialize:\n"
        ), (attempt, message)
        assert message.endswith("error: unsupported flag '--quiet'"), (attempt, message)
        assert "stdin" not in message and caught.value.code is None, (attempt, message)
        assert logged == ["error: unsupported flag '--quiet'"], (attempt, logged)
        assert server.returncode == 1


STUCK_SERVER = """
import json, sys, time
for line in sys.stdin:
    m = json.loads(line)
    if m.get("method") == "initialize":
        result = {"protocolVersion": "1.0", "server": {"name": "stuck", "version": "0"},
                  "model": {}, "backend": "wasm", "capabilities": {}}
        print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": result}), flush=True)
    elif m.get("method") == "segment":
        time.sleep(600)  # stuck in a model call: never reads the cancel
"""


def test_a_request_that_ignores_the_cancel_is_killed_after_the_grace(tmp_path: Path) -> None:
    """Not the real server: a stand-in that never answers, as a server stuck in WASM would."""
    if not shutil.which("deno"):
        missing("deno is not on PATH")
    (tmp_path / "stuck.py").write_text(STUCK_SERVER)
    serve = f"{shutil.which('python3') or 'python3'} {tmp_path / 'stuck.py'}"
    (tmp_path / "deno.json").write_text(json.dumps({"tasks": {"serve": serve}}))
    server = SopsegServer(tmp_path)
    server.start()
    with pytest.raises(SopsegCancelled, match="killed"):
        server.request("segment", {}, cancelled=lambda: True, cancel_grace=0.5)
    assert server.returncode is not None
