"""Reads two oneDNN verbose logs (DNNL_VERBOSE=1 for ND4J's oneDNN 2.x, ONEDNN_VERBOSE=1 for PyTorch's 3.x) of the
same run with N and with N + K training steps, and prints oneDNN's time per step over the K extra steps (the first
steps' page faults and one-time weight reorders cancel out) by primitive, implementation and propagation kind, and
the reorders by source and destination layout (plain NCHW is abcd, NHWC acdb, oneDNN's blocked layouts aBcd16b...).
Usage: python3 scripts/bench/onednn_top.py SHORT_LOG LONG_LOG K [top=12]"""
import collections
import re
import sys


def records(path):
    for line in open(path, errors="replace"):
        fields = line.rstrip("\n").split(",")
        if len(fields) < 8 or "exec" not in fields[:4]:
            continue
        fields = fields[fields.index("exec"):]  # 2.x: dnnl_verbose,exec,...; 3.x: onednn_verbose,v1,primitive,exec,...
        try:
            ms = float(fields[-1])
        except ValueError:
            continue
        # exec, engine, primitive, implementation, propagation, memory descriptors, ...
        yield fields[2], fields[3], fields[4], fields[5], ms


def totals(path):
    by_kind, calls = collections.Counter(), collections.Counter()
    reorders, reorder_calls = collections.Counter(), collections.Counter()
    for primitive, impl, prop, memory, ms in records(path):
        key = f"{primitive} {impl} {prop}"
        by_kind[key] += ms
        calls[key] += 1
        if primitive == "reorder":
            layouts = re.findall(r"(?:src|dst)[_:]f32::blocked:(\w+)", memory)
            pair = f"{impl} {' -> '.join(layouts)}"
            reorders[pair] += ms
            reorder_calls[pair] += 1
    return by_kind, calls, reorders, reorder_calls


def difference(long, short):
    out = collections.Counter(long)
    out.subtract(short)
    return collections.Counter({k: v for k, v in out.items() if v > 0})


def main():
    short, long, steps = totals(sys.argv[1]), totals(sys.argv[2]), float(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 12
    by_kind, calls, reorders, reorder_calls = (difference(a, b) for a, b in zip(long, short))
    total = sum(by_kind.values())
    print(f"oneDNN time per step: {total / steps:.0f} ms, of which reorders {sum(reorders.values()) / steps:.0f} ms")
    print("\n| ms per step | calls per step | primitive, implementation, propagation |\n| --- | --- | --- |")
    for key, ms in by_kind.most_common(top):
        print(f"| {ms / steps:.1f} | {calls[key] / steps:.0f} | {key} |")
    print("\n| ms per step | calls per step | reorder, layouts |\n| --- | --- | --- |")
    for key, ms in reorders.most_common(top // 2):
        print(f"| {ms / steps:.1f} | {reorder_calls[key] / steps:.0f} | {key} |")


if __name__ == "__main__":
    main()
