"""`qgis_process run sopseg:segment_detections`, headless, with the plugin installed two ways.

A GeoTIFF is made by GDAL from a DOTA sample (EPSG:32633), its oriented boxes become a
GeoPackage in map coordinates, and QGIS runs the algorithm with the plugin installed into a
temporary profile (XDG_DATA_HOME: the user's own profile is untouched):

- north-up raster, boxes in the raster's CRS, plugin from `deno task qgis:install`;
- rotated raster, boxes reprojected to EPSG:4326, plugin from the `deno task qgis:package` zip;
- the PNG itself, without georeference: boxes with a CRS refused, boxes drawn over it in QGIS's
  frame for it segmented;
- layers a user may have: empty classes, NaN scores, a NaN vertex, a box the server refuses.

The output must hold one valid feature per box, in the raster's CRS, whose prompt box in pixels
matches the labelTxt box and whose mask, taken through `gdaltransform`, matches the mask the
server gives for the same box on the PNG in pixel coordinates.

Debian's `qgis_process` wrapper passes --noversioncheck, which QGIS 3.22 rejects: the test calls
`qgis_process.bin`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator, Optional, Sequence

import pytest
from conftest import DOTA_IMAGE, DOTA_LABELS, ROOT, dota_boxes, missing, require_files
from sopseg_qgis.pixel_frame import GeoTransform, pixel_to_map
from sopseg_qgis.sopseg_client import SopsegServer
from test_client import require_server, ring_bounds

NORTH_UP: GeoTransform = (500000.0, 0.25, 0.0, 4500000.0, 0.0, -0.25)
# About 17 degrees of rotation, 0.25 m pixels.
ROTATED: GeoTransform = (500000.0, 0.239, 0.0731, 4500000.0, 0.0731, -0.239)
PIXEL_TOLERANCE = 1e-3
# Two WASM threads, from a profile folder as long as a user's: the path once decided whether
# onnxruntime-web's threaded WASM hung (shared memory grown mid-run; fixed in ort_adapter.ts,
# test/model/long_path_threads_test.ts).
# the small graphs only up to 64 px: the algorithm's advanced SMALL_GRAPHS option must reach the
# server, or the masks of the crops between 64 and 96 px differ from the fixture's
# and the main graphs' crops mirrored too (TTA=main): the masks of those crops change unless the
# option reaches the server
QGIS_FLAGS = {"backend": "wasm", "threads": 2, "small_graphs": "64", "tta": "main"}


def qgis_process() -> str:
    exe = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
    if not Path(exe).is_file():
        missing("QGIS is not installed (apt-get install qgis python3-qgis)")
    for tool in ["gdal_translate", "ogr2ogr", "gdaltransform"]:
        if not shutil.which(tool):
            missing(f"{tool} is not installed (gdal-bin)")
    try:
        from osgeo import ogr  # noqa: F401
    except ImportError:
        missing("python3-gdal is not installed")
    return exe


def run(argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, **kwargs)  # type: ignore
    assert (
        done.returncode == 0
    ), f"{argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def make_geotiff(folder: Path, gt: GeoTransform, sources: Sequence[int] = (1, 2, 3)) -> Path:
    """P1888.png as a GeoTIFF in EPSG:32633 with geotransform `gt` (via a VRT), its band k
    the PNG's band `sources[k - 1]` (default: RGB)."""
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{k}"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{DOTA_IMAGE}</SourceFilename>'
        f"<SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand>"
        for k, b in enumerate(sources, 1)
    )
    vrt = folder / "raster.vrt"
    vrt.write_text(
        f'<VRTDataset rasterXSize="712" rasterYSize="557"><SRS>EPSG:32633</SRS>'
        f"<GeoTransform>{', '.join(repr(v) for v in gt)}</GeoTransform>{bands}</VRTDataset>"
    )
    tif = folder / "raster.tif"
    run(["gdal_translate", "-q", "-of", "GTiff", "-co", "TILED=YES", str(vrt), str(tif)])
    return tif


def make_detections(folder: Path, gt: GeoTransform, epsg: int) -> Path:
    """The labelTxt boxes as a GeoPackage of polygons in EPSG:`epsg` (via EPSG:32633)."""
    features = []
    for i, box in enumerate(dota_boxes()):
        ring = pixel_to_map(gt, [tuple(p) for p in box["corners"]])
        features.append(
            {
                "type": "Feature",
                "properties": {"label": box["class"], "conf": 0.5 + i / 256},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    geojson = folder / "boxes.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    gpkg = folder / "boxes.gpkg"
    run(
        ["ogr2ogr", "-f", "GPKG", "-s_srs", "EPSG:32633", "-t_srs", f"EPSG:{epsg}"]
        + ["-nln", "boxes", str(gpkg), str(geojson)]
    )
    return gpkg


def qgis_env(home: Path) -> dict[str, str]:
    """Headless QGIS with its profiles and settings under `home` (never the user's own)."""
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
    )
    env.pop("SOPSEG_DIR", None)
    env.pop("SOPSEG_DENO", None)
    return env


def profiles(home: Path) -> Path:
    return home / "data" / "QGIS" / "QGIS3" / "profiles"


def installed(home: Path) -> dict[str, str]:
    """`qgis_env(home)` with the plugin installed there by `deno task qgis:install`."""
    run(["deno", "task", "qgis:install", "--profiles-dir", str(profiles(home))], cwd=ROOT)
    return qgis_env(home)


def run_algorithm(
    exe: str, env: dict[str, str], tif: Path, gpkg: Path, out: Path, extra: Sequence[str] = ()
) -> str:
    args = [
        *extra,
        f"RASTER={tif}",
        f"DETECTIONS={gpkg}",
        "CLASS_FIELD=label",
        "SCORE_FIELD=conf",
        f"BACKEND={QGIS_FLAGS['backend']}",
        f"THREADS={QGIS_FLAGS['threads']}",
        f"SMALL_GRAPHS={QGIS_FLAGS['small_graphs']}",
        f"TTA={QGIS_FLAGS['tta']}",
        f"OUTPUT={out}",
    ]
    done = run([exe, "run", "sopseg:segment_detections", "--", *args], env=env, timeout=300)
    assert out.is_file(), done.stdout + done.stderr
    return done.stdout


def refused_run(argv: Sequence[str], env: dict[str, str]) -> str:
    """The output of a qgis_process run that must fail."""
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode != 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def refused_output(exe: str, env: dict[str, str], raster: Path, detections: Path, out: Path) -> str:
    """The output of a `segment_detections` run that must fail (no output written)."""
    return refused_run(
        [exe, "run", "sopseg:segment_detections", "--", f"RASTER={raster}"]
        + [f"DETECTIONS={detections}", "CLASS_FIELD=label", "SCORE_FIELD=conf"]
        + [f"BACKEND={QGIS_FLAGS['backend']}", f"THREADS={QGIS_FLAGS['threads']}", f"OUTPUT={out}"],
        env,
    )


def write_csv(path: Path, rows: Sequence[tuple[Optional[list[tuple[float, float]]], str]]) -> Path:
    """A CSV layer of (ring, label) rows, conf 0.5 + row / 256, WKT geometries (None: empty):
    a layer without a CRS (no .prj). QGIS numbers its features from 1."""
    lines = ["WKT,label,conf"]
    for i, (ring, label) in enumerate(rows):
        points = "" if ring is None else ",".join(f"{x!r} {y!r}" for x, y in [*ring, ring[0]])
        wkt = f"POLYGON(({points}))" if points else ""
        lines.append(f'"{wkt}","{label}",{0.5 + i / 256!r}')
    path.write_text("\n".join(lines) + "\n")
    path.with_suffix(".csvt").write_text("WKT,String,Real\n")
    return path


def write_geojson(
    path: Path, rows: Sequence[tuple[Optional[list[tuple[float, float]]], str, float]]
) -> Path:
    """A GeoJSON layer of (ring, label, conf) rows in EPSG:32633 (a `crs` member; a ring of
    None: no geometry), written as Python writes JSON: NaN and Infinity as such (GDAL reads
    them). QGIS numbers its features from 0."""
    features = [
        {
            "type": "Feature",
            "properties": {"label": label, "conf": conf},
            "geometry": None
            if ring is None
            else {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        }
        for ring, label, conf in rows
    ]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": features}))
    return path


def server_masks(options: Optional[dict] = None) -> dict[int, dict]:
    """The server's masks for the labelTxt boxes on the PNG, in pixel coordinates."""
    require_server()
    with SopsegServer(ROOT, read=[DOTA_IMAGE.parent], **QGIS_FLAGS) as server:
        sent = [dict(b, score=0.5 + i / 256) for i, b in enumerate(dota_boxes())]
        collection = server.segment(DOTA_IMAGE, {"boxes": sent}, options)
    assert collection["sopseg:coordinates"] == "pixel"
    return {f["properties"]["detection_index"]: f for f in collection["features"]}


@pytest.fixture(scope="module")
def pixel_masks() -> dict[int, dict]:
    return server_masks()


@pytest.fixture(scope="module")
def pixel_masks_no_class() -> dict[int, dict]:
    """Without the class prompt (CLASS_PROMPT=false): other masks, so the option must reach
    the server for the algorithm's output to match them."""
    masks = server_masks({"class_prompt": False})
    assert masks != server_masks(), "the class prompt changes no mask: the check would be blind"
    return masks


def gdal_pixel_to_map(raster: Path, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pixel-frame points to map coordinates by GDAL itself (gdaltransform, no CRS change)."""
    out = run(
        ["gdaltransform", str(raster)], input="".join(f"{x} {y}\n" for x, y in points)
    ).stdout.split("\n")
    return [(float(line.split()[0]), float(line.split()[1])) for line in out[: len(points)]]


def check_output(
    out: Path,
    raster: Path,
    gt: GeoTransform,
    pixel_masks: dict[int, dict],
    epsg: int,
    from_records: bool = False,
) -> None:
    """`from_records`: the boxes came from a JSON results file in `dota_boxes()` order, so each
    mask names its record there (`source_record`); from a layer, no record."""
    from osgeo import ogr, osr

    boxes = dota_boxes()
    dataset = ogr.Open(str(out))
    assert dataset is not None and dataset.GetLayerCount() == 1
    layer = dataset.GetLayer(0)
    srs = layer.GetSpatialRef()
    assert srs is not None
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "32633"
    expected_srs = osr.SpatialReference()
    expected_srs.ImportFromEPSG(32633)
    assert srs.IsSame(expected_srs)
    features = list(layer)
    assert len(features) == len(boxes)
    pixel = math.hypot(gt[1], gt[4])
    for feature in features:
        index = feature.GetField("detection_index")
        box, mask = boxes[index], pixel_masks[index]
        props = mask["properties"]
        assert feature.GetField("class") == box["class"]
        assert math.isclose(feature.GetField("score"), 0.5 + index / 256, abs_tol=1e-9)
        geometry = feature.GetGeometryRef()
        assert geometry is not None and not geometry.IsEmpty() and geometry.IsValid()
        # The plugin took the box to the pixel frame: it matches the labelTxt box.
        obb_pixel = json.loads(feature.GetField("obb_pixel"))
        for got, want in zip(obb_pixel, props["obb_pixel"]):
            assert abs(got - want) < PIXEL_TOLERANCE * 10, (index, obb_pixel, props["obb_pixel"])
        assert feature.GetField("area_px") == props["area_px"]
        # the GeoPackage stores booleans as 0/1
        assert bool(feature.GetField("in_training_classes")) == props["in_training_classes"]
        assert feature.GetField("box_moved") is None  # no BOX_SEARCH
        assert feature.GetField("source_line") is None
        assert feature.GetField("source_record") == (index if from_records else None)
    # A few masks: their outline in map coordinates is the pixel-frame outline through GDAL.
    for index in [0, 17, 40, len(boxes) - 1]:
        feature = next(f for f in features if f.GetField("detection_index") == index)
        geometry = pixel_masks[index]["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        ring = [(p[0], p[1]) for p in polygons[0][0]]
        mapped = gdal_pixel_to_map(raster, ring)
        xs, ys = [p[0] for p in mapped], [p[1] for p in mapped]
        minx, maxx, miny, maxy = feature.GetGeometryRef().GetEnvelope()
        if len(polygons) == 1:
            for got, want in zip((minx, maxx, miny, maxy), (min(xs), max(xs), min(ys), max(ys))):
                assert abs(got - want) < PIXEL_TOLERANCE * pixel, (index, got, want)
        # Every outline vertex from GDAL is a vertex of the QGIS output.
        output_points = set()
        multi = feature.GetGeometryRef()
        for k in range(multi.GetGeometryCount()):
            outer = multi.GetGeometryRef(k).GetGeometryRef(0)
            output_points.update(
                (round(outer.GetX(i) / pixel, 2), round(outer.GetY(i) / pixel, 2))
                for i in range(outer.GetPointCount())
            )
        near = sum((round(x / pixel, 2), round(y / pixel, 2)) in output_points for x, y in mapped)
        assert near >= 0.95 * len(mapped), (index, near, len(mapped))


@pytest.fixture(scope="module")
def data_ready() -> Iterator[None]:
    require_files(DOTA_IMAGE, DOTA_LABELS)
    yield


@pytest.fixture
def qgis_home() -> Iterator[Path]:
    """A short folder for QGIS's profiles: the zip's sopseg folder then sits at a path as long
    as in a user's profile (~85 characters), one of the lengths that hung 2 WASM threads before
    the shared-memory fix."""
    home = Path(tempfile.mkdtemp(prefix="sq"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_qgis_process_with_the_installed_plugin(
    tmp_path: Path, qgis_home: Path, data_ready: None, pixel_masks: dict[int, dict]
) -> None:
    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP)
    gpkg = make_detections(tmp_path, NORTH_UP, 32633)
    env = qgis_env(qgis_home)
    run(["deno", "task", "qgis:install", "--profiles-dir", str(profiles(qgis_home))], cwd=ROOT)
    listed = run([exe, "plugins"], env=env).stdout
    assert "* sopseg_qgis" in listed, listed
    out = tmp_path / "out.gpkg"
    run_algorithm(exe, env, tif, gpkg, out)
    check_output(out, tif, NORTH_UP, pixel_masks, 32633)


def test_qgis_process_with_the_zip_on_a_rotated_raster_and_wgs84_boxes(
    tmp_path: Path, qgis_home: Path, data_ready: None, pixel_masks_no_class: dict[int, dict]
) -> None:
    """The packaged plugin, a rotated raster, boxes in WGS84, and CLASS_PROMPT=false."""
    exe = qgis_process()
    tif = make_geotiff(tmp_path, ROTATED)
    gpkg = make_detections(tmp_path, ROTATED, 4326)
    env = qgis_env(qgis_home)
    run(["deno", "task", "qgis:package"], cwd=ROOT)
    version = next(
        line.split("=", 1)[1].strip()
        for line in (ROOT / "qgis" / "sopseg_qgis" / "metadata.txt").read_text().splitlines()
        if line.startswith("version=")
    )
    plugins = profiles(qgis_home) / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(ROOT / "dist" / f"sopseg_qgis-{version}.zip") as z:
        names = z.namelist()
        assert "sopseg_qgis/metadata.txt" in names
        assert "sopseg_qgis/sopseg/models/sopseg-lite/encoder.onnx" in names
        assert not any("config.json" in n or "__pycache__" in n for n in names)
        z.extractall(plugins)  # what QGIS's "Install from ZIP" does
    run([exe, "plugins", "enable", "sopseg_qgis"], env=env)
    out = tmp_path / "out.gpkg"
    run_algorithm(exe, env, tif, gpkg, out, ["CLASS_PROMPT=false"])
    check_output(out, tif, ROTATED, pixel_masks_no_class, 32633)


def test_qgis_process_segments_a_detector_output_file(
    tmp_path: Path, qgis_home: Path, data_ready: None, pixel_masks: dict[int, dict]
) -> None:
    """`sopseg:segment_detection_file` on mmrotate JSON results (two images' records, class
    ids, the raster under another id) and a 4-band raster whose red, green, blue are bands
    3, 2, 1 (BANDS=3,2,1): the masks of the box-layer algorithm on the RGB raster, in the
    raster's CRS; a file of [cx, cy, w, h, angle] boxes without the angle convention is
    refused."""
    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP, sources=(3, 2, 1, 1))
    boxes = dota_boxes()
    names = sorted({b["class"] for b in boxes})
    records = [
        {
            "image_id": "P1888",
            "bbox": [v for p in b["corners"] for v in p],
            "score": 0.5 + i / 256,
            "category_id": names.index(b["class"]),
        }
        for i, b in enumerate(boxes)
    ]
    other = {"image_id": "P0706", "bbox": [10, 10, 30, 10, 30, 20, 10, 20], "category_id": 0}
    records.append(dict(other, score=1.0))
    results = tmp_path / "results.bbox.json"
    results.write_text(json.dumps(records))
    env = qgis_env(qgis_home)
    run(["deno", "task", "qgis:install", "--profiles-dir", str(profiles(qgis_home))], cwd=ROOT)
    out = tmp_path / "out.gpkg"
    common = [
        f"RASTER={tif}",
        f"BACKEND={QGIS_FLAGS['backend']}",
        f"THREADS={QGIS_FLAGS['threads']}",
        f"SMALL_GRAPHS={QGIS_FLAGS['small_graphs']}",
        f"TTA={QGIS_FLAGS['tta']}",
    ]
    args = [
        f"DETECTIONS_FILE={results}",
        f"CLASSES={','.join(names)}",
        "IMAGE_ID=P1888",
        "BANDS=3,2,1",
        f"OUTPUT={out}",
    ]
    run([exe, "run", "sopseg:segment_detection_file", "--", *common, *args], env=env, timeout=300)
    check_output(out, tif, NORTH_UP, pixel_masks, 32633, from_records=True)

    rboxes = tmp_path / "rboxes.bbox.json"
    rbox = {"image_id": "raster", "bbox": [50, 50, 20, 10, 0.1], "score": 0.9, "category_id": 0}
    rboxes.write_text(json.dumps([rbox]))
    algorithm = [exe, "run", "sopseg:segment_detection_file", "--", *common]
    refused = refused_run(
        [*algorithm, f"DETECTIONS_FILE={rboxes}", f"OUTPUT={tmp_path / 'refused.gpkg'}"], env
    )
    assert "detections.angle_convention is required" in refused
    le90 = tmp_path / "le90.gpkg"
    run(
        [*algorithm, f"DETECTIONS_FILE={rboxes}", "ANGLE_CONVENTION=le90", f"OUTPUT={le90}"],
        env=env,
        timeout=300,
    )
    from osgeo import ogr

    dataset = ogr.Open(str(le90))  # kept: its layer dies with it
    obb = [json.loads(f.GetField("obb_pixel")) for f in dataset.GetLayer(0)]
    assert len(obb) == 1
    assert [round(v, 6) for v in obb[0][:4]] == [50, 50, 20, 10]
    assert math.isclose(obb[0][4], math.degrees(0.1), abs_tol=1e-3)  # written to 4 decimals


def test_qgis_process_file_algorithm_refuses_geojson_in_a_third_crs_before_starting(
    tmp_path: Path, qgis_home: Path, data_ready: None
) -> None:
    """A GeoJSON detection file in EPSG:3857 beside a raster in EPSG:32633 is refused by
    `sopseg:segment_detection_file` with both CRSs named and the way to reproject it (the server
    reads GeoJSON in the raster's CRS or WGS84 only); the same boxes in EPSG:32633 run (with
    BOX_SEARCH on)."""
    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP)
    features = []
    for box in dota_boxes()[:2]:
        ring = pixel_to_map(NORTH_UP, [tuple(p) for p in box["corners"]])
        features.append(
            {
                "type": "Feature",
                "properties": {"class": box["class"]},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    plain = tmp_path / "plain.geojson"
    plain.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    files = {}
    for epsg in (32633, 3857):
        files[epsg] = tmp_path / f"boxes_{epsg}.geojson"
        run(
            ["ogr2ogr", "-f", "GeoJSON", "-s_srs", "EPSG:32633", "-t_srs", f"EPSG:{epsg}"]
            + ["-lco", "RFC7946=NO", str(files[epsg]), str(plain)]
        )
        assert f"EPSG::{epsg}" in files[epsg].read_text()  # the file names its CRS
    env = installed(qgis_home)
    algorithm = [exe, "run", "sopseg:segment_detection_file", "--", f"RASTER={tif}"]
    algorithm += [f"BACKEND={QGIS_FLAGS['backend']}", f"THREADS={QGIS_FLAGS['threads']}"]
    refused_out = tmp_path / "refused.gpkg"
    said = refused_run([*algorithm, f"DETECTIONS_FILE={files[3857]}", f"OUTPUT={refused_out}"], env)
    assert "are in EPSG:3857 and the raster in EPSG:32633" in said, said
    assert "sopseg:segment_detections" in said, said
    assert "sopseg server" not in said  # refused before a server was started
    assert not refused_out.exists()
    out = tmp_path / "out.gpkg"
    # BOX_SEARCH reaches the server as options.box_search (a misnamed option is refused there)
    args = [f"DETECTIONS_FILE={files[32633]}", "BOX_SEARCH=true", f"OUTPUT={out}"]
    run([*algorithm, *args], env=env, timeout=300)
    from osgeo import ogr

    dataset = ogr.Open(str(out))  # kept: its layer dies with it
    layer = dataset.GetLayer(0)
    assert layer.GetFeatureCount() == 2
    # the box_moved column, empty for these vehicles (crops under 96 px: not searched)
    assert layer.GetLayerDefn().GetFieldIndex("box_moved") >= 0
    assert [f.GetField("box_moved") for f in layer] == [None, None]


def test_qgis_process_on_a_raster_without_georeference(
    tmp_path: Path, qgis_home: Path, data_ready: None, pixel_masks: dict[int, dict]
) -> None:
    """P1888.png has no CRS. Boxes in EPSG:4326 are refused, naming both layers (taken for
    pixels, their degrees gave empty masks); boxes drawn over it as QGIS shows it (a layer
    without a CRS, y minus the row), an empty and a blank class among them (sent as none), give
    the masks of the boxes sent in pixels; a box the server finds degenerate is named by its
    feature id, not its place in the request."""
    from osgeo import ogr

    exe = qgis_process()
    png = tmp_path / "P1888.png"
    shutil.copy(DOTA_IMAGE, png)  # QGIS may write a .aux.xml beside it: not in ../shared/data
    env = installed(qgis_home)

    output = refused_output(
        exe, env, png, make_detections(tmp_path, NORTH_UP, 4326), tmp_path / "r.gpkg"
    )
    assert "has no CRS" in output and "'P1888'" in output, output
    assert "'boxes'" in output and "EPSG:4326" in output, output

    boxes = dota_boxes()[:6]
    rows = [([(x, -y) for x, y in b["corners"]], b["class"]) for b in boxes]
    rows[0] = (rows[0][0], "")
    rows[1] = (rows[1][0], "   ")
    out = tmp_path / "out.gpkg"
    run_algorithm(exe, env, png, write_csv(tmp_path / "boxes.csv", rows), out)
    dataset = ogr.Open(str(out))  # kept: its layer dies with it
    features = sorted(dataset.GetLayer(0), key=lambda f: f.GetField("detection_index"))
    assert [f.GetField("detection_index") for f in features] == list(range(len(boxes)))
    assert [f.GetField("detection_fid") for f in features] == list(range(1, len(boxes) + 1))
    assert [f.GetField("class") for f in features] == ["object"] * 2 + [
        b["class"] for b in boxes[2:]
    ]
    for index, feature in enumerate(features):
        assert math.isclose(feature.GetField("score"), 0.5 + index / 256, abs_tol=1e-9)
        geometry = feature.GetGeometryRef()
        assert geometry is not None and not geometry.IsEmpty() and geometry.IsValid()
        minx, maxx, miny, maxy = geometry.GetEnvelope()
        xs = [x for x, _ in rows[index][0]]
        ys = [y for _, y in rows[index][0]]
        assert minx < max(xs) and maxx > min(xs) and miny < max(ys) and maxy > min(ys), index
        if index >= 2:  # the same class as the pixel-frame masks: the same mask, y flipped
            mask = pixel_masks[index]
            assert feature.GetField("area_px") == mask["properties"]["area_px"]
            x0, y0, x1, y1 = ring_bounds(mask["geometry"])
            for got, want in zip((minx, maxx, miny, maxy), (x0, x1, -y1, -y0)):
                assert abs(got - want) < PIXEL_TOLERANCE, (index, got, want)

    # Row 1 has no geometry (skipped); the third box, 1e-7 px high, is flat once rounded.
    thin = [(100.0, -100.0), (120.0, -100.0), (120.0, -100.0000001), (100.0, -100.0000001)]
    rows = [(None, "ship"), rows[2], (thin, "ship")]
    output = refused_output(
        exe, env, png, write_csv(tmp_path / "thin.csv", rows), tmp_path / "t.gpkg"
    )
    assert "degenerate box" in output, output
    assert "detections.boxes[1] (feature id 3 in the detections layer)" in output, output


def test_qgis_process_with_nan_scores_and_a_nan_vertex(
    tmp_path: Path, qgis_home: Path, data_ready: None, pixel_masks: dict[int, dict]
) -> None:
    """A NaN or infinite score is sent as no score (JSON has no NaN: the server could not read
    the request, and the client waited for an answer forever); a NaN vertex stops the run
    naming its feature. A box off the raster gets no mask, and the server's warning about it
    reaches the algorithm's log."""
    from osgeo import ogr

    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP)
    env = installed(qgis_home)
    boxes = dota_boxes()[:4]
    scores = [0.5, math.nan, math.inf, -math.inf]
    rings = [pixel_to_map(NORTH_UP, [tuple(p) for p in b["corners"]]) for b in boxes]
    rows = [(ring, b["class"], score) for ring, b, score in zip(rings, boxes, scores)]
    far = pixel_to_map(NORTH_UP, [(5000, 5000), (5040, 5000), (5040, 5020), (5000, 5020)])
    out = tmp_path / "out.gpkg"
    log = run_algorithm(
        exe, env, tif, write_geojson(tmp_path / "nan.geojson", [*rows, (far, "ship", 0.9)]), out
    )
    dataset = ogr.Open(str(out))  # kept: its layer dies with it
    features = sorted(dataset.GetLayer(0), key=lambda f: f.GetField("detection_index"))
    assert len(features) == len(boxes) + 1
    assert features[0].GetField("score") == 0.5
    assert [f.IsFieldNull("score") for f in features] == [False, True, True, True, False]
    for index, feature in enumerate(features[: len(boxes)]):
        assert feature.GetField("class") == boxes[index]["class"]
        assert feature.GetField("area_px") == pixel_masks[index]["properties"]["area_px"]
    assert features[-1].GetField("area_px") == 0
    assert "1 of 5 detection(s) lie entirely outside the image" in log, log

    rows[2] = ([(math.nan, rings[2][0][1]), *rings[2][1:]], boxes[2]["class"], 0.5)
    geojson = write_geojson(tmp_path / "nan_vertex.geojson", rows)
    output = refused_output(exe, env, tif, geojson, tmp_path / "refused.gpkg")
    assert "feature id 2" in output and "not a finite number" in output, output


def feature_json(geometry: dict, label: str, conf: float) -> dict:
    return {
        "type": "Feature",
        "properties": {"label": label, "conf": conf},
        "geometry": geometry,
    }


def test_qgis_process_skips_points_lines_and_multipolygons_of_several_parts(
    tmp_path: Path, qgis_home: Path, data_ready: None, pixel_masks: dict[int, dict]
) -> None:
    """A GeoPackage of any geometry type (a hand-edited or merged layer): a point and a line
    among the boxes are skipped naming their feature id and type (once a Python traceback); a
    multipolygon of two boxes (after "Collect geometries") is skipped naming its parts (once
    one oriented box around both, its mask spanning the gap); a multipolygon of one box is that
    box. The other features get the masks their boxes get alone."""
    from osgeo import ogr

    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP)
    env = installed(qgis_home)
    boxes = dota_boxes()[:6]
    rings = []
    for box in boxes:
        ring = [list(p) for p in pixel_to_map(NORTH_UP, [tuple(p) for p in box["corners"]])]
        rings.append([*ring, ring[0]])
    centre = [sum(p[0] for p in rings[1][:4]) / 4, sum(p[1] for p in rings[1][:4]) / 4]
    geometries = [
        {"type": "Polygon", "coordinates": [rings[0]]},
        {"type": "Point", "coordinates": centre},
        {"type": "Polygon", "coordinates": [rings[1]]},
        {"type": "LineString", "coordinates": rings[2][:2]},
        {"type": "MultiPolygon", "coordinates": [[rings[2]], [rings[3]]]},
        {"type": "MultiPolygon", "coordinates": [[rings[4]]]},
        {"type": "Polygon", "coordinates": [rings[5]]},
    ]
    labels = ["a", "b", "c", "d", "e", "f", "g"]  # a box's own class below
    for row, index in {0: 0, 2: 1, 5: 4, 6: 5}.items():
        labels[row] = boxes[index]["class"]
    features = [feature_json(g, label, 0.9) for g, label in zip(geometries, labels)]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}}
    geojson = tmp_path / "mixed.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": features}))
    gpkg = tmp_path / "mixed.gpkg"
    run(["ogr2ogr", "-f", "GPKG", "-nlt", "GEOMETRY", "-nln", "mixed", str(gpkg), str(geojson)])

    out = tmp_path / "out.gpkg"
    log = run_algorithm(exe, env, tif, gpkg, out)
    assert "Traceback" not in log, log
    # GeoPackage feature ids count from 1
    for fid, why in [
        (2, "is a Point, not a polygon: skipped"),
        (4, "is a LineString, not a polygon: skipped"),
        (5, "is a MultiPolygon of 2 parts: one box per feature"),
    ]:
        assert f"Detection with feature id {fid} in layer 'mixed' {why}" in log, log
    assert "Multipart to Singleparts" in log, log
    assert "feature id 6 in layer 'mixed' is not a 4-corner box" not in log, log
    dataset = ogr.Open(str(out))  # kept: its layer dies with it
    written = sorted(dataset.GetLayer(0), key=lambda f: f.GetField("detection_index"))
    assert [f.GetField("detection_fid") for f in written] == [1, 3, 6, 7]
    for feature, index in zip(written, [0, 1, 4, 5]):
        assert feature.GetField("class") == boxes[index]["class"]
        assert feature.GetField("area_px") == pixel_masks[index]["properties"]["area_px"], index
        obb_pixel = json.loads(feature.GetField("obb_pixel"))
        for got, want in zip(obb_pixel, pixel_masks[index]["properties"]["obb_pixel"]):
            assert abs(got - want) < PIXEL_TOLERANCE * 10, (index, obb_pixel)


def test_qgis_process_refuses_a_vrt_raster_and_utm_coordinates_read_as_degrees(
    tmp_path: Path, qgis_home: Path, data_ready: None
) -> None:
    """A VRT (a mosaic) is refused before the server starts, naming the file and how to
    convert it (the server cannot read it). A GeoJSON in UTM metres without a `crs` member,
    which QGIS reads as EPSG:4326, is refused naming the layer, its CRS, a vertex and where
    to set the CRS (it once blamed feature 0 for an "(inf, inf)" vertex); a NaN vertex in the
    same file with its CRS is still named as such."""
    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP)
    vrt = tmp_path / "raster.vrt"  # what make_geotiff translated
    assert vrt.is_file()
    gpkg = make_detections(tmp_path, NORTH_UP, 32633)
    env = installed(qgis_home)

    output = refused_output(exe, env, vrt, gpkg, tmp_path / "vrt.gpkg")
    assert f"raster {vrt} of layer 'raster' is a VRT file" in output, output
    assert "gdal_translate -of GTiff" in output, output
    assert "sopseg server" not in output and "not a TIFF, PNG or JPEG" not in output, output

    boxes = dota_boxes()[:3]
    rings = [pixel_to_map(NORTH_UP, [tuple(p) for p in b["corners"]]) for b in boxes]
    features = [
        feature_json({"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, b["class"], 0.9)
        for ring, b in zip(rings, boxes)
    ]
    geojson = tmp_path / "utm_nocrs.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    output = refused_output(exe, env, tif, geojson, tmp_path / "nocrs.gpkg")
    x, y = rings[0][0]
    assert "detections layer 'utm_nocrs' is in EPSG:4326" in output, output
    assert f"feature id 0 has the vertex ({x!r}, {y!r})" in output, output
    assert "Layer Properties > Source" in output, output
    assert "not a finite number" not in output and "(inf, inf)" not in output, output

    # The same boxes in longitude/latitude, still without `crs`, one with a NaN vertex.
    from osgeo import osr

    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32633)
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_degrees = osr.CoordinateTransformation(utm, wgs84)
    for feature, ring in zip(features, rings):
        degrees = [list(to_degrees.TransformPoint(x, y)[:2]) for x, y in ring]
        feature["geometry"]["coordinates"] = [[*degrees, degrees[0]]]
    features[1]["geometry"]["coordinates"][0][2][0] = math.nan
    geojson = tmp_path / "nan_vertex.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    output = refused_output(exe, env, tif, geojson, tmp_path / "nan.gpkg")
    assert "feature id 1: its geometry has a vertex that is not a finite number" in output, output
    assert "Layer Properties" not in output, output


def test_qgis_process_names_boxes_on_nodata_by_feature_id(
    tmp_path: Path, qgis_home: Path, data_ready: None
) -> None:
    """A box over the nodata edge of a scene is named in the log by its feature id (the server
    says `detection_index`, the place in the request, which skipped features shift)."""
    from osgeo import gdal, ogr

    exe = qgis_process()
    tif = make_geotiff(tmp_path, NORTH_UP)
    dataset = gdal.Open(str(tif), gdal.GA_Update)
    for k in range(1, 4):
        band = dataset.GetRasterBand(k)
        band.WriteRaster(0, 0, 60, 557, bytes(60 * 557))  # the scene's edge: no data
        band.SetNoDataValue(0)
    dataset = None  # written
    env = installed(qgis_home)
    inside = [(100.0, 100.0), (140.0, 100.0), (140.0, 120.0), (100.0, 120.0)]
    edge = [(5.0, 200.0), (45.0, 200.0), (45.0, 220.0), (5.0, 220.0)]
    rows = [
        (pixel_to_map(NORTH_UP, inside), "small-vehicle", 0.9),
        (None, "ship", 0.8),  # no geometry: skipped, so the edge box is the request's second
        (pixel_to_map(NORTH_UP, edge), "small-vehicle", 0.7),
    ]
    out = tmp_path / "out.gpkg"
    log = run_algorithm(exe, env, tif, write_geojson(tmp_path / "edge.geojson", rows), out)
    assert (
        "1 of 2 detection(s) lie mostly on nodata (over half of their pixels; detection_index 1 "
        "= feature ids 2 in the detections layer)" in log
    ), log
    layer = ogr.Open(str(out))  # kept: its layer dies with it
    assert len(layer.GetLayer(0)) == 2
