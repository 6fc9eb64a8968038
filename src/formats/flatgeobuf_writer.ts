/**
 * Writes instance features as FlatGeobuf: a binary vector format that QGIS
 * and GDAL read natively, with a packed Hilbert R-tree so a viewer reads only
 * the features in view. The only file that imports `flatgeobuf` (and the
 * `flatbuffers` runtime it is built on).
 *
 * Features are encoded with the package's own `buildFeature`; the header and
 * the spatial index are written here, because the package's writer has no
 * index. The index needs every feature's extent before the first feature
 * byte, so one image's features are encoded first and then written out in
 * pieces (header, index, features), never as one buffer.
 *
 * @module
 */

import * as flatbuffers from "flatbuffers";
import { buildFeature } from "flatgeobuf/lib/mjs/generic/feature.js";
import { parseGeometry } from "flatgeobuf/lib/mjs/geojson/geometry.js";
import { Header } from "flatgeobuf/lib/mjs/flat-geobuf/header.js";
import { Column } from "flatgeobuf/lib/mjs/flat-geobuf/column.js";
import { Crs } from "flatgeobuf/lib/mjs/flat-geobuf/crs.js";
import { ColumnType } from "flatgeobuf/lib/mjs/flat-geobuf/column-type.js";
import { GeometryType } from "flatgeobuf/lib/mjs/flat-geobuf/geometry-type.js";
import type { HeaderMeta } from "flatgeobuf/lib/mjs/header-meta.js";
import type { ColumnMeta } from "flatgeobuf/lib/mjs/column-meta.js";
import type { InstanceFeatureCollection, InstanceProperties, Position } from "./geojson_writer.ts";

const MAGIC = new Uint8Array([0x66, 0x67, 0x62, 0x03, 0x66, 0x67, 0x62, 0x00]);
const NODE_SIZE = 16;
const NODE_BYTES = 40;

/** Options for {@linkcode featureCollectionToFlatGeobuf}. */
export interface FlatGeobufOptions {
  /** EPSG code of the coordinates (4326 for WGS84); `null` for pixel coordinates. */
  epsg: number | null;
  /** WKT of the CRS when there is no EPSG code. Default: `null`. */
  wkt?: string | null;
  /**
   * Whether the file has the `box_moved` column (nullable: empty for a box the search did not
   * run on). A box-searched run sets it, so that each of its files has the column, even one
   * whose boxes all ran on the small graphs. Default: whether any feature carries `box_moved`;
   * without the box search there is no such column, as before it existed.
   */
  boxMoved?: boolean;
}

const COLUMNS: [keyof InstanceProperties, number][] = [
  ["class", ColumnType.String],
  ["score", ColumnType.Double],
  ["predicted_iou", ColumnType.Double],
  ["obb", ColumnType.Json],
  ["obb_pixel", ColumnType.Json],
  ["source_image", ColumnType.String],
  ["detection_index", ColumnType.Int],
  ["source_file", ColumnType.String],
  ["source_line", ColumnType.Int],
  ["source_record", ColumnType.Int],
  ["area_px", ColumnType.Int],
  ["in_training_classes", ColumnType.Bool],
  ["box_moved", ColumnType.Bool],
];

const NULLABLE = new Set<string>([
  "score",
  "source_file",
  "source_line",
  "source_record",
  "in_training_classes",
  "box_moved",
]);

function columnMeta(name: string, type: number): ColumnMeta {
  return {
    name,
    type,
    title: null,
    description: null,
    width: -1,
    precision: -1,
    scale: -1,
    nullable: NULLABLE.has(name),
    unique: false,
    primary_key: false,
  };
}

/** The 16-bit Hilbert curve index of `(x, y)` (as flatgeobuf's own writers compute it). */
function hilbert(x: number, y: number): number {
  let a = x ^ y;
  let b = 0xffff ^ a;
  let c = 0xffff ^ (x | y);
  let d = x & (y ^ 0xffff);
  let A = a | (b >> 1);
  let B = (a >> 1) ^ a;
  let C = ((c >> 1) ^ (b & (d >> 1))) ^ c;
  let D = ((a & (c >> 1)) ^ (d >> 1)) ^ d;
  a = A, b = B, c = C, d = D;
  A = (a & (a >> 2)) ^ (b & (b >> 2));
  B = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2));
  C ^= (a & (c >> 2)) ^ (b & (d >> 2));
  D ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2));
  a = A, b = B, c = C, d = D;
  A = (a & (a >> 4)) ^ (b & (b >> 4));
  B = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4));
  C ^= (a & (c >> 4)) ^ (b & (d >> 4));
  D ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4));
  a = A, b = B, c = C, d = D;
  C ^= (a & (c >> 8)) ^ (b & (d >> 8));
  D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));
  a = C ^ (C >> 1);
  b = D ^ (D >> 1);
  let i0 = x ^ y;
  let i1 = b | (0xffff ^ (i0 | a));
  const spread = (v: number) => {
    v = (v | (v << 8)) & 0x00ff00ff;
    v = (v | (v << 4)) & 0x0f0f0f0f;
    v = (v | (v << 2)) & 0x33333333;
    return (v | (v << 1)) & 0x55555555;
  };
  i0 = spread(i0);
  i1 = spread(i1);
  return ((i1 << 1) | i0) >>> 0;
}

type Extent = [number, number, number, number];

function extentOf(parts: Position[][][]): Extent {
  const e: Extent = [Infinity, Infinity, -Infinity, -Infinity];
  for (const polygon of parts) {
    for (const ring of polygon) {
      for (const [x, y] of ring) {
        if (x < e[0]) e[0] = x;
        if (y < e[1]) e[1] = y;
        if (x > e[2]) e[2] = x;
        if (y > e[3]) e[3] = y;
      }
    }
  }
  return e;
}

/** Level bounds of a packed R-tree, leaves first (flatgeobuf's `generateLevelBounds`). */
function levelBounds(items: number): [number, number][] {
  let n = items;
  let total = n;
  const sizes = [n];
  do {
    n = Math.ceil(n / NODE_SIZE);
    total += n;
    sizes.push(n);
  } while (n !== 1);
  const bounds: [number, number][] = [];
  let end = total;
  for (const size of sizes) {
    bounds.push([end - size, end]);
    end -= size;
  }
  return bounds;
}

/** The packed R-tree over `extents` (in file order), leaves pointing at `offsets`. */
function packedRTree(extents: Extent[], offsets: number[]): Uint8Array {
  const bounds = levelBounds(extents.length);
  const total = bounds[0]![1];
  const boxes = new Float64Array(total * 4);
  const refs = new Array<number>(total);
  const leaf0 = bounds[0]![0];
  extents.forEach((e, i) => {
    boxes.set(e, (leaf0 + i) * 4);
    refs[leaf0 + i] = offsets[i]!;
  });
  for (let level = 0; level < bounds.length - 1; level++) {
    let [pos, end] = bounds[level]!;
    let parent = bounds[level + 1]![0];
    while (pos < end) {
      const box: Extent = [Infinity, Infinity, -Infinity, -Infinity];
      refs[parent] = pos;
      for (let j = 0; j < NODE_SIZE && pos < end; j++, pos++) {
        box[0] = Math.min(box[0], boxes[pos * 4]!);
        box[1] = Math.min(box[1], boxes[pos * 4 + 1]!);
        box[2] = Math.max(box[2], boxes[pos * 4 + 2]!);
        box[3] = Math.max(box[3], boxes[pos * 4 + 3]!);
      }
      boxes.set(box, parent * 4);
      parent++;
    }
  }
  const out = new Uint8Array(total * NODE_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < total; i++) {
    for (let k = 0; k < 4; k++) view.setFloat64(i * NODE_BYTES + k * 8, boxes[i * 4 + k]!, true);
    view.setBigUint64(i * NODE_BYTES + 32, BigInt(refs[i]!), true);
  }
  return out;
}

function header(
  meta: HeaderMeta,
  name: string,
  options: FlatGeobufOptions,
): Uint8Array {
  const builder = new flatbuffers.Builder();
  const columns = Header.createColumnsVector(
    builder,
    (meta.columns ?? []).map((c) => {
      const n = builder.createString(c.name);
      Column.startColumn(builder);
      Column.addName(builder, n);
      Column.addType(builder, c.type);
      Column.addNullable(builder, c.nullable);
      return Column.endColumn(builder);
    }),
  );
  const nameOffset = builder.createString(name);
  let crs = 0;
  if (options.epsg !== null || options.wkt) {
    const wkt = options.epsg === null && options.wkt ? builder.createString(options.wkt) : 0;
    const org = options.epsg === null ? 0 : builder.createString("EPSG");
    Crs.startCrs(builder);
    if (org) Crs.addOrg(builder, org);
    if (options.epsg !== null) Crs.addCode(builder, options.epsg);
    if (wkt) Crs.addWkt(builder, wkt);
    crs = Crs.endCrs(builder);
  }
  const envelope = meta.envelope ? Header.createEnvelopeVector(builder, meta.envelope) : 0;
  Header.startHeader(builder);
  Header.addName(builder, nameOffset);
  if (envelope) Header.addEnvelope(builder, envelope);
  Header.addGeometryType(builder, meta.geometryType);
  Header.addColumns(builder, columns);
  Header.addFeaturesCount(builder, BigInt(meta.featuresCount));
  Header.addIndexNodeSize(builder, meta.indexNodeSize);
  if (crs) Header.addCrs(builder, crs);
  const offset = Header.endHeader(builder);
  builder.finishSizePrefixed(offset);
  return builder.asUint8Array();
}

/**
 * One image's features as a FlatGeobuf file, in pieces (magic bytes and
 * header, the spatial index, then one piece per feature) for
 * {@linkcode writeFileAtomic}. Every geometry is written as a MultiPolygon
 * (one layer type); features are ordered along a Hilbert curve of their
 * extents, as FlatGeobuf's spatial index needs; a feature without geometry
 * (empty mask) is left out: a spatial index has no place for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureCollectionToFlatGeobuf } from "./flatgeobuf_writer.ts";
 *
 * const properties = {
 *   class: "ship", score: 0.9, predicted_iou: 0.95, obb: [1, 1, 3, 1, 3, 3, 1, 3],
 *   obb_pixel: [2, 2, 2, 2, 0] as [number, number, number, number, number],
 *   source_image: "a.png", detection_index: 0, source_file: "a.txt", source_line: 3,
 *   source_record: null, area_px: 4,
 * };
 * const bytes = [...featureCollectionToFlatGeobuf({
 *   type: "FeatureCollection", name: "a", "sopseg:coordinates": "pixel",
 *   features: [{ type: "Feature", properties, geometry: {
 *     type: "Polygon", coordinates: [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
 *   } }],
 * }, { epsg: null })];
 * assert.deepEqual([...bytes[0]!.subarray(0, 3)], [0x66, 0x67, 0x62]); // "fgb"
 * ```
 *
 * @param collection The features of one image, in their output frame.
 * @param options The CRS of the coordinates.
 * @returns The file's bytes in pieces.
 */
export function* featureCollectionToFlatGeobuf(
  collection: InstanceFeatureCollection,
  options: FlatGeobufOptions,
): Generator<Uint8Array> {
  const boxMoved = options.boxMoved ??
    collection.features.some((f) => f.properties.box_moved !== undefined);
  const columns = COLUMNS.filter(([name]) => name !== "box_moved" || boxMoved)
    .map(([name, type]) => columnMeta(name, type));
  const items: { parts: Position[][][]; extent: Extent; properties: InstanceProperties }[] = [];
  for (const f of collection.features) {
    if (f.geometry === null) continue;
    const parts = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
    items.push({ parts, extent: extentOf(parts), properties: f.properties });
  }
  const envelope: Extent = [Infinity, Infinity, -Infinity, -Infinity];
  for (const { extent: e } of items) {
    envelope[0] = Math.min(envelope[0], e[0]);
    envelope[1] = Math.min(envelope[1], e[1]);
    envelope[2] = Math.max(envelope[2], e[2]);
    envelope[3] = Math.max(envelope[3], e[3]);
  }
  if (items.length > 0) {
    const w = envelope[2] - envelope[0] || 1, h = envelope[3] - envelope[1] || 1;
    const key = (e: Extent) =>
      hilbert(
        Math.floor(0xffff * (((e[0] + e[2]) / 2 - envelope[0]) / w)),
        Math.floor(0xffff * (((e[1] + e[3]) / 2 - envelope[1]) / h)),
      );
    const keys = new Map(items.map((it) => [it, key(it.extent)]));
    items.sort((a, b) => keys.get(a)! - keys.get(b)!);
  }
  const meta: HeaderMeta = {
    geometryType: GeometryType.MultiPolygon,
    columns,
    envelope: items.length ? new Float64Array(envelope) : null,
    featuresCount: items.length,
    indexNodeSize: items.length ? NODE_SIZE : 0,
    crs: null,
    title: null,
    description: null,
    metadata: null,
  };
  // a property a feature leaves out is null in its nullable column (buildFeature would write
  // an absent boolean as false)
  const nullable = columns.filter((c) => c.nullable).map((c) => c.name);
  const encoded = items.map((it) => {
    const properties: Record<string, unknown> = { ...it.properties };
    for (const name of nullable) properties[name] ??= null;
    return buildFeature(
      parseGeometry({ type: "MultiPolygon", coordinates: it.parts }),
      properties as Record<string, never>,
      meta,
    );
  });
  const head = header(meta, collection.name, options);
  const first = new Uint8Array(MAGIC.length + head.length);
  first.set(MAGIC);
  first.set(head, MAGIC.length);
  yield first;
  if (items.length === 0) return;
  const offsets: number[] = [];
  let offset = 0;
  for (const bytes of encoded) {
    offsets.push(offset);
    offset += bytes.length;
  }
  yield packedRTree(items.map((it) => it.extent), offsets);
  yield* encoded;
}
