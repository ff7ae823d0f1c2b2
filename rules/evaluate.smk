# Stage 5: evaluation on the evaluation splits (default: test). One tidy table per tree, then
# the study's metrics.csv and its provenance record.


rule evaluate_l2h:
    input:
        tree=f"results/{{study}}/trees/{RUN}/l2h_{{aggregation}}.json",
        logits=[f"results/{{study}}/logits/{RUN}/{split}.npy" for split in EVAL_SPLITS],
        labels=[
            f"results/{{study}}/data/{{dataset}}/{split}/labels.npy"
            for split in EVAL_SPLITS
        ],
    output:
        f"results/{{study}}/metrics/{RUN}/l2h_{{aggregation}}.csv",
    log:
        f"results/{{study}}/logs/evaluate/{RUN}/l2h_{{aggregation}}.log",
    benchmark:
        f"results/{{study}}/benchmarks/evaluate/{RUN}/l2h_{{aggregation}}.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        splits=EVAL_SPLITS,
        taxonomy=lambda wildcards: evaluation_taxonomy(wildcards),
    script:
        "../scripts/evaluate.py"


rule evaluate_baseline:
    input:
        tree=f"results/{{study}}/trees/{RUN}/{{baseline}}.json",
        leaves=[
            f"results/{{study}}/trees/{RUN}/{{baseline}}_{split}_leaves.npy"
            for split in EVAL_SPLITS
        ],
        labels=[
            f"results/{{study}}/data/{{dataset}}/{split}/labels.npy"
            for split in EVAL_SPLITS
        ],
    output:
        f"results/{{study}}/metrics/{RUN}/{{baseline}}.csv",
    log:
        f"results/{{study}}/logs/evaluate/{RUN}/{{baseline}}.log",
    benchmark:
        f"results/{{study}}/benchmarks/evaluate/{RUN}/{{baseline}}.tsv"
    wildcard_constraints:
        baseline="|".join(BASELINE_INPUTS) + "|treevae",
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        splits=EVAL_SPLITS,
        taxonomy=lambda wildcards: evaluation_taxonomy(wildcards),
    script:
        "../scripts/evaluate.py"


rule collect_metrics:
    input:
        metric_tables(),
    output:
        report("results/{study}/metrics.csv", category="Metrics"),
    log:
        "results/{study}/logs/collect_metrics.log",
    benchmark:
        "results/{study}/benchmarks/collect_metrics.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/collect_metrics.py"


rule provenance:
    output:
        "results/{study}/provenance.json",
    log:
        "results/{study}/logs/provenance.log",
    benchmark:
        "results/{study}/benchmarks/provenance.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=config,
    script:
        "../scripts/provenance.py"
