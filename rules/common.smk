# Target functions: the lists of files a study asks for, built from the validated config.
# Nothing else lives here (no rules, no side effects).


def model_runs():
    """Wildcards of every flat model run: one dict per (dataset, model, k, seed)."""
    return [
        dict(study=STUDY, dataset=dataset, model=model, k=k, seed=seed)
        for dataset, settings in config["datasets"].items()
        for k in settings["n_clusters"]
        for model in config["models"]
        for seed in config["seeds"]
    ]


def trees():
    """Wildcards of every L2H tree: one dict per model run and aggregation."""
    return [
        dict(run, aggregation=aggregation)
        for run in model_runs()
        for aggregation in config["aggregations"]
    ]


def metric_tables():
    """The per-model-run metric tables that make up results/<study>/metrics.csv."""
    return [
        "results/{study}/metrics/{dataset}/{model}/k{k}_seed{seed}.csv".format(**run)
        for run in model_runs()
    ]


def newick_files():
    """The Newick file of every tree."""
    return [
        "results/{study}/trees/{dataset}/{model}/k{k}_seed{seed}_{aggregation}.nwk".format(
            **tree
        )
        for tree in trees()
    ]


def dendrogram_figures():
    """The dendrogram figure of every tree."""
    return [
        "results/{study}/figures/dendrogram_{dataset}_{model}_{k}_seed{seed}_{aggregation}.png".format(
            **tree
        )
        for tree in trees()
    ]


def all_outputs():
    """Default targets of the study: the metrics table, every tree and every figure."""
    return [f"results/{STUDY}/metrics.csv", *newick_files(), *dendrogram_figures()]
