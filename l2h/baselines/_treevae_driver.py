"""Train TreeVAE with the official repository's code and save its tree and leaf assignments.

Run by :func:`l2h.baselines.treevae.run_treevae` as
``python _treevae_driver.py REPO OUT_DIR CONFIG_NAME SEED OVERRIDES_JSON`` with the working
directory holding ``data/`` (the CIFAR folders torchvision expects), in an environment that has
the repository's requirements (torch, torchvision, wandb, torchmetrics, PyYAML, scikit-learn).
It does what the repository's ``train.train.run_experiment`` does up to training (same config
handling, seeding and data), with wandb disabled, then writes to OUT_DIR:

* ``tree.json``: ``{"nodes": [{"id", "parent", "leaf"}]}`` in the repository's breadth-first
  order; ``leaf`` is the leaf index (the column of ``prob_leaves``) or null;
* ``leaf_labels_{train,test}.npy``: argmax of the leaf probabilities of every point;
* ``y_{train,test}.npy``: the true labels of the same points.

It imports nothing from l2h, so it runs under any interpreter.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ARGS = (
    "data_name num_epochs num_epochs_finetuning num_epochs_intermediate_fulltrain "
    "num_epochs_smalltree num_clusters_data num_clusters_tree kl_start decay_kl latent_dim "
    "mlp_layers grow augment augmentation_method aug_decisions_weight compute_ll save_model "
    "eager_mode num_workers seed wandb_logging"
).split()


def tree_nodes(root) -> list:
    """Breadth-first list of nodes as in the repository's ``compute_leaves``."""
    nodes, queue, n_leaves = [], [(root, None)], 0
    while queue:
        node, parent = queue.pop(0)
        entry = {"id": len(nodes), "parent": parent, "leaf": None}
        nodes.append(entry)
        if node.router is not None:
            queue += [(node.left, entry["id"]), (node.right, entry["id"])]
        elif node.decoder is None:  # pruned: one child left
            queue.append((node.left if node.left is not None else node.right, entry["id"]))
        else:
            entry["leaf"] = n_leaves
            n_leaves += 1
    return nodes


def main() -> None:
    repo, out, config_name, seed, overrides = sys.argv[1:6]
    sys.path.insert(0, repo)
    import numpy as np
    import torch
    import wandb
    from train.train_tree import run_tree
    from utils.data_utils import get_data, get_gen
    from utils.training_utils import predict
    from utils.utils import prepare_config, reset_random_seeds

    values = dict.fromkeys(ARGS)
    values.update(json.loads(overrides), seed=int(seed), wandb_logging="disabled")
    args = argparse.Namespace(config_name=config_name, **values)
    configs = prepare_config(args, Path(repo))
    wandb.init(project="treevae", config=configs, mode="disabled")
    reset_random_seeds(configs["globals"]["seed"])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    trainset, trainset_eval, testset = get_data(configs)
    model = run_tree(trainset, trainset_eval, testset, device, configs)
    out = Path(out)
    for split, data in (("train", trainset_eval), ("test", testset)):
        loader = get_gen(data, configs, validation=True, shuffle=False)
        prob = predict(loader, model, device, "prob_leaves")
        np.save(out / f"leaf_labels_{split}.npy", np.argmax(prob.numpy(), axis=-1))
        np.save(out / f"y_{split}.npy", np.asarray(data.dataset.targets)[data.indices])
    tmp = out / "tree.json.tmp"
    tmp.write_text(json.dumps({"nodes": tree_nodes(model.tree), "config": config_name}))
    os.replace(tmp, out / "tree.json")


if __name__ == "__main__":
    main()
