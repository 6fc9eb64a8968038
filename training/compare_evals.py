"""Markdown tables from `deno task eval --out-json` reports: models (tags) side by side on the
15-class class-capped val, per class against the filled-box floor, per noise preset, and by object
size when the clean reports have `bySize`.

    python3 training/compare_evals.py models/sopseg-lite/eval/val15_cap150 old new
"""
import json, sys
E = sys.argv[1] if len(sys.argv) > 1 else "models/sopseg-lite/eval/val15_cap150"
presets = ["clean", "default", "heavy", "tight1", "loose1", "corners"]
def load(tag, p):
    try:
        return json.load(open(f"{E}/{tag}_{p}.json"))["summary"]
    except FileNotFoundError:
        return None
floor = json.load(open(f"{E}/floor15cap.json"))["summary"]
fl = {c["className"]: c for c in floor["classes"]}
small = ["small_vehicle", "large_vehicle", "ship", "plane", "storage_tank", "swimming_pool", "helicopter"]
tags = sys.argv[2:] or ["old", "new"]
res = {t: {p: load(t, p) for p in presets} for t in tags}
names = [c["className"] for c in floor["classes"]]
names = [n for n in small if n in names] + sorted(n for n in names if n not in small)
def pc(s, n, key="iou"):
    d = {c["className"]: c for c in s["classes"]}
    return 100 * d[n][key]
print("| class | n | floor IoU | " + " | ".join(f"{t} IoU / BIoU" for t in tags) + " |")
print("|---|---|---|" + "---|" * len(tags))
for n in names:
    row = [n, str(fl[n]["instances"]), f"{100*fl[n]['iou']:.2f}"]
    for t in tags:
        s = res[t]["clean"]
        row.append(f"{pc(s,n):.2f} / {pc(s,n,'boundaryIou'):.2f}" if s else "-")
    print("| " + " | ".join(row) + " |")
def mean(s, ns):
    return sum(pc(s, n) for n in ns) / len(ns)
for label, ns in (("mean, 15 classes", names), ("mean, 7 small-object classes", small), ("mean, 8 other classes", [n for n in names if n not in small])):
    row = [label, "", f"{sum(100*fl[n]['iou'] for n in ns)/len(ns):.2f}"]
    for t in tags:
        s = res[t]["clean"]
        row.append(f"{mean(s, ns):.2f}" if s else "-")
    print("| " + " | ".join(row) + " |")
print()
print("| preset | " + " | ".join(f"{t} mIoU (drop)" for t in tags) + " | " + " | ".join(f"{t} worst class drop" for t in tags) + " |")
print("|---|" + "---|" * (2 * len(tags)))
for p in presets:
    row = [p]
    worst = []
    for t in tags:
        s, c = res[t][p], res[t]["clean"]
        if s is None:
            row.append("-"); worst.append("-"); continue
        row.append(f"{100*s['mIoU']:.2f} ({100*(s['mIoU']-c['mIoU']):+.2f})" if p != "clean" else f"{100*s['mIoU']:.2f}")
        drops = sorted(((pc(c, n) - pc(s, n)), n) for n in names)
        worst.append(f"{drops[-1][1]} {drops[-1][0]:.1f}" if p != "clean" else "")
    print("| " + " | ".join(row + worst) + " |")
# by object size (`bySize`, reports from after it was added): per bin, then per class x bin
def by_size(tag):
    try:
        return json.load(open(f"{E}/{tag}_clean.json")).get("bySize")
    except FileNotFoundError:
        return None
sizes = {t: by_size(t) for t in tags}
bins = next((b for b in sizes.values() if b), None)
if bins:
    def cell(b, key="iou"):
        return f"{100*b[key]:.2f} (n={b['instances']})" if b and b["instances"] else "-"
    def find(tag, name):
        return next((b for b in sizes[tag] or [] if b["name"] == name), None)
    print()
    print("| size (long side, px) | " + " | ".join(f"{t} mIoU / mBIoU | {t} IoU, all instances" for t in tags) + " |")
    print("|---|" + "---|" * (2 * len(tags)))
    for b in bins:
        row = [b["name"]]
        for t in tags:
            s = find(t, b["name"])
            row.append(f"{100*s['mIoU']:.2f} / {100*s['mBIoU']:.2f}" if s and s["mIoU"] is not None else "-")
            row.append(cell(s["all"] if s else None))
        print("| " + " | ".join(row) + " |")
    print()
    print("| class | " + " | ".join(f"{t} {b['name']}" for t in tags for b in bins) + " |")
    print("|---|" + "---|" * (len(tags) * len(bins)))
    for n in names:
        row = [n]
        for t in tags:
            for b in bins:
                s = find(t, b["name"])
                row.append(cell(next((c for c in s["classes"] if c["className"] == n), None) if s else None))
        print("| " + " | ".join(row) + " |")
