"""The 15 iSAID / DOTA-v1.0 classes, with the names detectors and datasets use for them.

The export writes the classes a model was trained on into its manifest (`classes`), so the
runtime can flag a detection whose class the model never saw (`in_training_classes`). Names
match after normalisation (lower case; runs of spaces, hyphens and underscores become one `_`),
so DOTA's `small-vehicle` and iSAID's `Small_Vehicle` are both `small_vehicle`; the aliases are
the other spellings in use (NWPU VHR-10, FAIR1M, xView, British English, ...).
"""

from __future__ import annotations

import re

# iSAID category id -> (canonical name, aliases)
ISAID_CLASSES: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("ship", ("boat", "vessel", "cargo_ship", "warship", "motorboat", "fishing_boat")),
    2: ("storage_tank", ("storagetank", "tank", "oil_tank")),
    3: ("baseball_diamond", ("baseballdiamond", "baseball_field")),
    4: ("tennis_court", ("tenniscourt",)),
    5: ("basketball_court", ("basketballcourt",)),
    6: ("ground_track_field", ("groundtrackfield", "track_field")),
    7: ("bridge", ()),
    8: ("large_vehicle", ("largevehicle", "truck", "bus", "trailer", "van")),
    9: ("small_vehicle", ("smallvehicle", "car", "small_car", "vehicle")),
    10: ("helicopter", ()),
    11: ("swimming_pool", ("swimmingpool", "pool")),
    12: ("roundabout", ()),
    13: ("soccer_ball_field", ("soccerballfield", "soccer_field", "football_field")),
    14: ("plane", ("airplane", "aircraft", "airliner")),
    15: ("harbor", ("harbour", "port")),
}

# the seven small-object classes of ../shared/data/isaid512 annotations.json.gz
SMALL_OBJECT_IDS = (1, 2, 8, 9, 10, 11, 14)


def normalize_class_name(name: str) -> str:
    """Lower case, runs of spaces, hyphens and underscores to one `_` (as the runtime does)."""
    return re.sub(r"[\s\-_]+", "_", name.strip().lower())


def manifest_classes(category_ids: list[int]) -> list[dict]:
    """The manifest's `classes`: [{id, name, aliases}] for the given iSAID ids, by id."""
    out = []
    for cid in sorted(set(category_ids)):
        name, aliases = ISAID_CLASSES[cid]
        out.append({"id": cid, "name": name, "aliases": list(aliases)})
    return out


def trained_category_ids(run: dict | None) -> list[int]:
    """The iSAID ids a checkpoint was trained on: its run record's `categories` when present;
    otherwise from its annotation files (the 15-class union when `annotations_extra` is among
    them), else the seven small-object classes (every run before the 15-class data)."""
    if run and run.get("categories"):
        return [int(c) for c in run["categories"]]
    files = (run or {}).get("annotations") or ["annotations.json.gz"]
    if any("annotations_extra" in f for f in files):
        return sorted(ISAID_CLASSES)
    return list(SMALL_OBJECT_IDS)
