"""REINFORCE with a vocabulary-sharded policy: ``td.Categorical`` on DTensor logits.

The policy is one linear layer from a context (one of 16, one-hot) to 1000 action logits, split
column-wise over 2 ranks (tensor parallelism): each rank holds 500 rows of the weight and computes
500 of the logits. ``td.Categorical(logits=...)`` on these class-sharded logits samples actions
(Gumbel-max with a sharded argmax) and computes ``log_prob`` with all-reduces of batch-sized
tensors; the 1000 classes are never gathered on one rank. An action earns reward 1 when it is one
of its context's 62 target actions (``action % 16 == context``). Step 1's communication is
printed by ``CommDebugMode``, then the mean reward climbs from about 0.06 towards 1.

Run on CPU (gloo backend), in either way:

    torchrun --nproc-per-node 2 examples/distributed_policy.py
    python examples/distributed_policy.py    # starts the 2 processes itself

Options: ``--iterations N`` (default 40), ``--seed S``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Replicate
from torch.distributed.tensor.debug import CommDebugMode
from torch.distributed.tensor.parallel import ColwiseParallel, parallelize_module

import torchprob as td

VOCAB, CONTEXTS, BATCH = 1000, 16, 256
LR = 200.0  # large: the loss is a mean over the batch, and each logit sees few of its draws

# Expected noise: on a CPU mesh torchprob's per-shard streams replace DTensor's RNG tracker, and
# CommDebugMode's module hooks fire on a backward whose input needs no gradient.
warnings.filterwarnings("ignore", "DTensor random operators may not have complete support")
warnings.filterwarnings("ignore", "Full backward hook is firing")


class CommShapes(CommDebugMode):
    """``CommDebugMode`` that also notes the shape of every tensor a collective sends."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if func._overloadpacket in self.comm_registry:
            self.sent.append(f"{func._overloadpacket.__name__} {list(args[0].shape)}")
        return super().__torch_dispatch__(func, types, args, kwargs)

    def __enter__(self) -> CommShapes:
        self.sent: list[str] = []
        return super().__enter__()


def train(iterations: int, seed: int) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    rank0 = dist.get_rank() == 0
    # The same seed on every rank: the same contexts everywhere; torchprob derives a different
    # sampling stream for each shard of the logits from it.
    torch.manual_seed(seed)
    linear = nn.Linear(CONTEXTS, VOCAB)  # weight (VOCAB, CONTEXTS): rows are split over ranks
    policy = parallelize_module(linear, mesh, ColwiseParallel(use_local_output=False))
    optimizer = torch.optim.SGD(policy.parameters(), lr=LR)
    baseline = 0.0
    for step in range(iterations):
        comm = CommShapes() if step == 1 else contextlib.nullcontext()
        with comm:
            context = torch.randint(CONTEXTS, (BATCH,))
            logits = policy(F.one_hot(context, CONTEXTS).float())  # DTensor, Shard(-1)
            pi = td.Categorical(logits=logits)
            action = pi.sample()  # (BATCH,), replicated on every rank
            reward = (action.full_tensor() % CONTEXTS == context).float()
            advantage = DTensor.from_local(reward - baseline, mesh, [Replicate()])
            loss = -(pi.log_prob(action) * advantage).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        baseline = 0.9 * baseline + 0.1 * reward.mean().item()
        if rank0 and isinstance(comm, CommShapes):
            print(f"logits {logits.placements} local {tuple(logits.to_local().shape)}")
            print(f"one step's communication ({comm.get_total_counts()} collectives):")
            print("  " + ", ".join(comm.sent))
        if rank0 and (step % 5 == 0 or step == iterations - 1):
            print(f"step {step:3d}   mean reward {reward.mean().item():.3f}")
    dist.barrier()  # no rank tears down its process group while another still talks to it
    dist.destroy_process_group()


def spawned(rank: int, world: int, port: int, iterations: int, seed: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world))
    train(iterations, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if "RANK" in os.environ:  # started by torchrun
        train(args.iterations, args.seed)
        return
    with socket.socket() as s:  # a free loopback port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(spawned, args=(2, port, args.iterations, args.seed), nprocs=2)


if __name__ == "__main__":
    main()
