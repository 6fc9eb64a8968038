/**
 * Detection readers (DOTA labelTxt and Task1, Ultralytics YOLO-OBB, GeoJSON,
 * mmrotate's JSON results)
 * that turn detector output into {@linkcode Detection}s in the pixel frame,
 * and result writers (GeoJSON, COCO) that turn {@linkcode InstanceResult}s
 * into text; {@linkcode writeFileAtomic} puts text on disk.
 *
 * Readers never throw for a bad record: they skip it and report a
 * {@linkcode ParseIssue} (source, line or feature, message).
 *
 * @module
 */

export * from "./detection.ts";
export * from "./dota.ts";
export * from "./yolo_obb.ts";
export * from "./geojson_detections.ts";
export * from "./mmrotate_json.ts";
export * from "./detection_files.ts";
export * from "./geo_transform.ts";
export * from "./instance_result.ts";
export * from "./geojson_writer.ts";
export * from "./coco_writer.ts";
export * from "./atomic_write.ts";
export * from "./overlay.ts";
