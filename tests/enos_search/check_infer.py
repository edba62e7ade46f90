#!/usr/bin/env python3
"""Checks a `cimsim infer --report` of a searched export: logits identical to the host reference for every image,
and the simulated energy of every accelerator layer equal to the export's predicted_energy_pj (and the simulated
total per image to the search's energy_pj in the export's meta).
Usage: check_infer.py EXPORT REPORT LABEL"""
import json
import sys

ex, r, label = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
sim = r["simulation"]
pred = {n["name"]: n["predicted_energy_pj"] for n in ex["nodes"] if n["kind"] == "accel"}
seen = [l["node"] for l in sim["layers"] if l["node"] in pred]
bad = [(l["node"], l["energy_pj_per_image"], pred[l["node"]]) for l in sim["layers"]
       if l["node"] in pred and abs(l["energy_pj_per_image"] - pred[l["node"]]) > 1e-9 * max(1.0, pred[l["node"]])]
total_ok = abs(sim["energy_pj_per_image"] - ex["meta"]["energy_pj"]) <= 1e-9 * ex["meta"]["energy_pj"]
ok = r["identical_logits"] == r["images"] and not bad and len(pred) > 0 and set(seen) == set(pred) and total_ok
print(("ok" if ok else "FAIL") + ": %s: identical logits %d/%d, %d accel layers, simulated %.6f pJ/img vs searched "
      "%.6f pJ/img, layers off the prediction: %s" % (label, r["identical_logits"], r["images"], len(pred),
                                                      sim["energy_pj_per_image"], ex["meta"]["energy_pj"], bad))
sys.exit(0 if ok else 1)
