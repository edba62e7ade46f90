#!/usr/bin/python3
"""Self time per libtorch op from a Chrome trace written by `bench_search_cost --profile FILE` (libtorch's
legacy profiler: complete events "ph": "X" with nested intervals per thread).

  op_profile.py TRACE.json [--top 25]
"""
import argparse
import collections
import json


def self_times(events):
    """Per op name: (self microseconds, calls). Children are the intervals nested inside an event on its thread."""
    per = collections.defaultdict(lambda: [0.0, 0])
    by_tid = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_tid[e.get("tid")].append(e)
    for evs in by_tid.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, child time]
        def close(item):
            end, name, child, dur = item
            per[name][0] += dur - child
            per[name][1] += 1
            if stack:
                stack[-1][2] += dur
        for e in evs:
            while stack and stack[-1][0] <= e["ts"]:
                close(stack.pop())
            stack.append([e["ts"] + e["dur"], e["name"], 0.0, e["dur"]])
        while stack:
            close(stack.pop())
    return per


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    with open(a.trace) as f:
        events = json.load(f)
    per = self_times(events)
    total = sum(v[0] for v in per.values())
    print("%-48s %10s %6s %9s" % ("op", "self ms", "%", "calls"))
    for name, (us, n) in sorted(per.items(), key=lambda kv: -kv[1][0])[:a.top]:
        print("%-48s %10.1f %5.1f%% %9d" % (name[:48], us / 1000, 100 * us / total, n))
    print("%-48s %10.1f" % ("total", total / 1000))


if __name__ == "__main__":
    main()
