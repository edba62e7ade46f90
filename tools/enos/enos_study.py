#!/usr/bin/python3
"""ENOS study under the fair protocol (docs/enos-results.md): baselines and searched networks get the same
training epochs on the same data; search cost is reported separately.

Per network and seed:
  uni-<candidate>          every layer on one candidate, trained `--epochs` epochs from scratch (11 runs)
  enos-<mode> (lambda)     search (pre-training + supernet warm-up + search epochs), then the found assignment
                           retrained from scratch for `--epochs` epochs (`cimsim search --assignment`)
  mixed-mac8-mac4-deepshift the same search restricted to the mixed-precision set (sampling mode), retrained
  knapsack (target)        per-layer sensitivities on the supernet + DP under the budget, retrained

  enos_study.py run --out DIR [--nets squeezenet,shufflenet] [--seeds 1,2,3] [--epochs 8] [--jobs 2] ...
  enos_study.py analyze --out DIR [--csv docs/enos-results.csv] [--md docs/enos-results.md]

`run` is resumable: a finished run (its report.json) is skipped, a killed one continues from its checkpoint
(`--resume`); split a long study into parts with --nets/--seeds (each part resumes on its own).
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time

CANDIDATES = ["mac8", "mac4", "bwn", "xnor", "mf", "deepshift", "adder", "mac4-cim", "bwn-cim", "xnor-cim", "mf-cim"]
MIXED_SET = "mac8,mac4,deepshift"
HAND_MARK = "<!-- hand-written below: kept by enos_study.py analyze -->"


def csv_list(s, conv=str):
    return [conv(x) for x in s.split(",") if x != ""]


def common_args(a, net, seed, out):
    return ["--net", net, "--seed", str(seed), "--train-subset", str(a.train_subset), "--test-subset",
            str(a.test_subset), "--threads", "1", "--no-progress", "--batch", str(a.batch), "--out-dir", out]


def train_args(a):
    return ["--pretrain-epochs", "0", "--warmup-epochs", "0", "--epochs", str(a.epochs), "--finetune-epochs", "0"]


def search_args(a):
    return ["--pretrain-epochs", str(a.pretrain_epochs), "--warmup-epochs", str(a.warmup_epochs), "--epochs",
            str(a.search_epochs), "--finetune-epochs", "0"]


def plan(a):
    """Jobs as (name, out_dir, argv, retrain_of): retrain jobs run after the search job they name."""
    jobs = []
    for net in csv_list(a.nets):
        for seed in csv_list(a.seeds, int):
            base = os.path.join(a.out, "runs", net, "seed%d" % seed)
            for c in csv_list(a.uni):
                d = os.path.join(base, "uni-" + c)
                jobs.append(("uni-" + c, d, common_args(a, net, seed, d) + ["--mode", "fixed", "--candidates", c] +
                             train_args(a), None))
            searches = []
            for mode in csv_list(a.modes):
                for lam in csv_list(a.lambdas, float):
                    searches.append(("enos-%s" % mode, "lambda%g" % lam,
                                     ["--mode", mode, "--lambda", "%g" % lam]))
            for lam in csv_list(a.mixed_lambdas, float):
                searches.append(("mixed-mac8-mac4-deepshift", "lambda%g" % lam,
                                 ["--mode", "sampling", "--candidates", MIXED_SET, "--lambda", "%g" % lam]))
            for t in csv_list(a.targets, float):
                searches.append(("knapsack", "target%g" % t, ["--mode", "knapsack", "--target-ratio", "%g" % t]))
            for method, tag, extra in searches:
                sd = os.path.join(base, method, tag, "search")
                td = os.path.join(base, method, tag, "train")
                jobs.append((method + "/" + tag + "/search", sd, common_args(a, net, seed, sd) + extra + search_args(a),
                             None))
                jobs.append((method + "/" + tag + "/train", td,
                             common_args(a, net, seed, td) + ["--assignment", os.path.join(sd, "report.json")] +
                             train_args(a), sd))
    return jobs


def run(a):
    jobs = plan(a)
    lock = threading.Lock()
    state = {"done": 0, "t0": time.time()}
    total = len(jobs)

    def one(job):
        name, d, argv, _ = job
        if os.path.exists(os.path.join(d, "report.json")):
            return 0
        os.makedirs(d, exist_ok=True)
        cmd = [a.cimsim, "search"] + argv
        if os.path.exists(os.path.join(d, "checkpoint.pt")):
            cmd.append("--resume")
        with open(os.path.join(d, "log.txt"), "ab") as log:
            log.write(("$ " + " ".join(cmd) + "\n").encode())
            log.flush()
            env = dict(os.environ)  # a copied binary finds the shipped data through CIMSIM_DATA
            env.setdefault("CIMSIM_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data"))
            rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        with lock:
            state["done"] += 1
            el = time.time() - state["t0"]
            print("[%d/%d] %s %s rc=%d (%.0f s elapsed)" % (state["done"], total, d, name, rc, el), flush=True)
        return rc

    # Scheduling: a retrain whose search has finished goes first (so that finished comparisons accumulate in
    # seed order when a part is stopped early), then the first-stage runs in plan order (seed by seed).
    failures = 0
    ready = [j for j in jobs if j[3] is None]
    waiting = [j for j in jobs if j[3] is not None]
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        pending = {}
        while ready or pending:
            while ready and len(pending) < a.jobs:
                j = ready.pop(0)
                pending[ex.submit(one, j)] = j
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for f in done:
                j = pending.pop(f)
                if f.result() != 0:
                    failures += 1
                for w in [w for w in waiting if w[3] == j[1]]:
                    waiting.remove(w)
                    if os.path.exists(os.path.join(j[1], "report.json")):
                        ready.insert(0, w)
    print("study: %d jobs, %d failed" % (total, failures), flush=True)
    return 1 if failures else 0


# ------------------------------------------------------------------------------------------------------------
# analysis

def load(path):
    with open(path) as f:
        return json.load(f)


def collect(a):
    rows = []
    root = os.path.join(a.out, "runs")
    for net in sorted(os.listdir(root)):
        for sd in sorted(os.listdir(os.path.join(root, net))):
            seed = int(sd[4:])
            base = os.path.join(root, net, sd)
            for m in sorted(os.listdir(base)):
                md = os.path.join(base, m)
                if m.startswith("uni-"):
                    rp = os.path.join(md, "report.json")
                    if os.path.exists(rp):
                        rows.append(row(net, m, "fixed", "", seed, load(rp), None))
                    continue
                for tag in sorted(os.listdir(md)):
                    rp = os.path.join(md, tag, "train", "report.json")
                    sp = os.path.join(md, tag, "search", "report.json")
                    if os.path.exists(rp) and os.path.exists(sp):
                        s = load(sp)
                        rows.append(row(net, m, s["config"]["mode"], tag, seed, load(rp), s))
    return rows


def row(net, method, mode, tag, seed, r, search):
    lam = tag[len("lambda"):] if tag.startswith("lambda") else (tag[len("target"):] if tag.startswith("target") else "")
    h = r.get("history", [])
    return {"net": net, "method": method, "mode": mode, "lambda": lam, "seed": seed,
            "energy_ratio": r["energy_ratio"], "operator_energy_ratio": r.get("operator_energy_ratio", float("nan")),
            "accuracy": r["test_acc_int"], "float_accuracy": r["test_acc_float"], "epochs": len(h),
            "curve": [x.get("loss") for x in h], "train_acc": [x.get("train_acc") for x in h],
            "search": search}


def mean_sd(v):
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, sd


def front(points):
    """Interpolated Pareto front of (energy, accuracy) points: the non-dominated points joined by straight
    lines, flat beyond the most expensive one. Below the cheapest front point no baseline reaches the energy;
    there f(e) is the cheapest point's accuracy (conservative for the method compared: that baseline uses more
    energy). Returns f(e) and the front's points."""
    pts = sorted(points, key=lambda p: (p[0], -p[1]))  # by energy; at equal energy the best first
    nd = []
    for e, acc in pts:
        if not nd or acc > nd[-1][1]:
            nd.append((e, acc))

    def f(e):
        if not nd:
            return None
        if e <= nd[0][0]:
            return nd[0][1]
        for (e0, a0), (e1, a1) in zip(nd, nd[1:]):
            if e0 <= e <= e1:
                return a0 + (a1 - a0) * (e - e0) / (e1 - e0) if e1 > e0 else max(a0, a1)
        return nd[-1][1]
    return f, nd


def groups(rows):
    g = {}
    for r in rows:
        g.setdefault((r["net"], r["method"], r["lambda"]), []).append(r)
    return g


def operator_view(net, g, uni, thr):
    """The same comparison on the operator-only energy axis (compute + ADC + DAC energy relative to the all-MAC8
    network: what the ENOS paper's "same energy" measures), as a second table. Fronts built the same way."""
    key = "operator_energy_ratio"
    pts = {m: (mean_sd([r[key] for r in v])[0], mean_sd([r["accuracy"] for r in v])[0]) for m, v in uni.items()}
    f_uni, nd_uni = front(list(pts.values()))
    mixed = [p for m, p in pts.items() if m in ("uni-mac8", "uni-mac4", "uni-deepshift")]
    for k, v in g.items():
        if k[0] == net and k[1].startswith("mixed-"):
            mixed.append((mean_sd([r[key] for r in v])[0], mean_sd([r["accuracy"] for r in v])[0]))
    f_mix, _ = front(mixed)
    md = ["Operator-energy view (the same networks; energy = operators, ADCs and DACs only). Uni front: " +
          ", ".join("%.3f → %.1f %%" % (e, 100 * acc) for e, acc in nd_uni) + ".", "",
          "| method | λ / target | operator energy ratio | accuracy % | Δ vs uni front (operator energy) | "
          "Δ vs mixed-precision front (operator energy) |", "|---|---|---|---|---|---|"]
    verdict = {}
    for k in sorted([k for k in g if k[0] == net and not k[1].startswith("uni-")], key=lambda k: (k[1], k[2])):
        v = g[k]
        du = [r["accuracy"] - f_uni(r[key]) for r in v]
        dm = [r["accuracy"] - f_mix(r[key]) for r in v]
        md.append("| %s | %s | %.3f ± %.3f | %.1f ± %.1f | %+.1f ± %.1f | %+.1f ± %.1f |" % (
            k[1], k[2] or "–", *mean_sd([r[key] for r in v]), *[100 * x for x in mean_sd([r["accuracy"] for r in v])],
            100 * mean_sd(du)[0], 100 * mean_sd(du)[1], 100 * mean_sd(dm)[0], 100 * mean_sd(dm)[1]))
        verdict.setdefault(k[1], []).append(100 * mean_sd(du)[0] >= thr and 100 * mean_sd(dm)[0] >= 2.0)
    md.append("")
    for m, vs in sorted(verdict.items()):
        md.append("- %s, operator energy: ≥ %.1f over the uni front and ≥ 2 over the mixed-precision front at %d of %d "
                  "budgets." % (m, thr, sum(vs), len(vs)))
    md.append("")
    return md


def analyze(a):
    rows = collect(a)
    if not rows:
        print("no finished runs under " + a.out, file=sys.stderr)
        return 1
    g = groups(rows)
    lines_csv = ["net,method,mode,lambda,seed,energy_ratio,operator_energy_ratio,accuracy,float_accuracy,epochs"]
    for r in sorted(rows, key=lambda r: (r["net"], r["method"], r["lambda"], r["seed"])):
        lines_csv.append("%s,%s,%s,%s,%d,%.6f,%.6f,%.4f,%.4f,%d" % (
            r["net"], r["method"], r["mode"], r["lambda"], r["seed"], r["energy_ratio"], r["operator_energy_ratio"],
            r["accuracy"], r["float_accuracy"], r["epochs"]))
    atomic_write(a.csv, "\n".join(lines_csv) + "\n")

    md = ["# ENOS study results", "",
          "Generated by `tools/enos/enos_study.py analyze --out %s` from the runs of `enos_study.py run` (settings "
          "below). Every row of `%s` is one trained network; accuracies are the exported integer network's on the "
          "test subset; energies are the accelerator cost model's system energy per image relative to the all-MAC8 "
          "network (operator-only energy in the CSV)." % (a.out, os.path.basename(a.csv)), ""]
    settings = None
    for r in rows:
        if r["search"] is not None:
            settings = r["search"]["config"]
            break
    nets = sorted({r["net"] for r in rows})
    plots = []
    for net in nets:
        uni = {k[1]: v for k, v in g.items() if k[0] == net and k[1].startswith("uni-")}
        uni_pts = []
        for m, v in uni.items():
            e = mean_sd([r["energy_ratio"] for r in v])[0]
            uni_pts.append((e, mean_sd([r["accuracy"] for r in v])[0]))
        f_uni, nd_uni = front(uni_pts)
        mixed_pts = [p for m, p in zip(uni.keys(), uni_pts) if m in ("uni-mac8", "uni-mac4", "uni-deepshift")]
        for k, v in g.items():
            if k[0] == net and k[1].startswith("mixed-"):
                mixed_pts.append((mean_sd([r["energy_ratio"] for r in v])[0], mean_sd([r["accuracy"] for r in v])[0]))
        f_mix, nd_mix = front(mixed_pts)
        acc_mac8 = dict(zip(uni.keys(), uni_pts)).get("uni-mac8", (1, float("nan")))[1]
        cheapest = min(uni_pts) if uni_pts else (0, float("nan"))
        gap = acc_mac8 - cheapest[1]
        thr = 5.0 if not (gap * 100 < 15) else min(5.0, gap * 100 / 3)
        md += ["## %s" % net, "",
               "Uni-operator Pareto front (mean over seeds): " +
               ", ".join("%.3f → %.1f %%" % (e, 100 * acc) for e, acc in nd_uni) + ".",
               "Gap uni-MAC8 − cheapest uni network: %.1f points → the target margin over the uni front is %.1f "
               "points (5, or a third of the gap when it is under 15)." % (100 * gap, thr), "",
               "| method | λ / target | seeds | energy ratio | operator energy ratio | accuracy % (mean ± sd) | "
               "Δ vs uni front | Δ vs mixed-precision front |",
               "|---|---|---|---|---|---|---|---|"]
        verdict = {}
        for k in sorted([k for k in g if k[0] == net], key=lambda k: (not k[1].startswith("uni-"), k[1], k[2])):
            v = g[k]
            e, esd = mean_sd([r["energy_ratio"] for r in v])
            oe = mean_sd([r["operator_energy_ratio"] for r in v])[0]
            acc, asd = mean_sd([r["accuracy"] for r in v])
            du = [r["accuracy"] - f_uni(r["energy_ratio"]) for r in v if f_uni(r["energy_ratio"]) is not None]
            dm = [r["accuracy"] - f_mix(r["energy_ratio"]) for r in v if f_mix(r["energy_ratio"]) is not None]
            fu = "%+.1f ± %.1f" % (100 * mean_sd(du)[0], 100 * mean_sd(du)[1]) if len(du) == len(v) else "outside"
            fm = "%+.1f ± %.1f" % (100 * mean_sd(dm)[0], 100 * mean_sd(dm)[1]) if len(dm) == len(v) else "outside"
            md.append("| %s | %s | %d | %.3f ± %.3f | %.3f | %.1f ± %.1f | %s | %s |" % (
                k[1], k[2] or "–", len(v), e, esd, oe, 100 * acc, 100 * asd, fu, fm))
            if not k[1].startswith("uni-") and len(du) == len(v) and len(dm) == len(v):
                ok = 100 * mean_sd(du)[0] >= thr and 100 * mean_sd(dm)[0] >= 2.0
                verdict.setdefault(k[1], []).append((k[2], ok))
        md.append("")
        for m, vs in sorted(verdict.items()):
            n_ok = sum(1 for _, ok in vs if ok)
            md.append("- %s: beats the uni front by ≥ %.1f points and the mixed-precision front by ≥ 2 points at "
                      "%d of %d budgets%s." % (m, thr, n_ok, len(vs),
                                               " — **target met**" if n_ok >= 2 else " — target not met"))
        md.append("")
        md += operator_view(net, g, uni, thr)
        plots.append((net, g, f_uni, nd_uni, nd_mix))
    if settings is not None:
        md += ["## Settings", "", "Search runs (from the first search's report): `" +
               json.dumps({k: settings[k] for k in sorted(settings) if k not in ("tag",)}) + "`", ""]
    png = os.path.splitext(a.md)[0] + ".png"
    if plot(plots, rows, png):
        md += ["![Pareto plot](%s)" % os.path.basename(png), ""]
    keep = ""
    if os.path.exists(a.md):  # a hand-written reading below the marker survives regeneration
        old = open(a.md).read()
        if HAND_MARK in old:
            keep = old[old.index(HAND_MARK):]
    atomic_write(a.md, "\n".join(md) + "\n" + (keep or HAND_MARK + "\n"))
    print("wrote %s and %s" % (a.csv, a.md))
    return 0


def plot(plots, rows, png):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return False
    fig, axes = plt.subplots(2, len(plots), figsize=(7 * len(plots), 10), squeeze=False)
    for i, (net, g, f_uni, nd_uni, nd_mix) in enumerate(plots):
        ax = axes[0][i]
        methods = sorted({k[1] for k in g if k[0] == net and not k[1].startswith("uni-")})
        color = {m: "C%d" % (j + 1) for j, m in enumerate(methods)}  # one colour per method, uni in C0
        for kind, style in (("uni-", "o"), ("mixed-", "s"), ("knapsack", "^"), ("enos-", "D")):
            ks = [k for k in g if k[0] == net and k[1].startswith(kind)]
            for k in sorted(ks):
                v = g[k]
                e, esd = mean_sd([r["energy_ratio"] for r in v])
                acc, asd = mean_sd([100 * r["accuracy"] for r in v])
                ax.errorbar([e], [acc], xerr=[esd], yerr=[asd], fmt=style, capsize=3,
                            color="C0" if kind == "uni-" else color[k[1]],
                            label=k[1] if kind != "uni-" else "uni-operator (one per candidate)")
                if kind == "uni-":
                    ax.annotate(k[1][4:], (e, acc), fontsize=7, xytext=(3, 3), textcoords="offset points")
        if nd_uni:
            ax.plot([p[0] for p in nd_uni], [100 * p[1] for p in nd_uni], "k--", lw=1, label="uni front")
        if nd_mix:
            ax.plot([p[0] for p in nd_mix], [100 * p[1] for p in nd_mix], "g:", lw=1, label="mixed-precision front")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="lower right")
        ax.set_title("%s: accuracy vs system energy (mean ± sd over seeds)" % net)
        ax.set_xlabel("energy per image / all-MAC8")
        ax.set_ylabel("test accuracy %, integer network")
        ax.grid(alpha=0.3)
        ax2 = axes[1][i]
        for r in rows:
            if r["net"] == net and r["method"].startswith("uni-") and r["seed"] == min(x["seed"] for x in rows):
                ax2.plot(range(1, len(r["curve"]) + 1), r["curve"], label=r["method"][4:])
        ax2.set_title("%s: baselines' training loss per epoch (first seed)" % net)
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("training loss")
        ax2.legend(fontsize=7)
        ax2.grid(alpha=0.3)
    fig.tight_layout()
    tmp = png + ".tmp.png"
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, png)
    return True


def atomic_write(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run (or resume) the study's trainings")
    r.add_argument("--out", required=True)
    r.add_argument("--cimsim", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                                                    "tb", "cimsim"))
    r.add_argument("--nets", default="squeezenet,shufflenet")
    r.add_argument("--seeds", default="1,2,3")
    r.add_argument("--uni", default=",".join(CANDIDATES))
    r.add_argument("--modes", default="single,bilevel,sequential,sampling")
    r.add_argument("--lambdas", default="0.5,2")
    r.add_argument("--mixed-lambdas", default="0.5,2")
    r.add_argument("--targets", default="0.6,0.8")
    r.add_argument("--epochs", type=int, default=8, help="training epochs of every final network")
    r.add_argument("--pretrain-epochs", type=int, default=2)
    r.add_argument("--warmup-epochs", type=int, default=2)
    r.add_argument("--search-epochs", type=int, default=2)
    r.add_argument("--train-subset", type=int, default=0, help="0: the full 60,000 images")
    r.add_argument("--test-subset", type=int, default=0, help="0: the full 10,000 images")
    r.add_argument("--batch", type=int, default=64)
    r.add_argument("--jobs", type=int, default=2)
    an = sub.add_parser("analyze", help="tables, fronts, plot")
    an.add_argument("--out", required=True)
    an.add_argument("--csv", default="docs/enos-results.csv")
    an.add_argument("--md", default="docs/enos-results.md")
    a = p.parse_args()
    if a.cmd == "run":
        a.cimsim = os.path.abspath(a.cimsim)
        if not os.access(a.cimsim, os.X_OK):
            print("enos_study: %s is not an executable cimsim (build with -DCIMSIM_WITH_TORCH=ON)" % a.cimsim,
                  file=sys.stderr)
            return 2
        return run(a)
    return analyze(a)


if __name__ == "__main__":
    sys.exit(main())
