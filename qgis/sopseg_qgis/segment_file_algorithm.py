"""`sopseg:segment_detection_file`: a detector's output file and a raster in, masks out.

The file is read by the sopseg server as `deno task segment` reads it: DOTA labelTxt, YOLO-OBB
`.txt`, GeoJSON, DOTA Task1 results (`Task1_<class>.txt`; every class's file of its folder by
default) or mmrotate's JSON results (`<prefix>.bbox.json`). Pixel-frame boxes need no layer:
a detector run on the raster's file wrote them in that file's pixels. Results files hold many
images' detections; the raster's share is read by its image id (the file's stem by default).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsRasterLayer,
    QgsVectorLayer,
)

from .segment_algorithm import (
    NEEDS_DENO,
    SopsegAlgorithm,
    crs_name,
    raster_file,
    raster_geotransform,
)

FORMATS = ["auto", "dota", "yolo-obb", "geojson", "task1", "mmrotate-json"]
# optional: only mmrotate's [cx, cy, w, h, angle] boxes need one
ANGLE_CONVENTIONS = ["le90", "le135", "oc", "radians", "degrees"]
TASK1_NAME = re.compile(r"^Task1_.+\.txt$", re.IGNORECASE)


def detections_request(
    path: str,
    fmt: str,
    classes: str,
    image_id: str,
    angle_convention: str,
    min_score: Optional[float],
    all_task1: bool,
) -> dict[str, Any]:
    """The `detections` object of a `segment` request for a detection file.

    A `Task1_<class>.txt` file stands for its folder (every class) when `all_task1` is set.
    `classes`: comma-separated names by class id (YOLO-OBB, mmrotate `category_id`).

    >>> detections_request("/r/Task1_ship.txt", "auto", "", "", "", None, True)
    {'path': '/r', 'format': 'task1'}
    >>> sorted(detections_request("/r/a.json", "auto", "plane, ship", "P1", "le90", 0.3, True))
    ['angle_convention', 'classes', 'image_id', 'min_score', 'path']
    """
    request: dict[str, Any] = {"path": path}
    is_task1 = fmt == "task1" or (fmt == "auto" and TASK1_NAME.match(Path(path).name))
    if is_task1 and all_task1 and Path(path).name and TASK1_NAME.match(Path(path).name):
        request["path"] = str(Path(path).parent)
    if is_task1:
        request["format"] = "task1"
    elif fmt != "auto":
        request["format"] = fmt
    names = [c.strip() for c in classes.split(",") if c.strip()]
    if names:
        request["classes"] = names
    if image_id.strip():
        request["image_id"] = image_id.strip()
    if angle_convention:
        request["angle_convention"] = angle_convention
    if min_score is not None:
        request["min_score"] = min_score
    return request


def geojson_in_another_crs(path: str, fmt: str, raster: QgsRasterLayer) -> Optional[str]:
    """Why a GeoJSON detection file cannot be sent as it is, or None: sopseg reads GeoJSON in
    the raster's CRS or in WGS84 (RFC 7946), and a file in a third CRS (say EPSG:3857 beside a
    UTM raster) would be refused by the server after it started. QGIS can reproject it: the
    message says how. What OGR does not open as a vector layer (mmrotate's JSON records) and a
    file without a `crs` member (WGS84 or pixels: OGR calls it EPSG:4326) are left to the
    server, as is a raster whose CRS has no EPSG code (the server trusts the file then)."""
    if fmt not in ("auto", "geojson"):
        return None
    if fmt == "auto" and Path(path).suffix.lower() not in (".geojson", ".json"):
        return None
    layer = QgsVectorLayer(path, "detections", "ogr")
    if not layer.isValid():
        return None
    crs, raster_crs = layer.crs(), raster.crs()
    # as the server checks it: EPSG codes compared; a raster without one trusts the file
    codes = (crs.authid(), raster_crs.authid())
    if not all(code.startswith("EPSG:") for code in codes) or codes[0] in (codes[1], "EPSG:4326"):
        return None
    return (
        f"The detections in {path} are in {crs_name(crs)} and the raster in "
        f"{crs_name(raster_crs)}: sopseg reads a GeoJSON file in the raster's CRS or in WGS84. "
        "Add the file to the map and run 'Segment oriented detections' "
        "(sopseg:segment_detections) on that layer, which reprojects it, or save it in the "
        "raster's CRS (Export > Save Features As)"
    )


class SegmentDetectionFileAlgorithm(SopsegAlgorithm):
    """Segment the detections of a detector's output file with sopseg."""

    DETECTIONS_FILE = "DETECTIONS_FILE"
    FORMAT = "FORMAT"
    CLASSES = "CLASSES"
    IMAGE_ID = "IMAGE_ID"
    ANGLE_CONVENTION = "ANGLE_CONVENTION"
    MIN_SCORE = "MIN_SCORE"
    ALL_TASK1 = "ALL_TASK1"

    def name(self) -> str:
        return "segment_detection_file"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Segment a detector's output file"

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS's name)
        return (
            "One instance mask per oriented box of a detector's output file, on the raster the "
            "detector ran on (its boxes are in that file's pixels). RASTER: the image (GeoTIFF, "
            "PNG, JPEG). DETECTIONS_FILE: DOTA labelTxt, YOLO-OBB .txt (normalised), GeoJSON, "
            "DOTA Task1 results (Task1_<class>.txt: with ALL_TASK1, every class's file in its "
            "folder) or mmrotate's JSON results (<prefix>.bbox.json). FORMAT: auto recognises "
            "them by name and content. CLASSES: class names by id, comma-separated (YOLO-OBB "
            "class ids, mmrotate category_id), in the detector's order. IMAGE_ID: the raster's "
            "id in Task1 / mmrotate results (default: the raster file's name without "
            "extension). ANGLE_CONVENTION: the detector's angle_version for mmrotate's [cx, cy, "
            "w, h, angle] boxes (le90 is mmrotate 1.x's default); the file does not say it, so "
            "sopseg stops rather than guess. MIN_SCORE: leave out weaker detections.\n\n"
            "The output is in the raster's CRS with the attributes of sopseg's GeoJSON: class, "
            "score, predicted_iou, area_px, the prompt box (obb, obb_pixel), detection_index "
            "(detection_fid is empty: there is no detection layer), and the detection's record "
            "in the file: source_line (1-based; DOTA, YOLO-OBB, Task1) or source_record "
            "(0-based; GeoJSON features, mmrotate results).\n\n" + NEEDS_DENO
        )

    def createInstance(self) -> "SegmentDetectionFileAlgorithm":  # noqa: N802 (QGIS's name)
        return SegmentDetectionFileAlgorithm()

    def initAlgorithm(self, config: Optional[dict[str, Any]] = None) -> None:  # noqa: N802
        self.add_raster_parameter()
        self.addParameter(
            QgsProcessingParameterFile(
                self.DETECTIONS_FILE,
                "Detector output file",
                behavior=QgsProcessingParameterFile.File,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FORMAT,
                "Format",
                options=FORMATS,
                defaultValue="auto",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.CLASSES,
                "Class names by id, comma-separated (YOLO-OBB, mmrotate JSON)",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.ANGLE_CONVENTION,
                "Angle convention of mmrotate JSON boxes (the detector's angle_version)",
                options=ANGLE_CONVENTIONS,
                usesStaticStrings=True,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MIN_SCORE,
                "Minimum score",
                type=QgsProcessingParameterNumber.Double,
                optional=True,
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterString(
                self.IMAGE_ID,
                "Image id in Task1 / mmrotate results (default: the raster file's stem)",
                optional=True,
            )
        )
        self.add_advanced_parameter(
            QgsProcessingParameterBoolean(
                self.ALL_TASK1,
                "Task1: read every Task1_<class>.txt file of the chosen file's folder",
                defaultValue=True,
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
        path = self.parameterAsFile(parameters, self.DETECTIONS_FILE, context)
        if not path or not Path(path).is_file():
            raise QgsProcessingException(f"Cannot read detections: {path!r} is not a file")
        path = str(Path(path).resolve())
        fmt = self.parameterAsEnumString(parameters, self.FORMAT, context) or "auto"
        why_not = geojson_in_another_crs(path, fmt, raster)
        if why_not is not None:
            raise QgsProcessingException(why_not)
        min_score = (
            self.parameterAsDouble(parameters, self.MIN_SCORE, context)
            if parameters.get(self.MIN_SCORE) not in (None, "")
            else None
        )
        detections = detections_request(
            path,
            fmt,
            self.parameterAsString(parameters, self.CLASSES, context) or "",
            self.parameterAsString(parameters, self.IMAGE_ID, context) or "",
            self.parameterAsEnumString(parameters, self.ANGLE_CONVENTION, context) or "",
            min_score,
            self.parameterAsBoolean(parameters, self.ALL_TASK1, context),
        )
        model = self.model_settings(parameters, context, raster, feedback)

        image = raster_file(raster)
        gt = raster_geotransform(raster, image)
        sink, dest_id = self.output_sink(parameters, context, raster, feedback)
        read = sorted({str(Path(image).parent), str(Path(path).parent)})
        collection = self.segment_with_server(
            image, detections, read, model, feedback, f"detections from {detections['path']}"
        )
        if collection is None:
            return {self.OUTPUT: dest_id}
        if not collection.get("features"):
            image_id = detections.get("image_id", Path(image).stem)
            feedback.pushWarning(
                f"No detections for this raster in {detections['path']} (in Task1 or mmrotate "
                f"results its id is taken to be {image_id!r}: if the detector named it "
                "otherwise, give that name as the image id, an advanced parameter)"
            )
        self.write_features(collection, None, gt, sink, feedback)
        return {self.OUTPUT: dest_id}
