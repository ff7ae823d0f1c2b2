# Stage 1: datasets. A registered dataset becomes features, labels and class names.


rule load_dataset:
    output:
        features="results/{study}/data/{dataset}/features.npy",
        labels="results/{study}/data/{dataset}/labels.npy",
        classes="results/{study}/data/{dataset}/classes.txt",
    log:
        "results/{study}/logs/load_dataset/{dataset}.log",
    benchmark:
        "results/{study}/benchmarks/load_dataset/{dataset}.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        root=lambda wildcards: config["datasets"][wildcards.dataset].get("root"),
    script:
        "../scripts/load_dataset.py"
