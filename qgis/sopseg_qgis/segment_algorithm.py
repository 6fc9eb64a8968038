"""`sopseg:segment_detections`: oriented boxes on a raster in, one mask polygon per box out.

The boxes are reprojected to the raster's CRS, taken to its pixel frame through the raster
file's own geotransform (read with GDAL, so rotated rasters work too), sent to a sopseg server
(in one `segment` request, or several for a layer too big for one line), and the masks come back
as features in the raster's CRS. A raster without georeference takes boxes drawn over it in
QGIS (a layer without a CRS, in the frame QGIS shows it in: x the column, y minus the row).
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from pathlib import Path
from typing import Any, Optional, Sequence

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProviderRegistry,
    QgsRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from . import settings
from .pixel_frame import (
    GeoTransform,
    box_corners,
    map_to_pixel,
    north_up_geotransform,
    pixel_to_map,
)
from .sopseg_client import SopsegCancelled, SopsegError, SopsegServer

BACKENDS = ["auto", "wasm", "webgpu"]
PROMPTS = ["opm", "box", "points"]
# `--small-graphs`: the model's choice (crops up to 96 px on its fast 192-px graphs), only the
# crops up to 64 px there (the rest at 288: +0.20 mIoU on the 7 small-object classes, -0.08 over
# all 15, up to half the speed), or every crop at 288
SMALL_GRAPHS = ["default", "64", "off"]
# `--tta`: crops also run mirrored and the two masks averaged: none, the main graphs' crops (the
# larger objects: more accurate, a little slower), or every crop (twice the model calls)
TTA = ["off", "main", "all"]


def raster_file(layer: QgsRasterLayer) -> str:
    """The file behind a GDAL raster layer; QgsProcessingException if there is none."""
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"sopseg reads raster files: layer {layer.name()!r} comes from the "
            f"{layer.providerType()!r} provider"
        )
    path = QgsProviderRegistry.instance().decodeUri("gdal", layer.source()).get("path") or ""
    if not os.path.isfile(path):
        raise QgsProcessingException(
            f"sopseg reads raster files: {layer.source()!r} of layer {layer.name()!r} is not one"
        )
    path = str(Path(path).resolve())
    try:
        kind = raster_format(path)
    except OSError as e:
        raise QgsProcessingException(f"Cannot read raster {path} of layer {layer.name()!r}: {e}")
    if kind is None:
        driver = gdal_driver(path)
        target = str(Path(path).with_suffix(".tif"))
        raise QgsProcessingException(
            f"sopseg reads TIFF (GeoTIFF), PNG and JPEG files: raster {path} of layer "
            f"{layer.name()!r} is {f'a {driver} file' if driver else 'none of them'}. Convert "
            f"it first, e.g. gdal_translate -of GTiff -co TILED=YES {shlex.quote(path)} "
            f"{shlex.quote(target)}, and segment the GeoTIFF"
        )
    return path


def raster_format(path: str) -> Optional[str]:
    """`"tiff"`, `"png"` or `"jpeg"`, told by the file's first bytes as the server tells them
    (src/raster/open_raster.ts); None for any other file (a VRT, a JPEG 2000, a GeoPackage).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".vrt") as f:
    ...     _ = f.write(b"<VRTDataset>"); f.flush(); raster_format(f.name) is None
    True
    """
    with open(path, "rb") as file:
        head = file.read(8)
    if head[:4] in (b"II*\0", b"II+\0", b"MM\0*", b"MM\0+"):
        return "tiff"
    if head == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None


def gdal_driver(path: str) -> str:
    """The short name of the GDAL driver that reads `path` (`VRT`, `JP2OpenJPEG`); empty when
    GDAL's Python bindings are missing or no driver reads it."""
    try:
        from osgeo import gdal

        driver = gdal.IdentifyDriver(path)
    except (ImportError, RuntimeError):
        return ""
    return driver.ShortName if driver is not None else ""


def raster_geotransform(layer: QgsRasterLayer, path: str) -> GeoTransform:
    """The file's own geotransform (rotation included), or the layer's north-up extent.

    QGIS shows a rotated raster through a warped view whose extent is not the file's pixel
    grid; the server reads the file, so the file's geotransform is the one that maps its pixels.
    """
    try:
        from osgeo import gdal

        dataset = gdal.Open(path)
        gt = dataset.GetGeoTransform(can_return_null=True) if dataset is not None else None
        if gt is not None:
            return tuple(float(v) for v in gt)  # type: ignore[return-value]
    except ImportError:
        pass
    extent = layer.extent()
    return north_up_geotransform(
        extent.xMinimum(),
        extent.yMaximum(),
        extent.xMaximum(),
        extent.yMinimum(),
        layer.width(),
        layer.height(),
    )


def output_fields() -> QgsFields:
    """The CLI's GeoJSON properties, plus the id of the detection feature each mask comes from
    (`source_line` / `source_record`: the record of a detector's file; empty for a layer)."""
    fields = QgsFields()
    for name, kind in [
        ("detection_fid", QVariant.LongLong),
        ("source_image", QVariant.String),
        ("detection_index", QVariant.Int),
        ("class", QVariant.String),
        ("score", QVariant.Double),
        ("predicted_iou", QVariant.Double),
        ("area_px", QVariant.Int),
        ("obb", QVariant.String),
        ("obb_pixel", QVariant.String),
        ("in_training_classes", QVariant.Bool),
        ("box_moved", QVariant.Bool),
        ("source_line", QVariant.Int),
        ("source_record", QVariant.Int),
    ]:
        fields.append(QgsField(name, kind))
    return fields


def _rings(rings: list[list[list[float]]], to_map: Any) -> list[list[QgsPointXY]]:
    return [[QgsPointXY(*to_map(x, y)) for x, y, *_ in ring] for ring in rings]


def feature_geometry(geometry: Optional[dict[str, Any]], to_map: Any) -> QgsGeometry:
    """A GeoJSON Polygon/MultiPolygon as a multipolygon, each point through `to_map(x, y)`."""
    if not geometry:
        return QgsGeometry()
    if geometry.get("type") == "Polygon":
        parts = [geometry["coordinates"]]
    elif geometry.get("type") == "MultiPolygon":
        parts = geometry["coordinates"]
    else:
        raise QgsProcessingException(f"sopseg returned a {geometry.get('type')} geometry")
    return QgsGeometry.fromMultiPolygonXY([_rings(part, to_map) for part in parts])


def parse_bands(text: str, band_count: int) -> Optional[list[int]]:
    """`"5,3,2"` -> `[5, 3, 2]` (1 or 3 band numbers of a raster with `band_count` bands);
    None for an empty text. ValueError naming what is wrong.

    >>> parse_bands(" 5, 3,2 ", 8)
    [5, 3, 2]
    >>> parse_bands("", 8) is None
    True
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        return None
    try:
        bands = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not band numbers like 5,3,2") from None
    if len(bands) not in (1, 3):
        raise ValueError(f"give 1 or 3 band numbers (red, green, blue), got {len(bands)}")
    for b in bands:
        if not 1 <= b <= band_count:
            raise ValueError(f"band {b} is not one of the raster's bands 1-{band_count}")
    return bands


SHAPEFILE_NAMES = (
    "A Shapefile keeps 10 characters of a field name: detection_fid, detection_index, "
    "predicted_iou, in_training_classes and the source_* fields come out cut (detection_, "
    "detectio_1, predicted_, in_trainin, ...). A GeoPackage (.gpkg) keeps them."
)


def shapefile_destination(dest_id: str) -> bool:
    """Whether an output destination is an ESRI Shapefile (its path, maybe with |layername=).

    >>> shapefile_destination("/tmp/masks.SHP"), shapefile_destination("/tmp/m.gpkg|layername=m")
    (True, False)
    """
    return dest_id.split("|")[0].lower().endswith(".shp")


def displayed_bands(layer: QgsRasterLayer) -> Optional[list[int]]:
    """The bands the layer's renderer shows as red, green, blue (or its one grey band); None
    for another kind of view (the server's default then: the bands the file tags red, green,
    blue, else the first three). A user looking at a false-colour or reordered view segments
    what they see; sent even when they are 1, 2, 3, which a file's colour tags may not be."""
    renderer = layer.renderer()
    if renderer is None:
        return None
    kind = renderer.type()
    if kind == "multibandcolor":
        bands = [renderer.redBand(), renderer.greenBand(), renderer.blueBand()]
        if any(b < 1 for b in bands):
            return None  # a channel left empty: keep the server's default
    elif kind == "singlebandgray":
        bands = [renderer.grayBand()]
    else:
        return None
    return bands


# A box's field in a server error (`detections.boxes[3].corners[1][0]`, `detections.boxes[3]`).
BOX_FIELD = re.compile(r"detections\.boxes\[(\d+)\](?:\.\w+|\[\d+\])*")


def name_detection_features(message: str, fids: Sequence[int]) -> str:
    """`message` (a server error) with each box field it names, `detections.boxes[i]...`,
    followed by the detection layer's feature id of box i: the index is the box's place in the
    request, which skipped features shift.

    >>> name_detection_features("detections.boxes[1].class must be a non-empty string", [4, 7])
    'detections.boxes[1].class (feature id 7 in the detections layer) must be a non-empty string'
    """

    def named(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if not 0 <= index < len(fids):
            return match.group(0)
        return f"{match.group(0)} (feature id {fids[index]} in the detections layer)"

    return BOX_FIELD.sub(named, message)


DETECTION_INDEXES = re.compile(r"detection_index (\d+(?:, \d+)*)")


def name_warning_features(message: str, fids: Optional[Sequence[int]]) -> str:
    """`message` (a server warning) with the detections it names by `detection_index` also
    named by their feature ids in the detections layer (None: detections from a file).

    >>> name_warning_features("2 of 4 lie on nodata (detection_index 0, 3, ...)", [5, 6, 7, 9])
    '2 of 4 lie on nodata (detection_index 0, 3 = feature ids 5, 9 in the detections layer, ...)'
    """
    if fids is None:
        return message

    def named(match: re.Match[str]) -> str:
        indexes = [int(i) for i in match.group(1).split(", ")]
        if not all(0 <= i < len(fids) for i in indexes):
            return match.group(0)
        ids = ", ".join(str(fids[i]) for i in indexes)
        return f"{match.group(0)} = feature ids {ids} in the detections layer"

    return DETECTION_INDEXES.sub(named, message)


def crs_name(crs: QgsCoordinateReferenceSystem) -> str:
    """`EPSG:4326`, or the CRS's description when it has no authority id."""
    return crs.authid() or crs.description() or crs.toWkt()[:80]


def check_crs(
    layer_crs: QgsCoordinateReferenceSystem, raster: QgsRasterLayer, layer_name: str
) -> None:
    """QgsProcessingException when the detections have a CRS and the raster has none: there is
    no way from one to the other (QGIS would take map units for pixels and find nothing)."""
    if layer_crs.isValid() and not raster.crs().isValid():
        raise QgsProcessingException(
            f"Cannot place the detections on the raster: raster {raster.name()!r} "
            f"({raster.source()}) has no CRS (no georeference) while the detections layer "
            f"{layer_name!r} is in {crs_name(layer_crs)}. Georeference the raster (or give it "
            "its CRS: Layer Properties > Source, or gdal_edit.py -a_srs), or use detections "
            "drawn over the raster as QGIS shows it without georeference: a layer with no "
            "CRS, x the column and y minus the row"
        )


def detection_class(value: Any) -> Optional[str]:
    """The class a class field's value gives its box; None (the server's default class,
    `object`) for NULL and for an empty or blank text, which the server refuses as a class.

    >>> [detection_class(v) for v in ["ship", "  ", "", None]]
    ['ship', None, None, None]
    """
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    text = str(value)
    return text if text.strip() and text != "NULL" else None


def detection_score(value: Any) -> Optional[float]:
    """A score field's value as a finite number; None (no score) for NULL, a text that is no
    number, NaN and infinity, which JSON cannot carry.

    >>> [detection_score(v) for v in [0.5, "0.25", float("nan"), float("-inf"), None]]
    [0.5, 0.25, None, None, None]
    """
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) else None


def check_finite(geometry: QgsGeometry, fid: int) -> None:
    """QgsProcessingException naming detection `fid` when a vertex of its geometry is NaN or
    infinite (no box to segment, and no JSON number to send)."""
    for vertex in geometry.vertices():
        if not (math.isfinite(vertex.x()) and math.isfinite(vertex.y())):
            raise QgsProcessingException(
                f"Cannot segment the detection with feature id {fid}: its geometry has a vertex "
                f"that is not a finite number ({vertex.x()}, {vertex.y()})"
            )


def not_a_box(geometry: QgsGeometry) -> Optional[str]:
    """Why a detection's (non-empty) geometry gives no box, e.g. `is a Point, not a polygon`;
    None for a polygon (curved, with Z, or a multipolygon of one part). A multipolygon of
    several parts is several boxes: one oriented box around them all would span the gaps."""
    kind = QgsWkbTypes.displayString(geometry.wkbType())
    if QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
        return f"is a {kind}, not a polygon"
    parts = geometry.constGet().partCount()
    if parts > 1:
        return (
            f"is a {kind} of {parts} parts: one box per feature (split it with Vector > "
            "Geometry Tools > Multipart to Singleparts)"
        )
    return None


def check_lon_lat(
    geometry: QgsGeometry, fid: int, crs: QgsCoordinateReferenceSystem, layer_name: str
) -> None:
    """QgsProcessingException when a vertex of a detection in the geographic CRS `crs` is no
    longitude/latitude (|x| > 180 or |y| > 90): the layer's CRS is not the one its coordinates
    were written in. A GeoJSON file without a `crs` member is read as EPSG:4326 whatever its
    coordinates; UTM metres taken as degrees would then give infinite pixel coordinates.
    Non-finite vertices are left to `check_finite`."""
    for vertex in geometry.vertices():
        x, y = vertex.x(), vertex.y()
        if math.isfinite(x) and math.isfinite(y) and (abs(x) > 180 or abs(y) > 90):
            raise QgsProcessingException(
                f"Cannot place the detections on the raster: detections layer {layer_name!r} is "
                f"in {crs_name(crs)}, longitude and latitude in degrees, but its coordinates "
                f"are not (feature id {fid} has the vertex ({x!r}, {y!r})). Set the layer's "
                "CRS to the one its coordinates were written in (Layer Properties > Source > "
                "Assigned Coordinate Reference System; a GeoJSON file without a \"crs\" member "
                "is read as EPSG:4326), or write the file with its CRS"
            )


NEEDS_DENO = (
    "Needs Deno (https://deno.com) and the sopseg folder; set their paths in "
    "Settings > Options > Processing > Providers > sopseg if they are not found."
)


class SopsegAlgorithm(QgsProcessingAlgorithm):
    """What the sopseg algorithms share: the raster, the model's parameters, the server call
    and the output."""

    RASTER = "RASTER"
    BANDS = "BANDS"
    BACKEND = "BACKEND"
    PROMPT = "PROMPT"
    SIMPLIFY = "SIMPLIFY"
    THREADS = "THREADS"
    SMALL_GRAPHS = "SMALL_GRAPHS"
    TTA = "TTA"
    CLASS_PROMPT = "CLASS_PROMPT"
    BOX_SEARCH = "BOX_SEARCH"
    OUTPUT = "OUTPUT"

    def add_raster_parameter(self) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer(self.RASTER, "Raster"))

    def raster_layer(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> QgsRasterLayer:
        raster = self.parameterAsRasterLayer(parameters, self.RASTER, context)
        if raster is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.RASTER))
        return raster

    def add_advanced_parameter(self, parameter: QgsProcessingParameterDefinition) -> None:
        """Adds a parameter shown under Advanced Parameters."""
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def add_model_parameters(self) -> None:
        """Bands, backend, prompt, simplification, threads, small graphs, mirrored runs, the
        class prompt, and the output sink."""
        self.add_advanced_parameter(
            QgsProcessingParameterString(
                self.BANDS,
                "Bands read as red, green, blue (e.g. 5,3,2; one band: grey; default: the bands "
                "the layer shows)",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.BACKEND,
                "Backend",
                options=BACKENDS,
                defaultValue="auto",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.PROMPT,
                "Prompt (opm: 3 oriented points + box)",
                options=PROMPTS,
                defaultValue="opm",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.SIMPLIFY,
                "Simplify tolerance (pixels)",
                type=QgsProcessingParameterNumber.Double,
                minValue=0,
                defaultValue=0,
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterNumber(
                self.THREADS, "WASM threads (0: all cores)", minValue=0, defaultValue=0
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterEnum(
                self.SMALL_GRAPHS,
                "Small crops on the fast graphs (default: up to 96 px; 64: up to 64 px, slower; "
                "off: every crop at full size)",
                options=SMALL_GRAPHS,
                defaultValue="default",
                usesStaticStrings=True,
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterEnum(
                self.TTA,
                "Mirrored second run, masks averaged (main: the larger objects, more accurate, a "
                "little slower; all: every object, twice the time)",
                options=TTA,
                defaultValue="off",
                usesStaticStrings=True,
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterBoolean(
                self.CLASS_PROMPT,
                "Tell the model each detection's class (off when the detector confuses classes "
                "whose masks differ: a ship called a harbour, a ground track field a soccer field)",
                defaultValue=True,
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterBoolean(
                self.BOX_SEARCH,
                "Search around boxes that miss their objects (a weak detector): larger objects "
                "are also tried with the box moved, and the best-scored mask kept (box_moved says "
                "which masks came from a moved box); slower on them",
                defaultValue=False,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, "Instance masks", QgsProcessing.TypeVectorPolygon
            )
        )

    def model_settings(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        raster: QgsRasterLayer,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """The model parameters' values, as `segment_with_server` takes them."""
        text = self.parameterAsString(parameters, self.BANDS, context) or ""
        try:
            bands = parse_bands(text, raster.bandCount())
        except ValueError as e:
            raise QgsProcessingException(f"BANDS: {e}") from e
        if bands is None:
            bands = displayed_bands(raster)
            if bands is not None and bands not in ([1], [1, 2, 3]):
                feedback.pushInfo(
                    f"Bands {','.join(map(str, bands))} as the layer shows them (BANDS to change)"
                )
        return {
            "bands": bands,
            "backend": self.parameterAsEnumString(parameters, self.BACKEND, context),
            "prompt": self.parameterAsEnumString(parameters, self.PROMPT, context),
            "simplify": self.parameterAsDouble(parameters, self.SIMPLIFY, context),
            "threads": self.parameterAsInt(parameters, self.THREADS, context),
            "small_graphs": self.parameterAsEnumString(parameters, self.SMALL_GRAPHS, context),
            "tta": self.parameterAsEnumString(parameters, self.TTA, context) or "off",
            "class_prompt": self.parameterAsBoolean(parameters, self.CLASS_PROMPT, context),
            "box_search": self.parameterAsBoolean(parameters, self.BOX_SEARCH, context),
        }

    def output_sink(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        raster: QgsRasterLayer,
        feedback: QgsProcessingFeedback,
    ) -> tuple[QgsFeatureSink, str]:
        """The output layer, in the raster's CRS. A Shapefile is said to cut the field names."""
        sink, dest_id = self.parameterAsSink(
            parameters,
            self.OUTPUT,
            context,
            output_fields(),
            QgsWkbTypes.MultiPolygon,
            raster.crs(),
        )
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        if shapefile_destination(dest_id):
            feedback.pushWarning(SHAPEFILE_NAMES)
        return sink, dest_id

    def segment_with_server(
        self,
        image: str,
        detections: dict[str, Any],
        read: list[str],
        settings_: dict[str, Any],
        feedback: QgsProcessingFeedback,
        what: str,
        fids: Optional[Sequence[int]] = None,
    ) -> Optional[dict[str, Any]]:
        """`segment` on a server started for this run (reading the folders `read`); None when
        cancelled. `what` says what is sent, for the log; `fids`: the detection layer's feature
        id of each box, named in the server's errors about a box."""
        small_graphs = settings_["small_graphs"]
        try:
            server = SopsegServer(
                settings.sopseg_dir(),
                deno=settings.deno_path(),
                read=read,
                backend=settings_["backend"],
                threads=settings_["threads"] or None,
                small_graphs=None if small_graphs in ("", "default") else small_graphs,
                tta=None if settings_["tta"] == "off" else settings_["tta"],
                log=lambda line: feedback.pushDebugInfo(f"sopseg: {line}"),
            )
        except FileNotFoundError as e:
            raise QgsProcessingException(str(e)) from e
        try:
            info = server.start()
            feedback.pushInfo(
                f"sopseg server {info.get('server', {}).get('version', '?')}, backend "
                f"{info.get('backend')}; {what}"
            )
            options: dict[str, Any] = {"prompt": settings_["prompt"]}
            if settings_["bands"] is not None:
                options["bands"] = settings_["bands"]
            if settings_["simplify"] > 0:
                options["simplify"] = settings_["simplify"]
            if not settings_["class_prompt"]:
                options["class_prompt"] = False
            if settings_["box_search"]:
                options["box_search"] = True
            return server.segment(
                image,
                detections,
                options,
                progress=lambda done, total: feedback.setProgress(100.0 * done / max(total, 1)),
                warning=lambda message: feedback.pushWarning(
                    f"sopseg: {name_warning_features(message, fids)}"
                ),
                cancelled=feedback.isCanceled,
            )
        except SopsegCancelled:
            feedback.pushWarning("Cancelled: no masks written")
            return None
        except SopsegError as e:
            message = str(e) if fids is None else name_detection_features(str(e), fids)
            raise QgsProcessingException(f"sopseg: {message}") from e
        finally:
            server.close()

    def write_features(
        self,
        collection: dict[str, Any],
        fids: Optional[list[int]],
        gt: GeoTransform,
        sink: QgsFeatureSink,
        feedback: QgsProcessingFeedback,
    ) -> None:
        """The collection's features into the sink, in the raster's CRS. `fids`: the
        detection layer's feature id of each detection (None: detections from a file)."""
        fields = output_fields()
        in_pixels = collection.get("sopseg:coordinates") == "pixel"

        def to_map(x: float, y: float) -> tuple[float, float]:
            return pixel_to_map(gt, [(x, y)])[0] if in_pixels else (x, y)

        features = collection.get("features") or []
        if fids is not None and len(features) != len(fids):
            raise QgsProcessingException(
                f"sopseg answered {len(features)} features for {len(fids)} detections"
            )
        for feature_json in features:
            props = feature_json.get("properties") or {}
            index = int(props.get("detection_index", -1))
            if not 0 <= index < (len(features) if fids is None else len(fids)):
                raise QgsProcessingException(f"sopseg answered detection_index {index}")
            feature = QgsFeature(fields)
            feature.setGeometry(feature_geometry(feature_json.get("geometry"), to_map))
            feature.setAttributes(
                [
                    None if fids is None else fids[index],
                    props.get("source_image"),
                    index,
                    props.get("class"),
                    props.get("score"),
                    props.get("predicted_iou"),
                    props.get("area_px"),
                    json.dumps(props.get("obb")),
                    json.dumps(props.get("obb_pixel")),
                    props.get("in_training_classes"),
                    props.get("box_moved"),
                    props.get("source_line"),
                    props.get("source_record"),
                ]
            )
            if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(f"Cannot write mask {index} to the output layer")
        feedback.setProgress(100)


class SegmentDetectionsAlgorithm(SopsegAlgorithm):
    """Segment oriented detections with sopseg."""

    DETECTIONS = "DETECTIONS"
    CLASS_FIELD = "CLASS_FIELD"
    SCORE_FIELD = "SCORE_FIELD"

    def name(self) -> str:
        return "segment_detections"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Segment oriented detections"

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS's name)
        return (
            "One instance mask per oriented box. RASTER: the image (a GeoTIFF, TIFF, PNG or "
            "JPEG file; convert others, such as a VRT, with gdal_translate -of GTiff). "
            "DETECTIONS: polygons of oriented boxes (4 corners; any CRS, reprojected to the "
            "raster's; other polygons are replaced by their oriented minimum bounding box; "
            "points, lines and multipolygons of several parts are skipped with a warning: one "
            "box per feature; on a raster without georeference, a layer without a CRS drawn "
            "over it in QGIS). "
            "CLASS_FIELD / SCORE_FIELD: the detector's class and score, copied to the output; "
            "the class also tells the model what it is segmenting (DOTA / iSAID names and "
            "aliases such as small-vehicle or car; other classes are segmented from the box "
            "alone; an empty class is none: object). A NaN or infinite score is no score. "
            "The output is in the raster's CRS with the attributes of sopseg's GeoJSON: "
            "class, score, predicted_iou, area_px, the prompt box (obb, obb_pixel), "
            "detection_index and the detection's feature id (detection_fid).\n\n" + NEEDS_DENO
        )

    def createInstance(self) -> "SegmentDetectionsAlgorithm":  # noqa: N802 (QGIS's name)
        return SegmentDetectionsAlgorithm()

    def initAlgorithm(self, config: Optional[dict[str, Any]] = None) -> None:  # noqa: N802
        self.add_raster_parameter()
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.DETECTIONS, "Oriented detections", [QgsProcessing.TypeVectorPolygon]
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.CLASS_FIELD,
                "Class field",
                parentLayerParameterName=self.DETECTIONS,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.SCORE_FIELD,
                "Score field",
                parentLayerParameterName=self.DETECTIONS,
                type=QgsProcessingParameterField.Numeric,
                optional=True,
            )
        )
        self.add_model_parameters()

    def processAlgorithm(  # noqa: N802 (QGIS's name)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        raster = self.raster_layer(parameters, context)
        source = self.parameterAsSource(parameters, self.DETECTIONS, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.DETECTIONS))
        class_field = self.parameterAsString(parameters, self.CLASS_FIELD, context)
        score_field = self.parameterAsString(parameters, self.SCORE_FIELD, context)
        model = self.model_settings(parameters, context, raster, feedback)

        layer = self.parameterAsVectorLayer(parameters, self.DETECTIONS, context)
        layer_name = layer.name() if layer else source.sourceName()
        check_crs(source.sourceCrs(), raster, layer_name)
        image = raster_file(raster)
        gt = raster_geotransform(raster, image)
        fids, boxes = self._boxes(
            source, layer_name, raster, gt, class_field, score_field, context, feedback
        )

        sink, dest_id = self.output_sink(parameters, context, raster, feedback)
        if not boxes:
            feedback.pushWarning("No detections to segment")
            return {self.OUTPUT: dest_id}

        collection = self.segment_with_server(
            image,
            {"boxes": boxes},
            [str(Path(image).parent)],
            model,
            feedback,
            f"{len(boxes)} detections",
            fids,
        )
        if collection is None:
            return {self.OUTPUT: dest_id}
        self.write_features(collection, fids, gt, sink, feedback)
        return {self.OUTPUT: dest_id}

    def _boxes(
        self,
        source: Any,
        layer_name: str,
        raster: QgsRasterLayer,
        gt: GeoTransform,
        class_field: str,
        score_field: str,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> tuple[list[int], list[dict[str, Any]]]:
        """The detections as pixel-frame boxes (and their feature ids), in feature order.
        Features that are no box are skipped with a warning: no geometry, not a polygon (a
        point or a line in a layer of mixed geometry types), several polygons in one feature."""
        if not source.sourceCrs().isValid() and raster.crs().isValid():
            feedback.pushWarning(
                "The detections have no CRS: their coordinates are taken to be in the raster's, "
                f"{crs_name(raster.crs())}"
            )
        source_crs = source.sourceCrs()
        to_raster = QgsCoordinateTransform(source_crs, raster.crs(), context.transformContext())
        tolerance = 1e-9 * max(abs(gt[1]), abs(gt[2]), abs(gt[4]), abs(gt[5]))
        fids: list[int] = []
        boxes: list[dict[str, Any]] = []
        unscored = 0
        for feature in source.getFeatures():
            if feedback.isCanceled():
                break
            fid = int(feature.id())
            geometry = QgsGeometry(feature.geometry())
            named = f"Detection with feature id {fid} in layer {layer_name!r}"
            if geometry.isNull() or geometry.isEmpty():
                feedback.pushWarning(f"{named} has no geometry: skipped")
                continue
            why_not = not_a_box(geometry)
            if why_not is not None:
                feedback.pushWarning(f"{named} {why_not}: skipped")
                continue
            check_finite(geometry, fid)  # a NaN vertex named as such, not as a CRS failure
            if source_crs.isGeographic():
                check_lon_lat(geometry, fid, source_crs, layer_name)
            if not to_raster.isShortCircuited():
                try:
                    geometry.transform(to_raster)
                except QgsCsException as e:
                    raise QgsProcessingException(
                        f"Cannot take the detection with feature id {fid} to the raster's CRS: {e}"
                    ) from e
            check_finite(geometry, fid)
            corners = None
            polygons = (
                geometry.asMultiPolygon() if geometry.isMultipart() else [geometry.asPolygon()]
            )
            if len(polygons) == 1 and polygons[0]:
                corners = box_corners([(p.x(), p.y()) for p in polygons[0][0]], tolerance)
            if corners is None:
                bounding = geometry.orientedMinimumBoundingBox()[0]
                if not (bounding.isNull() or bounding.isEmpty()):
                    ring = bounding.asPolygon()[0]
                    corners = box_corners([(p.x(), p.y()) for p in ring], tolerance)
                feedback.pushWarning(
                    f"{named} is not a 4-corner box: its oriented minimum bounding box is used"
                )
            if corners is None:
                feedback.pushWarning(f"{named} is degenerate: skipped")
                continue
            # Rounded to 1e-6 px: a CRS round trip (boxes made in pixels, stored in EPSG:4326)
            # gives back the same numbers, so the same prompt box; a near-square box's
            # minimum-area rectangle can otherwise flip between two fits on 1e-9 px of noise.
            pixel = [[round(x, 6), round(y, 6)] for x, y in map_to_pixel(gt, corners)]
            box: dict[str, Any] = {"corners": pixel}
            if class_field:
                name = detection_class(feature[class_field])
                if name is not None:
                    box["class"] = name
            if score_field:
                score = detection_score(feature[score_field])
                if score is not None:
                    box["score"] = score
                elif isinstance(feature[score_field], float):
                    unscored += 1  # NaN or infinite
            fids.append(fid)
            boxes.append(box)
        if unscored:
            feedback.pushWarning(
                f"{unscored} detections have a NaN or infinite {score_field}: sent with no score"
            )
        return fids, boxes
