"""Training curves from DIR/log.jsonl → PNG (one or more runs side by side).

  python -m train.plot OUT.png NAME=DIR [NAME=DIR ...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = (("rec", "kd", "feat"), ("id", "mask"), ("val_id_src", "val_id_tgt"), ("val_change", "val_mask_mean"))
TITLES = ("reconstruction / distillation / feature loss", "identity / background-mask loss",
          "validation identity cosine (training encoder)", "validation change / mask mean")


def main(argv) -> None:
    out, runs = argv[0], [a.split("=", 1) for a in argv[1:]]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 3.6))
    for name, path in runs:
        log = [json.loads(line) for line in open(f"{path}/log.jsonl")]
        x = [e["samples"] / 1000 for e in log]
        for ax, keys in zip(axes, PANELS):
            for key in keys:
                ax.plot(x, [e[key] for e in log], label=f"{name} {key}")
    for ax, title in zip(axes, TITLES):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training samples (thousands)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1:])
