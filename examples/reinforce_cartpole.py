"""REINFORCE (score-function gradient) on gymnasium's CartPole-v1.

The policy is a small MLP whose output parameterises ``td.Categorical(logits=...)``.
Actions are drawn with ``dist.sample()`` (no gradient flows through the sample), and the
gradient comes from the score function: ``loss = -(dist.log_prob(a) * advantage).sum()``.

Each iteration plays a batch of complete episodes in a vectorised CartPole, computes
discounted reward-to-go, normalises it over the batch (a simple baseline), and takes
one Adam step.

Run: ``python examples/reinforce_cartpole.py`` (roughly 15-25 s on one CPU core).
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

import torchprob as td

ITERATIONS = 100  # full run
N_ENVS = 16  # episodes per iteration
GAMMA = 0.99
LR = 1e-2
HIDDEN = 32
EVAL_EPISODES = 10


def make_policy(hidden: int = HIDDEN) -> nn.Module:
    return nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 2))


def make_env(n_envs: int) -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", num_envs=n_envs, vectorization_mode="vector_entry_point")


def play(
    policy: nn.Module, env: gym.vector.VectorEnv, seed: int | None = None
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Play one complete episode in each sub-environment, sampling actions from the policy.

    Returns (log_probs [T, N], rewards [T, N], alive mask [T, N]). Steps taken after a
    sub-environment's episode has ended (the vector env auto-resets) are masked out.
    """
    obs, _ = env.reset(seed=seed)
    n = env.num_envs
    alive = np.ones(n, dtype=bool)
    log_probs, rewards, masks = [], [], []
    while alive.any():
        dist = td.Categorical(logits=policy(torch.from_numpy(obs)))
        action = dist.sample()
        log_probs.append(dist.log_prob(action))
        obs, reward, terminated, truncated, _ = env.step(action.numpy())
        masks.append(alive.copy())
        rewards.append(np.where(alive, reward, 0.0))
        alive &= ~(terminated | truncated)
    return torch.stack(log_probs), np.stack(rewards), np.stack(masks)


def reward_to_go(rewards: np.ndarray, masks: np.ndarray, gamma: float) -> np.ndarray:
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * running * masks[t]
        returns[t] = running
    return returns


@torch.no_grad()
def evaluate(policy: nn.Module, episodes: int, seed: int) -> float:
    """Mean return of ``episodes`` episodes with actions sampled from the policy."""
    env = make_env(episodes)
    _, rewards, _ = play(policy, env, seed=seed)
    env.close()
    return float(rewards.sum(axis=0).mean())


def save_curve(path: str, curve: list[float], before: float, after: float) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(curve) + 1), curve, label="training batch mean return")
    ax.axhline(before, color="gray", ls=":", label=f"eval before ({before:.0f})")
    ax.axhline(after, color="green", ls="--", label=f"eval after ({after:.0f})")
    ax.set_xlabel("iteration")
    ax.set_ylabel("episode return")
    ax.set_title("REINFORCE on CartPole-v1 (score-function estimator)")
    ax.set_ylim(0, 520)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(
    iterations: int | None = None, out_dir: str = "out", seed: int = 0, threads: int | None = 1
) -> dict:
    """Train for ``iterations`` (default ``ITERATIONS``) and return before/after eval returns.

    ``threads`` temporarily sets ``torch.set_num_threads`` (one thread is several times
    faster than two for this tiny network); ``None`` leaves it alone.
    """
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(ITERATIONS if iterations is None else iterations, out_dir, seed)
    finally:
        torch.set_num_threads(previous_threads)


def _train(iterations: int, out_dir: str, seed: int) -> dict:
    torch.manual_seed(seed)
    policy = make_policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=LR)
    env = make_env(N_ENVS)
    env.reset(seed=seed)  # seeds the training env's RNG once

    before = evaluate(policy, EVAL_EPISODES, seed=seed + 10_000)
    print(f"iter    0  eval return (before training) {before:6.1f}")

    curve: list[float] = []
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        log_probs, rewards, masks = play(policy, env)
        returns = reward_to_go(rewards, masks, GAMMA)
        valid = masks.astype(bool)
        adv = (returns - returns[valid].mean()) / (returns[valid].std() + 1e-8)
        adv_t = torch.as_tensor(adv * valid, dtype=torch.float32)
        loss = -(log_probs * adv_t).sum() / N_ENVS
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        curve.append(float(rewards.sum(axis=0).mean()))
        if it % 10 == 0 or it == iterations:
            elapsed = time.perf_counter() - start
            print(f"iter {it:4d}  mean return {curve[-1]:6.1f}  ({elapsed:5.1f} s)")
    env.close()

    after = evaluate(policy, EVAL_EPISODES, seed=seed + 20_000)
    print(f"return before: {before:.1f}, after: {after:.1f}")

    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, "reinforce_cartpole.png")
    save_curve(png, curve, before, after)
    print(f"saved {png}")
    return {"before": before, "after": after, "curve": curve, "png": png}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--out-dir", default="out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    main(args.iterations, args.out_dir, args.seed, threads=args.threads)
