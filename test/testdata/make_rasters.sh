#!/usr/bin/env bash
# Makes the raster fixtures of test/raster/ into test/testdata/generated/.
#
# Pixel content comes from a small deterministic numpy/cv2 step (raw ENVI
# files); GDAL command-line tools turn it into GeoTIFFs of every layout the
# reader must handle, and dump GDAL's own decoding of each file to raw
# `<name>.gdal.bin` (band-sequential, little-endian) so tests compare against
# GDAL rather than against our own reader. Idempotent: does nothing when the
# stamp matches this script. Needs gdal-bin (gdal_translate, gdaladdo) and
# python3 with numpy and cv2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/generated"
stamp="$out/.stamp"
# one run at a time (parallel test processes): lock this script itself
exec 9<"${BASH_SOURCE[0]}"
flock 9
hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
  exit 0
fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cd "$out.tmp"
export GDAL_PAM_ENABLED=NO   # no .aux.xml side files
q() { "$@" >/dev/null; }

/usr/bin/python3 - <<'PY'
import struct, zlib
import numpy as np
import cv2

rng = np.random.default_rng(20240611)

def envi(name, arr, dtype):
    """Write arr [bands, rows, cols] as raw band-sequential + ENVI header."""
    arr = np.ascontiguousarray(arr.astype(dtype))
    codes = {"uint8": 1, "int16": 2, "float32": 4, "uint16": 12}
    b, h, w = arr.shape
    arr.astype(arr.dtype.newbyteorder("<")).tofile(name + ".raw")
    with open(name + ".hdr", "w") as f:
        f.write("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\n"
                "file type = ENVI Standard\ndata type = %d\ninterleave = bsq\n"
                "byte order = 0\n" % (w, h, b, codes[arr.dtype.name]))

def pattern(bands, h, w, lo, hi, noise):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = []
    for k in range(bands):
        base = (x / w * (1 + k) + y / h * (2 - 0.5 * k)) % 1.0
        ring = 0.25 * np.sin((x * (k + 1) + y) / 17.0)
        v = np.clip(base * 0.7 + ring + 0.15, 0, 1)
        v = lo + v * (hi - lo) + rng.normal(0, noise, (h, w))
        out.append(np.clip(v, lo, hi))
    return np.stack(out)

# 8-bit RGB, 600x400
rgb = pattern(3, 400, 600, 0, 255, 6).round()
cv2.rectangle(rgb[0], (50, 60), (170, 140), 255, -1)
envi("rgb8", rgb, "uint8")
# 8-bit gray 300x200
envi("gray8", pattern(1, 200, 300, 0, 255, 4).round(), "uint8")
# 16-bit 4-band 700x500, nodata 0 on a border band and a block
u16 = pattern(4, 500, 700, 200, 9000, 40).round()
u16[:, :, :40] = 0
u16[:, 300:380, 450:600] = 0
u16[3, 10:20, 100:110] = 0          # nodata in one band only: pixel still valid
envi("u16x4", u16, "uint16")
# signed 16-bit 1-band 520x300 with negatives
envi("i16", pattern(1, 300, 520, -3000, 3000, 30).round(), "int16")
# float32 1-band 400x300, nodata -9999 in a corner
f32 = pattern(1, 300, 400, -1.5, 42.25, 0.5)
f32[:, :30, :50] = -9999
envi("f32", f32, "float32")
# float32 1-band 200x100 with infinities (no nodata), and one all nodata
f32inf = pattern(1, 100, 200, 3.0, 11.0, 0.1)
f32inf[:, :20, :] = np.inf
f32inf[:, 20:25, :] = -np.inf
envi("f32inf", f32inf, "float32")
envi("f32void", np.full((1, 60, 80), -9999.0), "float32")
# large tiled 3072x3072 RGB (low-entropy noise, compresses to a few MB)
big = pattern(3, 3072, 3072, 0, 255, 0)
big += rng.integers(0, 16, big.shape)
envi("big", np.clip(big, 0, 255).round(), "uint8")
# 8-bit RGB for PNG/JPEG
cv2.imwrite("rgb8.png", np.transpose(rgb, (1, 2, 0))[:, :, ::-1].astype(np.uint8))
cv2.imwrite("rgb8.jpg", np.transpose(rgb, (1, 2, 0))[:, :, ::-1].astype(np.uint8),
            [cv2.IMWRITE_JPEG_QUALITY, 92])
rgba = np.concatenate([np.transpose(rgb, (1, 2, 0)), np.full((400, 600, 1), 255.0)], axis=2)
rgba[:50, :80, 3] = 0
cv2.imwrite("rgba8.png", rgba[:, :, [2, 1, 0, 3]].astype(np.uint8))
g16 = pattern(1, 200, 300, 1000, 50000, 100)[0].round().astype(np.uint16)
cv2.imwrite("gray16.png", g16)

# palette PNG (4-bit indices, tRNS on index 0), written by hand
def chunk(t, d):
    c = struct.pack(">I", len(d)) + t + d
    return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
pw, ph = 37, 23
idx = ((np.arange(pw)[None, :] // 3 + np.arange(ph)[:, None] // 2) % 16).astype(np.uint8)
packed = bytearray()
for row in idx:
    packed.append(0)
    r = list(row) + ([0] if pw % 2 else [])
    packed += bytes((r[i] << 4) | r[i + 1] for i in range(0, len(r), 2))
pal = bytes(v for i in range(16) for v in (i * 16, 255 - i * 8, (i * 37) % 256))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", pw, ph, 4, 3, 0, 0, 0))
       + chunk(b"PLTE", pal) + chunk(b"tRNS", b"\x00") + chunk(b"IDAT", zlib.compress(bytes(packed)))
       + chunk(b"IEND", b""))
open("palette4.png", "wb").write(png)
np.save("palette4_idx.npy", idx)
with open("palette4.expected.bin", "wb") as f:
    f.write(np.stack([np.frombuffer(pal, np.uint8).reshape(16, 3)[idx][..., c] for c in range(3)]).tobytes())

open("not_an_image.tif", "w").write("this is plain text, not a TIFF\n")
open("truncated.png", "wb").write(png[:40])
PY

utm="-a_srs EPSG:32633 -a_ullr 500000 5200000 500600 5199600"
# 8-bit RGB: striped deflate+predictor (UTM 33N), tiled LZW (WGS84), pixel-is-point
q gdal_translate -of GTiff -co COMPRESS=DEFLATE -co PREDICTOR=2 $utm rgb8.raw rgb8_striped_deflate.tif
q gdal_translate -of GTiff -co COMPRESS=DEFLATE f32inf.raw f32_inf.tif
q gdal_translate -of GTiff -a_nodata -9999 $utm f32void.raw f32_all_nodata.tif
q gdal_translate -of GTiff -co TILED=YES -co BLOCKXSIZE=256 -co BLOCKYSIZE=256 -co COMPRESS=LZW \
  -a_srs EPSG:4326 -a_ullr 14.5 46.25 14.56 46.21 rgb8.raw rgb8_tiled_lzw.tif
q gdal_translate -of GTiff -co TILED=YES $utm -mo AREA_OR_POINT=Point rgb8.raw rgb8_point.tif
# band-interleaved (PlanarConfiguration=2), uncompressed, striped, no georeference
q gdal_translate -of GTiff -co INTERLEAVE=BAND rgb8.raw rgb8_planar.tif
# rotated geotransform -> ModelTransformationTag
cat > rotated.vrt <<'VRT'
<VRTDataset rasterXSize="300" rasterYSize="200">
  <SRS>EPSG:32633</SRS>
  <GeoTransform>500000, 0.8, 0.3, 5200000, 0.2, -0.9</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1">
    <SimpleSource><SourceFilename relativeToVRT="1">gray8.raw</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>
VRT
q gdal_translate -of GTiff rotated.vrt gray8_rotated.tif
q gdal_translate -of GTiff -co TILED=YES -co BLOCKXSIZE=128 -co BLOCKYSIZE=128 gray8.raw gray8_tiled128.tif
# 16-bit 4-band, nodata 0: tiled deflate; and a copy with internal overviews
q gdal_translate -of GTiff -co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=2 -a_nodata 0 $utm u16x4.raw u16x4_tiled_nodata.tif
q gdal_translate -of GTiff -co COMPRESS=LZW -co INTERLEAVE=BAND -a_nodata 0 u16x4.raw u16x4_striped_planar_nodata.tif
cp u16x4_tiled_nodata.tif u16x4_ovr.tif
q gdaladdo -r nearest u16x4_ovr.tif 2 4
# decoded by geotiff.js's readRasters (not the typed-array fast path): JPEG, big-endian
q gdal_translate -of GTiff -co TILED=YES -co COMPRESS=JPEG -co JPEG_QUALITY=95 rgb8.raw rgb8_tiled_jpeg.tif
# the usual orthophoto GeoTIFF: JPEG in YCbCr with 2x2 chroma subsampling, tiled and striped
q gdal_translate -of GTiff -co TILED=YES -co COMPRESS=JPEG -co PHOTOMETRIC=YCBCR -co JPEG_QUALITY=95 rgb8.raw rgb8_tiled_jpeg_ycbcr.tif
q gdal_translate -of GTiff -co COMPRESS=JPEG -co PHOTOMETRIC=YCBCR -co JPEG_QUALITY=95 rgb8.raw rgb8_striped_jpeg_ycbcr.tif
# WEBP (geotiff.js decodes it only through a browser canvas): refused by name
q gdal_translate -of GTiff -co TILED=YES -co COMPRESS=WEBP rgb8.raw rgb8_tiled_webp.tif
q gdal_translate -of GTiff -co ENDIANNESS=BIG -co COMPRESS=LZW -a_nodata 0 u16x4.raw u16x4_bigendian_nodata.tif
q gdal_translate -of GTiff -co COMPRESS=DEFLATE -a_srs EPSG:4326 -a_ullr 10 50 10.52 49.7 i16.raw i16_striped.tif
q gdal_translate -of GTiff -co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=3 -a_nodata -9999 $utm f32.raw f32_tiled_nodata.tif
q gdal_translate -of GTiff -co TILED=YES -co BLOCKXSIZE=256 -co BLOCKYSIZE=256 -co COMPRESS=DEFLATE big.raw big_tiled.tif

# GDAL's decoding of each file, band-sequential little-endian raw
for f in *.tif rgb8.png rgba8.png gray16.png rgb8.jpg; do
  [[ "$f" == not_an_image.tif ]] && continue
  # ENVI cannot store a rotated geotransform (non-zero exit); the data is still written
  gdal_translate -q -of ENVI -co INTERLEAVE=BSQ "$f" "$f.gdal.bin" 2>/dev/null || [[ -s "$f.gdal.bin" ]]
  rm -f "$f.gdal.hdr" "$f.gdal.bin.aux.xml"
done
# the first overview level as GDAL reads it (the stretch sample of u16x4_ovr.tif)
gdal_translate -q -of ENVI -co INTERLEAVE=BSQ -oo OVERVIEW_LEVEL=0 u16x4_ovr.tif u16x4_ovr.tif.ovr0.gdal.bin
rm -f u16x4_ovr.tif.ovr0.gdal.hdr
for f in *.tif; do
  [[ "$f" == not_an_image.tif ]] && continue
  gdalinfo -json "$f" > "$f.gdalinfo.json"
done
rm -f *.raw *.hdr rotated.vrt palette4_idx.npy *.aux.xml

cd "$here"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$hash" > "$stamp"
