"""`shardrun bench --chart FILE.png`: grouped bars per scenario (needs the `chart` extra: matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {"worker": "#9e9e9e", "shared": "#4e79a7", "pinned": "#f28e2b"}


def draw(summary: list[dict[str, Any]], path: Path) -> None:
    """One group per case, one bar per architecture (median, with min-max whiskers), seed figures as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    archs = ["worker", "shared", "pinned"]
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(summary)), 5))
    width = 0.27
    for j, arch in enumerate(archs):
        xs, ys, lo, hi, sx, sy = [], [], [], [], [], []
        for i, row in enumerate(summary):
            if arch not in row["median"]:
                continue
            x = i + (j - 1) * width
            m = row["median"][arch]
            xs.append(x)
            ys.append(m)
            lo.append(m - row["min"][arch])
            hi.append(row["max"][arch] - m)
            if row["seed"].get(arch):
                sx.append(x)
                sy.append(row["seed"][arch])
        ax.bar(xs, ys, width, yerr=[lo, hi], label=arch, color=COLOURS[arch], capsize=2)
        ax.scatter(sx, sy, marker="D", s=18, color="black", zorder=3, label="seed (V8)" if j == 0 else None)
    ax.set_xticks(range(len(summary)), [row["case"] for row in summary], rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("requests / s (log)")
    ax.set_title("shardrun bench: Worker vs shared pool vs thread-pinned (median, min–max)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
