"""Reads two oneDNN verbose logs (DNNL_VERBOSE=1 for ND4J's oneDNN 2.x, ONEDNN_VERBOSE=1 for PyTorch's 3.x) of the
same run with N and with N + K training steps, and prints oneDNN's time per step over the last K steps of the longer
run (the difference in call counts says how many calls a step makes; the time is that of the last calls, so the
first steps' page faults and one-time weight reorders are left out) by primitive, implementation and propagation kind, and
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
    """Every (key, ms) in the order run: the primitive's and, for reorders, the layouts'."""
    kinds, pairs = [], []
    for primitive, impl, prop, memory, ms in records(path):
        kinds.append((f"{primitive} {impl} {prop}", ms))
        if primitive == "reorder":
            # 2.x: src_f32::blocked:abcd:f0; 3.x: src:f32::blocked:abcd::f0
            layouts = re.findall(r"(?:src|dst)[_:]f32:\w*:blocked:(\w+)", memory)
            pairs.append((f"{impl} {' -> '.join(layouts)}", ms))
    return kinds, pairs


def last_steps(long, short):
    """Per key: the calls the longer run made beyond the shorter one, and the time of its last that many calls."""
    n_long, n_short = collections.Counter(k for k, _ in long), collections.Counter(k for k, _ in short)
    extra = {k: n - n_short[k] for k, n in n_long.items() if n > n_short[k]}
    ms, calls, seen = collections.Counter(), collections.Counter(), collections.Counter()
    for key, t in reversed(long):
        if seen[key] < extra.get(key, 0):
            seen[key] += 1
            ms[key] += t
            calls[key] += 1
    return ms, calls


def main():
    short, long, steps = totals(sys.argv[1]), totals(sys.argv[2]), float(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 12
    (by_kind, calls), (reorders, reorder_calls) = (last_steps(a, b) for a, b in zip(long, short))
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
