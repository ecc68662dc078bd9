"""PyTorch DistributedDataParallel peer of sparkzoo's train-job benchmark (issue 10, scripts/bench-train).

--procs processes (torch.multiprocessing spawn), each with --threads intra-op threads and its own shard of real
Fashion-MNIST images (every procs-th image, resized once), gloo on 127.0.0.1, gradients all-reduced every step
(plain DDP), SGD momentum, cross-entropy. Prints one JSON line on stdout:
images/s = procs x batch x steps / wall time of the timed steps (the slowest process, after --warmup untimed steps).
Run it with the peers' venv:  "$(scripts/bench/torch-venv)" scripts/bench/torch_ddp.py --model lenet5 --procs 2 ...
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time

import torch_peers as tp
from torch_peers import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, a, channels, port, results):
    torch.set_num_threads(a.threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=a.procs)
    try:
        model = tp.build_model(a.model, channels, a.image_size, a.classes)  # same seed: same start everywhere
        ddp = DistributedDataParallel(model)
        optimizer = tp.sgd(ddp, a.lr, a.momentum, a.nesterov, a.weight_decay)
        batches = tp.pool_batches(a.batch, a.warmup + a.steps, a.image_size, channels, a.procs)
        x, y = tp.fashion_mnist(a.data_dir, batches * a.batch, a.image_size, channels, rank, a.procs)
        step = tp.make_step(ddp, optimizer, x, y, a.batch, tp.AUX_LOSS_WEIGHT.get(a.model, 0.0))
        for i in range(a.warmup):
            step(i)
        dist.barrier()
        start = time.perf_counter()
        times = []
        for i in range(a.warmup, a.warmup + a.steps):
            t0 = time.perf_counter()
            loss = step(i)
            times.append(time.perf_counter() - t0)
        dist.barrier()
        wall = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
        dist.all_reduce(wall, op=dist.ReduceOp.MAX)
        if rank == 0:
            wall = wall.item()
            results.put({
                "peer": "torch-ddp", "model": a.model, "procs": a.procs, "threads": a.threads, "batch": a.batch,
                "image_size": a.image_size, "channels": channels, "classes": a.classes,
                "params": tp.trainable_params(model),
                "images_per_second": round(a.procs * a.batch * a.steps / wall, 3),
                "seconds_per_step": round(wall / a.steps, 6),
                "median_seconds_per_step": round(statistics.median(times), 6),
                "timing": "total wall time of the timed steps, all processes", "steps": a.steps, "warmup": a.warmup,
                "backend": "gloo", "optimizer": tp.optimizer_name(a), "loss": round(loss.item(), 4), **tp.versions()})
    finally:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lenet5", choices=tp.MODELS, help="model (default lenet5)")
    p.add_argument("--batch", type=int, default=64, help="minibatch size per process (default 64)")
    p.add_argument("--procs", type=int, default=2, help="DDP processes (default 2)")
    tp.add_common_args(p, default_steps=50)
    a = p.parse_args()
    try:
        tp.check_common_args(a)
        if a.procs < 1:
            raise tp.UserError(f"--procs must be at least 1 (got {a.procs})")
        channels = a.channels or tp.default_channels(a.model)
        # Bad sizes and missing data fail here in one line, not as a traceback from inside a worker.
        tp.build_model(a.model, channels, a.image_size, a.classes)
        tp.fashion_mnist(a.data_dir, 1, a.image_size, channels)
        tp.pool_batches(a.batch, a.warmup + a.steps, a.image_size, channels, a.procs)
    except tp.UserError as e:
        print(f"torch_ddp: {e}", file=sys.stderr)
        return 2
    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo otherwise binds to whatever the hostname resolves to
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    try:
        mp.spawn(worker, args=(a, channels, free_port(), results), nprocs=a.procs, join=True)
    except mp.ProcessRaisedException as e:
        print(f"torch_ddp: a worker failed: {str(e).strip().splitlines()[-1]}", file=sys.stderr)
        return 1
    except mp.ProcessExitedException as e:
        print(f"torch_ddp: a worker died: {e}", file=sys.stderr)
        return 1
    print(json.dumps(results.get()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
