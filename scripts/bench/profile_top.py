"""Reads async-profiler's collapsed stacks and prints where the time went: the top frames by self time, and by
total time the DL4J layers / ND4J ops (frames under org.deeplearning4j / org.nd4j) that a step runs.
Usage: python3 scripts/bench/profile_top.py work/bench-kernels/resnet50.collapsed.txt [top=25]"""
import collections
import sys


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    self_time = collections.Counter()
    layer_time = collections.Counter()
    total = 0
    for line in open(path):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_time[frames[-1]] += n
        # the innermost DL4J layer / vertex frame of the stack, e.g. ConvolutionLayer.backpropGradient
        for f in reversed(frames):
            if f.startswith("org/deeplearning4j/nn/layers/") or f.startswith("org/deeplearning4j/nn/graph/vertex/impl/") \
                    or f.startswith("org/nd4j/linalg/learning/"):
                layer_time[f.replace("/", ".")] += n
                break
        else:
            layer_time["(outside DL4J layers: " + ("native" if "::" in frames[-1] or frames[-1].startswith("lib") else "other") + ")"] += n
    print(f"{total} samples")
    print(f"\n## top {top} frames by self time")
    for f, n in self_time.most_common(top):
        print(f"{100.0 * n / total:6.2f}%  {f}")
    print(f"\n## by DL4J layer / vertex / updater method (innermost on the stack), top {top}")
    for f, n in layer_time.most_common(top):
        print(f"{100.0 * n / total:6.2f}%  {f}")


if __name__ == "__main__":
    main()
