"""The class table the export writes into the manifest."""

from sopseg.classes import (
    ISAID_CLASSES,
    SMALL_OBJECT_IDS,
    manifest_classes,
    normalize_class_name,
    trained_category_ids,
)


def test_dota_and_isaid_spellings_normalise_to_the_canonical_names() -> None:
    dota = [
        "plane", "ship", "storage-tank", "baseball-diamond", "tennis-court", "basketball-court",
        "ground-track-field", "harbor", "bridge", "large-vehicle", "small-vehicle",
        "helicopter", "roundabout", "soccer-ball-field", "swimming-pool",
    ]
    canonical = {name for name, _ in ISAID_CLASSES.values()}
    assert {normalize_class_name(n) for n in dota} == canonical
    assert normalize_class_name(" Small_Vehicle ") == "small_vehicle"
    assert normalize_class_name("Soccer_ball_field") == "soccer_ball_field"


def test_aliases_are_unique_across_classes() -> None:
    seen: dict[str, str] = {}
    for name, aliases in ISAID_CLASSES.values():
        for a in (name, *aliases):
            n = normalize_class_name(a)
            assert seen.setdefault(n, name) == name, f"{a} names {seen[n]} and {name}"


def test_trained_ids_follow_the_run_record() -> None:
    assert trained_category_ids(None) == list(SMALL_OBJECT_IDS)
    assert trained_category_ids({"annotations": ["annotations.json.gz"]}) == list(SMALL_OBJECT_IDS)
    extra = {"annotations": ["annotations.json.gz", "annotations_extra.json.gz"]}
    assert trained_category_ids(extra) == sorted(ISAID_CLASSES)
    assert trained_category_ids({"categories": [9, 1], "annotations": []}) == [9, 1]
    rows = manifest_classes([9, 1, 9])
    assert [r["name"] for r in rows] == ["ship", "small_vehicle"]
    assert "car" in rows[1]["aliases"]
