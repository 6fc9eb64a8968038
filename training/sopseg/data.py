"""iSAID COCO data: one sample per instance, RAM crops, OPM prompts, soft targets.

Crops are sampled with `grid_sample(normalised image, grid, bilinear, zeros,
align_corners=False)` exactly as docs/CONTRACT.md says; targets are the inclusive polygon
fill sampled with the same grid (soft masks).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .geometry import (
    INPUT_SIZE,
    Crop,
    OrientedBox,
    crop_grid,
    hbox_of_points,
    obox_from_polygons,
    opm_tokens,
    pixel_to_model,
    ram_side,
    fixed_crop,
    ram_crop,
)

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


@dataclass
class Instance:
    """One annotated object: tile index, class, polygons (int vertices), GT oriented box."""

    image_index: int
    category_id: int
    polygons: list[np.ndarray]
    obox: OrientedBox
    ann_id: int


def read_coco(path: str) -> dict:
    """Read a COCO json, plain or gzipped."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def read_coco_union(root: str, annotations: tuple[str, ...]) -> dict:
    """The union of COCO files under `root` as one COCO dict: images merged by id (the first
    file's order, then new images), annotations concatenated (their ids are disjoint),
    categories merged by id. A missing `.gz` falls back to the plain `.json`."""
    categories: dict[int, dict] = {}
    images_by_id: dict[int, dict] = {}
    anns: list[dict] = []
    for name in annotations:
        ann_path = os.path.join(root, name)
        if not os.path.exists(ann_path) and ann_path.endswith(".gz"):
            ann_path = ann_path[: -len(".gz")]
        coco = read_coco(ann_path)
        for c in coco["categories"]:
            categories[c["id"]] = c
        for im in coco["images"]:
            images_by_id.setdefault(im["id"], im)
        anns.extend(coco["annotations"])
    return {
        "images": list(images_by_id.values()),
        "annotations": anns,
        "categories": list(categories.values()),
    }


def polygons_of(ann: dict) -> list[np.ndarray]:
    """Integer polygons [K, 2] of a COCO annotation (OpenCV-contour vertex indices)."""
    polys = []
    for seg in ann["segmentation"]:
        p = np.round(np.asarray(seg, dtype=np.float64).reshape(-1, 2)).astype(np.int32)
        if len(p) > 0:
            polys.append(p)
    return polys


def gt_mask(polygons: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """Inclusive fill of the polygons (cv2.fillPoly on the integer vertices), uint8 0/1."""
    m = np.zeros((height, width), np.uint8)
    cv2.fillPoly(m, [p.reshape(-1, 1, 2) for p in polygons], 1)
    return m


class CocoInstances:
    """All instances of a split, tiles preloaded (optionally) as uint8 RGB."""

    def __init__(
        self,
        root: str,
        preload: bool = True,
        image_ids: set[int] | None = None,
        annotations: tuple[str, ...] = ("annotations.json.gz",),
    ) -> None:
        """`annotations`: COCO files under `root` whose union is the split (images merged by id,
        annotation ids disjoint), e.g. ("annotations.json.gz", "annotations_extra.json.gz")
        for the 15 iSAID classes. A missing `.gz` falls back to the plain `.json`."""
        self.root = root
        coco = read_coco_union(root, annotations)
        self.categories: dict[int, str] = {c["id"]: c["name"] for c in coco["categories"]}
        anns: list[dict] = coco["annotations"]
        images = [im for im in coco["images"] if image_ids is None or im["id"] in image_ids]
        self.images = images
        index_of = {im["id"]: i for i, im in enumerate(images)}
        self.instances: list[Instance] = []
        for ann in anns:
            i = index_of.get(ann["image_id"])
            if i is None:
                continue
            polys = polygons_of(ann)
            if not polys:
                continue
            self.instances.append(
                Instance(i, ann["category_id"], polys, obox_from_polygons(polys), ann["id"])
            )
        self.by_class: dict[int, list[int]] = {}
        for k, inst in enumerate(self.instances):
            self.by_class.setdefault(inst.category_id, []).append(k)
        self.tiles: list[np.ndarray | None] = [None] * len(images)
        if preload:
            for i in range(len(images)):
                self.tile(i)

    def image_path(self, i: int) -> str:
        return os.path.join(self.root, "images", self.images[i]["file_name"])

    def tile(self, i: int) -> np.ndarray:
        """uint8 [H, W, 3] RGB tile (cached)."""
        t = self.tiles[i]
        if t is None:
            bgr = cv2.imread(self.image_path(i), cv2.IMREAD_COLOR)
            if bgr is None:
                raise FileNotFoundError(f"Cannot read image: {self.image_path(i)}")
            t = np.ascontiguousarray(bgr[:, :, ::-1])
            self.tiles[i] = t
        return t


def normalised_tensor(
    rgb: np.ndarray, contrast: float = 1.0, brightness: float = 0.0
) -> torch.Tensor:
    """[1, 3, H, W] float32 (value - mean) / std, after optional contrast/brightness jitter."""
    t = torch.from_numpy(rgb).permute(2, 0, 1).float()
    if contrast != 1.0 or brightness != 0.0:
        t = ((t - 128.0) * contrast + 128.0 + brightness).clamp(0.0, 255.0)
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return ((t - mean) / std).unsqueeze(0)


def sample_crop(
    norm_image: torch.Tensor, crop: Crop, input_size: int = INPUT_SIZE
) -> torch.Tensor:
    """Crop tensor [1, C, S, S] (S = input_size) of a normalised image [1, C, H, W]
    (CONTRACT sampling)."""
    h, w = norm_image.shape[-2:]
    grid = torch.from_numpy(crop_grid(crop, w, h, input_size)).unsqueeze(0)
    return F.grid_sample(
        norm_image, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )


def edge_target(mask: torch.Tensor) -> torch.Tensor:
    """Boundary of (mask > 0.5) (mask minus 3x3 erosion), smoothed by a 3x3 Gaussian."""
    m = (mask > 0.5).float()
    eroded = -F.max_pool2d(-m, 3, stride=1, padding=1)
    boundary = m - eroded
    # separable [1, 2, 1] / 4 Gaussian, zero padding (a conv2d with one channel is slow on CPU)
    x = F.pad(boundary, (1, 1, 1, 1))
    x = (x[..., :, :-2] + 2.0 * x[..., :, 1:-1] + x[..., :, 2:]) / 4.0
    x = (x[..., :-2, :] + 2.0 * x[..., 1:-1, :] + x[..., 2:, :]) / 4.0
    return x.clamp(0.0, 1.0)


def augment_points(
    pts: np.ndarray, flip_x: bool, flip_y: bool, rot: int, input_size: int = INPUT_SIZE
) -> np.ndarray:
    """Model-frame points under the same flips/rot90 as `augment_tensor`."""
    p = np.array(pts, dtype=np.float64)
    s = float(input_size)
    if flip_x:
        p[:, 0] = s - p[:, 0]
    if flip_y:
        p[:, 1] = s - p[:, 1]
    for _ in range(rot):  # torch.rot90(k=1, dims=(-2, -1)): (x, y) -> (y, S - x)
        p = np.stack([p[:, 1], s - p[:, 0]], axis=1)
    return p


def augment_tensor(t: torch.Tensor, flip_x: bool, flip_y: bool, rot: int) -> torch.Tensor:
    if flip_x:
        t = torch.flip(t, dims=[-1])
    if flip_y:
        t = torch.flip(t, dims=[-2])
    if rot:
        t = torch.rot90(t, k=rot, dims=(-2, -1))
    return t


def jitter_obox(
    box: OrientedBox,
    rng: np.random.Generator,
    shift: float = 0.05,
    scale: float = 0.1,
    angle: float = 3.0,
) -> OrientedBox:
    """Detector-like noise: centre ~N(0, shift x size) along the axes, sides x U[1 - scale,
    1 + scale], angle + N(0, angle deg); the normal draws clipped at 3 sigma."""
    du = float(np.clip(rng.normal(0, shift), -3 * shift, 3 * shift)) * box.w
    dv = float(np.clip(rng.normal(0, shift), -3 * shift, 3 * shift)) * box.h
    t = math.radians(box.angle)
    cx = box.cx + du * math.cos(t) - dv * math.sin(t)
    cy = box.cy + du * math.sin(t) + dv * math.cos(t)
    w = box.w * float(rng.uniform(1 - scale, 1 + scale))
    h = box.h * float(rng.uniform(1 - scale, 1 + scale))
    a = box.angle + float(np.clip(rng.normal(0, angle), -3 * angle, 3 * angle))
    return OrientedBox(cx, cy, w, h, a)


def _heavy(rng: np.random.Generator, sigma: float, df: float = 4.0) -> float:
    """A Student-t draw (heavier tails than a normal) with scale `sigma`, clipped at 5 sigma."""
    return float(np.clip(rng.standard_t(df), -5.0, 5.0)) * sigma


def move_sides(
    box: OrientedBox, du0: float, du1: float, dv0: float, dv1: float
) -> OrientedBox:
    """Each side moved outwards by the given pixels (negative: inwards): du0/du1 the sides
    across the width axis at -u/+u, dv0/dv1 those across the height axis. Sides never shrink
    below 1 px."""
    t = math.radians(box.angle)
    w = max(1.0, box.w + du0 + du1)
    h = max(1.0, box.h + dv0 + dv1)
    su, sv = (du1 - du0) / 2.0, (dv1 - dv0) / 2.0
    cx = box.cx + su * math.cos(t) - sv * math.sin(t)
    cy = box.cy + su * math.sin(t) + sv * math.cos(t)
    return OrientedBox(cx, cy, w, h, box.angle)


def mixture_obox(
    box: OrientedBox, rng: np.random.Generator, tail: float = 1.0, rel_prob: float = 0.6
) -> OrientedBox:
    """The training mixture of box errors (one draw per sample; (1 - rel_prob) / 2 left clean:
    20 % at the default 0.6):

    - relative (p `rel_prob`): centre shift with a Student-t (df 4) of scale U(0.01, 0.10) times
      the side (half the draws) or the long side (the other half) per axis; each side scaled by
      exp(t * U(0.03, 0.15)); angle + t * U(0.5, 6) degrees;
    - absolute (p 0.5): every side moved in or out by U(-1.25, 1.25) px on its own: label
      conventions (half a pixel per side), corners on pixel centres, 1-px detector error,
      which matters most for 5-10 px vehicles.

    `tail` multiplies the upper bounds of the relative scales (shift 0.10, side 0.15,
    angle 6 degrees): stretch 6 trains with 1.4, heavier than the `heavy` eval preset.
    Stretch 16 trains with tail 2.0 and `rel_prob` 0.75.

    Independent quadrilateral corner noise is deliberately not trained on: it is the held-out
    noise preset of `deno task eval`."""
    out = box
    if rng.random() < rel_prob:
        s = float(rng.uniform(0.01, 0.10 * tail))
        long_ref = rng.random() < 0.5
        ru = max(box.w, box.h) if long_ref else box.w
        rv = max(box.w, box.h) if long_ref else box.h
        du, dv = _heavy(rng, s) * ru, _heavy(rng, s) * rv
        t = math.radians(box.angle)
        cx = box.cx + du * math.cos(t) - dv * math.sin(t)
        cy = box.cy + du * math.sin(t) + dv * math.cos(t)
        sc = float(rng.uniform(0.03, 0.15 * tail))
        w = box.w * math.exp(_heavy(rng, sc))
        h = box.h * math.exp(_heavy(rng, sc))
        a = box.angle + _heavy(rng, float(rng.uniform(0.5, 6.0 * tail)))
        out = OrientedBox(cx, cy, max(1.0, w), max(1.0, h), a)
    if rng.random() < 0.5:
        d = rng.uniform(-1.25, 1.25, size=4)
        out = move_sides(out, float(d[0]), float(d[1]), float(d[2]), float(d[3]))
    return out


def degrade(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor and processing changes on a uint8 RGB window (geometry unchanged): resolution
    loss (down then up, factor U(1.3, 2.5), p 0.25), Gaussian blur (sigma U(0.3, 1.4), p 0.25),
    per-channel gain U(0.85, 1.15) and saturation U(0.6, 1.4) (p 0.5), gamma U(0.7, 1.4)
    (p 0.3), grey (p 0.05), sensor noise (sigma U(2, 8), p 0.2), JPEG (quality U(30, 90),
    p 0.3)."""
    h, w = window.shape[:2]
    img = window
    if rng.random() < 0.25 and min(h, w) >= 4:
        f = float(rng.uniform(1.3, 2.5))
        small = cv2.resize(
            img, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA
        )
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 1.4)))
    x = None
    if rng.random() < 0.5:
        x = img.astype(np.float32)
        x *= rng.uniform(0.85, 1.15, size=3).astype(np.float32)
        grey = x.mean(axis=2, keepdims=True)
        x = grey + (x - grey) * float(rng.uniform(0.6, 1.4))
    if rng.random() < 0.3:
        x = img.astype(np.float32) if x is None else x
        x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** float(rng.uniform(0.7, 1.4))
    if rng.random() < 0.05:
        x = img.astype(np.float32) if x is None else x
        x = np.repeat(x.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < 0.2:
        x = img.astype(np.float32) if x is None else x
        x = x + rng.normal(0.0, float(rng.uniform(2, 8)), size=x.shape).astype(np.float32)
    if x is not None:
        img = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if rng.random() < 0.3 and min(h, w) >= 2:
        q = int(rng.integers(30, 91))
        bgr = np.ascontiguousarray(img[:, :, ::-1])
        ok, enc = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img = np.ascontiguousarray(cv2.imdecode(enc, cv2.IMREAD_COLOR)[:, :, ::-1])
    return np.ascontiguousarray(img)


def class_onehot(
    category_ids: torch.Tensor,
    size: int,
    drop: float = 0.0,
    rng: np.random.Generator | None = None,
) -> torch.Tensor:
    """The class prompt [B, size]: one-hot of each iSAID category id (index 0 = unknown).
    With `drop` > 0, that share of the items (drawn from `rng`) get the unknown class, so
    the model still works when a detection's class is missing or not one it knows."""
    idx = category_ids.long().clone()
    if drop > 0:
        rng = rng or np.random.default_rng()
        idx[torch.from_numpy(rng.random(len(idx)) < drop)] = 0
    idx[(idx < 0) | (idx >= size)] = 0
    return F.one_hot(idx, size).float()


def prompt_for(
    box: OrientedBox,
    ax: float = 0.5,
    ay: float = 0.5,
    input_size: int = INPUT_SIZE,
    context: float = 1.0,
) -> tuple[Crop, np.ndarray, np.ndarray]:
    """RAM crop and model-frame OPM tokens (coords [5, 2], labels [5]) for an oriented box."""
    corners = box.corners()
    crop = ram_crop(hbox_of_points(corners), ax, ay, context)
    coords, labels = opm_tokens(pixel_to_model(corners, crop, input_size))
    return crop, coords, labels


@dataclass
class SamplerConfig:
    train: bool = True
    noise_prob: float = 0.5
    noise_shift: float = 0.05  # sigma of the centre shift, fraction of the side
    noise_scale: float = 0.1  # half-width of the uniform side scaling
    noise_angle: float = 3.0  # sigma of the rotation, degrees
    box_only_prob: float = 0.10
    points_only_prob: float = 0.05
    fixed_context: float = 0.0  # ablation: square crop of this side (>= the box) instead of RAM
    ram_context: float = 1.0  # RAM crop side at least this x the object (manifest `ram.context`)
    class_uniform_weight: float = 0.5  # mix of uniform and sqrt-frequency class sampling
    noise_mixture: bool = False  # `mixture_obox` instead of `jitter_obox` (noise_prob unused)
    mixture_tail: float = 1.0  # `mixture_obox`'s tail multiplier
    mixture_rel_prob: float = 0.6  # `mixture_obox`'s probability of a relative error
    degrade: bool = False  # `degrade` the tile window (sensor / processing augmentation)
    # Share of training boxes left exactly as labelled, before the mixture (0: the mixture's own
    # clean share only, (1 - rel_prob) / 2); drawn only when over 0, so older runs reproduce.
    clean_prob: float = 0.0
    # Share of windows that `degrade` touches when `degrade` is on (1: all, as before).
    degrade_prob: float = 1.0
    input_size: int = INPUT_SIZE  # the model's crop side in pixels
    # A second, smaller crop side (0: none) that the runtime uses for objects whose RAM crop
    # is at most that many source pixels (it never shrinks their crop). A training batch is
    # made at that size with probability `small_prob`, from those objects only.
    small_input_size: int = 0
    small_prob: float = 0.0
    # The largest RAM crop side (source pixels) of the objects drawn for the small batches
    # (0: small_input_size): the runtime's routing threshold (`small_graphs.max_crop_side`).
    small_max_crop_side: int = 0
    # The main (input_size) batches' objects: RAM crop side over this many source pixels
    # (0: all). With small graphs the runtime sends the main graphs only the crops over
    # `small_graphs.max_crop_side`; a margin under it keeps the crops a noisy box moves across.
    main_min_crop_side: int = 0


def class_probabilities(counts: np.ndarray, uniform_weight: float) -> np.ndarray:
    """Class sampling probabilities: `uniform_weight` uniform over the classes with members,
    the rest in proportion to the square root of their member counts."""
    has = (counts > 0).astype(np.float64)
    sq = np.sqrt(counts) / np.sqrt(counts).sum()
    return uniform_weight * has / has.sum() + (1.0 - uniform_weight) * sq


class InstanceSampler:
    """Builds training batches (class-balanced) or evaluation batches (given instances)."""

    def __init__(self, data: CocoInstances, cfg: SamplerConfig, seed: int = 0) -> None:
        self.data = data
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        self.classes = sorted(data.by_class)
        self.members = [data.by_class[c] for c in self.classes]
        n = np.array([len(m) for m in self.members], dtype=np.float64)
        self.class_p = class_probabilities(n, cfg.class_uniform_weight)
        self.small_members: list[list[int]] = []

        def crop_side(k: int) -> float:
            hb = hbox_of_points(data.instances[k].obox.corners())
            return ram_side(max(hb[2], hb[3]), cfg.ram_context)

        if cfg.small_input_size:
            # the objects the runtime sends to the small graphs: RAM crop side (of the GT
            # box) at most the routing threshold (by default the small input size)
            lim = float(cfg.small_max_crop_side or cfg.small_input_size)
            self.small_members = [[k for k in m if crop_side(k) <= lim] for m in self.members]
            n_small = np.array([len(m) for m in self.small_members], dtype=np.float64)
            self.small_class_p = class_probabilities(n_small, cfg.class_uniform_weight)
        if cfg.main_min_crop_side:
            lo = float(cfg.main_min_crop_side)
            self.members = [[k for k in m if crop_side(k) > lo] for m in self.members]
            n = np.array([len(m) for m in self.members], dtype=np.float64)
            if not n.any():
                raise ValueError(f"no object has a RAM crop over {lo:g} px")
            self.class_p = class_probabilities(n, cfg.class_uniform_weight)

    def random_indices(self, batch: int, small: bool = False) -> list[int]:
        """Class-balanced instance indices; `small`: only objects for the small input."""
        members = self.small_members if small else self.members
        p = self.small_class_p if small else self.class_p
        cls = self.rng.choice(len(self.classes), size=batch, p=p)
        return [members[c][int(self.rng.integers(len(members[c])))] for c in cls]

    def make_sample(self, k: int, input_size: int = 0) -> dict[str, torch.Tensor]:
        inst = self.data.instances[k]
        tile = self.data.tile(inst.image_index)
        h, w = tile.shape[:2]
        rng = self.rng
        cfg = self.cfg
        train = cfg.train
        box = inst.obox
        noisy = train and not (cfg.clean_prob > 0 and rng.random() < cfg.clean_prob)
        if noisy and cfg.noise_mixture:
            box = mixture_obox(box, rng, cfg.mixture_tail, cfg.mixture_rel_prob)
        elif noisy and rng.random() < cfg.noise_prob:
            box = jitter_obox(box, rng, cfg.noise_shift, cfg.noise_scale, cfg.noise_angle)
        ax, ay = 0.5, 0.5
        if train:
            ax, ay = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))
        corners = box.corners()
        if cfg.fixed_context > 0:
            crop = fixed_crop(hbox_of_points(corners), cfg.fixed_context, ax, ay)
        else:
            crop = ram_crop(hbox_of_points(corners), ax, ay, cfg.ram_context)
        n = input_size or cfg.input_size
        corners_m = pixel_to_model(corners, crop, n)
        contrast, brightness = 1.0, 0.0
        flip_x = flip_y = False
        rot = 0
        if train:
            contrast = float(rng.uniform(0.8, 1.2))
            brightness = float(rng.uniform(-20, 20))
            flip_x = bool(rng.random() < 0.5)
            flip_y = bool(rng.random() < 0.5)
            rot = int(rng.integers(4))
            corners_m = augment_points(corners_m, flip_x, flip_y, rot, n)
        coords, labels = opm_tokens(corners_m)
        if train:
            r = rng.random()
            if r < self.cfg.box_only_prob:
                coords[0:3] = 0.0
                labels[0:3] = -1.0
            elif r < self.cfg.box_only_prob + self.cfg.points_only_prob:
                coords[3:5] = 0.0
                labels[3:5] = -1.0
        # Sample from the window of the tile that the crop touches (same values as sampling
        # the whole tile: outside the image stays zero padding, and the window has a margin).
        i0 = max(0, int(math.floor(crop.x0)) - 2)
        j0 = max(0, int(math.floor(crop.y0)) - 2)
        i1 = min(w, int(math.ceil(crop.x0 + crop.size)) + 2)
        j1 = min(h, int(math.ceil(crop.y0 + crop.size)) + 2)
        if i1 <= i0 or j1 <= j0:  # crop entirely outside the tile (cannot happen for GT boxes)
            i0, j0, i1, j1 = 0, 0, w, h
        sub = Crop(crop.x0 - i0, crop.y0 - j0, crop.size)
        window = tile[j0:j1, i0:i1]
        if train and cfg.degrade and (cfg.degrade_prob >= 1 or rng.random() < cfg.degrade_prob):
            window = degrade(window, rng)
        img = sample_crop(normalised_tensor(window, contrast, brightness), sub, n)[0]
        mask_np = gt_mask(inst.polygons, w, h)[j0:j1, i0:i1]
        mask_t = torch.from_numpy(np.ascontiguousarray(mask_np)).float()[None, None]
        mask = sample_crop(mask_t, sub, n)[0]
        img = augment_tensor(img, flip_x, flip_y, rot)
        mask = augment_tensor(mask, flip_x, flip_y, rot)
        return {
            "image": img,
            "mask": mask,
            "coords": torch.from_numpy(coords.astype(np.float32)),
            "labels": torch.from_numpy(labels.astype(np.float32)),
            "category": torch.tensor(inst.category_id),
            "index": torch.tensor(k),
        }

    def batch(
        self, indices: list[int] | None = None, batch: int = 16, targets: bool = True
    ) -> dict[str, torch.Tensor]:
        """A batch dict: image, coords, labels, targets `t1` [B,2,S,S] (mask, edge),
        `t2` (1/2) and `t4` (1/4) by area downsampling. With `targets=False` the batch keeps
        the `mask` instead, for `add_targets` to run later (e.g. on the GPU). S is
        `cfg.input_size`, or `cfg.small_input_size` for a random batch drawn for the small
        input (probability `cfg.small_prob`)."""
        n = self.cfg.input_size
        if indices is None:
            small = bool(self.small_members) and self.rng.random() < self.cfg.small_prob
            n = self.cfg.small_input_size if small else n
            indices = self.random_indices(batch, small)
        samples = [self.make_sample(k, n) for k in indices]
        out = {key: torch.stack([s[key] for s in samples]) for key in samples[0]}
        return add_targets(out) if targets else out


def add_targets(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replaces the batch's `mask` [B,1,S,S] by the targets t1 (mask, edge), t2 and t4."""
    mask = batch.pop("mask")
    t1 = torch.cat([mask, edge_target(mask)], dim=1)
    batch["t1"] = t1
    batch["t2"] = F.avg_pool2d(t1, 2)
    batch["t4"] = F.avg_pool2d(t1, 4)
    return batch
