"""Single-process PyTorch peer of sparkzoo's per-core benchmark (issue 11, scripts/bench-kernels).

Trains each model on real Fashion-MNIST images (resized once, grey replicated to --channels) with SGD momentum and
cross-entropy in one process with --threads intra-op threads, and prints one JSON line per model on stdout:
images/s = batch / median step time over the timed steps, after --warmup untimed steps and at least --warmup-seconds
(the same rule as sparkzoo's side, whose JVM needs a few thousand small steps before its JIT compiler is done); the
line also gives images/s over the mean step (all the timed steps' time), which a long training run sees.
Run it with the peers' venv:  "$(scripts/bench/torch-venv)" scripts/bench/torch_kernels.py --model resnet18 ...
"""
import argparse
import gc
import json
import statistics
import sys
import time

import torch_peers as tp
from torch_peers import torch


def run(model_name, a):
    channels = a.channels or tp.default_channels(model_name)
    model = tp.build_model(model_name, channels, a.image_size, a.classes)
    optimizer = tp.sgd(model, a.lr, a.momentum, a.nesterov, a.weight_decay)
    batches = tp.pool_batches(a.batch, a.warmup + a.steps, a.image_size, channels, 1)
    x, y = tp.fashion_mnist(a.data_dir, batches * a.batch, a.image_size, channels)
    step = tp.make_step(model, optimizer, x, y, a.batch, tp.AUX_LOSS_WEIGHT.get(model_name, 0.0))
    warmup, start = 0, time.perf_counter()
    while warmup < a.warmup or time.perf_counter() - start < a.warmup_seconds:
        step(warmup)
        warmup += 1
    times = []
    for i in range(warmup, warmup + a.steps):
        t0 = time.perf_counter()
        loss = step(i)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    mean = sum(times) / len(times)
    return {"peer": "torch", "model": model_name, "threads": a.threads, "batch": a.batch, "image_size": a.image_size,
            "channels": channels, "classes": a.classes, "params": tp.trainable_params(model),
            "images_per_second": round(a.batch / median, 3), "seconds_per_step": round(median, 6),
            "images_per_second_mean": round(a.batch / mean, 3),
            "timing": "median step", "steps": a.steps, "warmup": warmup, "warmup_seconds": a.warmup_seconds, "optimizer": tp.optimizer_name(a),
            "loss": round(loss.item(), 4), **tp.versions()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lenet5",
                   help=f"one or more of {', '.join(tp.MODELS)}, comma-separated (default lenet5)")
    p.add_argument("--batch", type=int, default=64, help="minibatch size (default 64)")
    tp.add_common_args(p, default_steps=20)
    p.add_argument("--warmup-seconds", type=float, default=0.0,
                   help="warm up for at least this long as well as --warmup steps (default 0)")
    p.add_argument("--check-params", action="store_true",
                   help="only compare every model's trainable parameters with models/README.md's table")
    a = p.parse_args()
    try:
        if a.check_params:
            lines, ok = tp.check_params()
            print("\n".join(lines))
            return 0 if ok else 1
        tp.check_common_args(a)
        models = tp.parse_models(a.model)
        torch.set_num_threads(a.threads)
        for name in models:
            print(json.dumps(run(name, a)), flush=True)
            gc.collect()
    except tp.UserError as e:
        print(f"torch_kernels: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
