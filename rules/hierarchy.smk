# Stage 4: hierarchies, built from the logits of the hierarchy split (config hierarchy_split,
# default train: the paper's protocol infers the hierarchy from the train split's logits and
# scores the test split). L2H gives one tree per aggregation;
# every baseline gives a tree plus the leaf of each point of the evaluation splits.


rule fit_l2h:
    input:
        logits=f"results/{{study}}/logits/{RUN}/{HIERARCHY_SPLIT}.npy",
        labels=f"results/{{study}}/data/{{dataset}}/{HIERARCHY_SPLIT}/labels.npy",
        classes="results/{study}/data/{dataset}/classes.txt",
    output:
        tree=f"results/{{study}}/trees/{RUN}/l2h_{{aggregation}}.json",
        newick=f"results/{{study}}/trees/{RUN}/l2h_{{aggregation}}.nwk",
    log:
        f"results/{{study}}/logs/fit_l2h/{RUN}/{{aggregation}}.log",
    benchmark:
        f"results/{{study}}/benchmarks/fit_l2h/{RUN}/{{aggregation}}.tsv"
    group:
        job_group("fit_l2h", RUN_GROUP)
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=60,
    script:
        "../scripts/fit_l2h.py"


rule fit_baseline:
    input:
        unpack(baseline_inputs),
    output:
        tree=f"results/{{study}}/trees/{RUN}/{{baseline}}.json",
        leaves=[
            f"results/{{study}}/trees/{RUN}/{{baseline}}_{split}_leaves.npy"
            for split in EVAL_SPLITS
        ],
    log:
        f"results/{{study}}/logs/fit_baseline/{RUN}/{{baseline}}.log",
    benchmark:
        f"results/{{study}}/benchmarks/fit_baseline/{RUN}/{{baseline}}.tsv"
    wildcard_constraints:
        baseline=alternatives(BASELINES),
    group:
        job_group("fit_baseline", RUN_GROUP)
    conda:
        torch_env("torch")
    threads: 1
    resources:
        gpu=gpus,
        mem_mb=mem_mb,
        runtime=240,
    params:
        params=lambda wildcards: (config["baselines"][wildcards.baseline] or {}).get(
            "params", {}
        ),
        hierarchy_split=HIERARCHY_SPLIT,
        eval_splits=EVAL_SPLITS,
        device=torch_device,
    script:
        "../scripts/fit_baseline.py"


rule treevae:
    output:
        tree=f"results/{{study}}/trees/{RUN}/treevae.json",
        leaves=[
            f"results/{{study}}/trees/{RUN}/treevae_{split}_leaves.npy"
            for split in EVAL_SPLITS
        ],
    log:
        f"results/{{study}}/logs/treevae/{RUN}.log",
    benchmark:
        f"results/{{study}}/benchmarks/treevae/{RUN}.tsv"
    wildcard_constraints:
        backbone="pixels",
        model="none",
    conda:
        torch_env("treevae")
    threads: 4
    resources:
        gpu=gpus,
        mem_mb=mem_mb,
        runtime=1440,
    params:
        params=config["treevae"].get("params", {}),
        data_root=lambda wildcards: config["datasets"]
        .get(wildcards.dataset, {})
        .get("root")
        or config["data_root"],
        eval_splits=EVAL_SPLITS,
        device=torch_device,
    script:
        "../scripts/treevae.py"
