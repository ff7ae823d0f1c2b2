# Stage 4: evaluation. One tidy table per model run (all its trees), then the study's
# metrics.csv. Scoring is cheap next to L2H itself, so a model run's trees share one job.


rule evaluate_trees:
    input:
        trees=expand(
            "results/{{study}}/trees/{{dataset}}/{{model}}/k{{k}}_seed{{seed}}_{aggregation}.json",
            aggregation=config["aggregations"],
        ),
        logits="results/{study}/logits/{dataset}/{model}/k{k}_seed{seed}.npy",
        labels="results/{study}/data/{dataset}/labels.npy",
    output:
        "results/{study}/metrics/{dataset}/{model}/k{k}_seed{seed}.csv",
    log:
        "results/{study}/logs/evaluate_trees/{dataset}/{model}/k{k}_seed{seed}.log",
    benchmark:
        "results/{study}/benchmarks/evaluate_trees/{dataset}/{model}/k{k}_seed{seed}.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        aggregations=config["aggregations"],
        backbone=lambda wildcards: config["datasets"][wildcards.dataset]["backbone"],
    script:
        "../scripts/evaluate_trees.py"


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
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/collect_metrics.py"
