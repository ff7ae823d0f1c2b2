# Stage 3: hierarchies. One L2H tree (JSON + Newick) per model run and aggregation.


rule fit_l2h:
    input:
        logits="results/{study}/logits/{dataset}/{model}/k{k}_seed{seed}.npy",
        labels="results/{study}/data/{dataset}/labels.npy",
        classes="results/{study}/data/{dataset}/classes.txt",
    output:
        tree="results/{study}/trees/{dataset}/{model}/k{k}_seed{seed}_{aggregation}.json",
        newick="results/{study}/trees/{dataset}/{model}/k{k}_seed{seed}_{aggregation}.nwk",
    log:
        "results/{study}/logs/fit_l2h/{dataset}/{model}/k{k}_seed{seed}_{aggregation}.log",
    benchmark:
        "results/{study}/benchmarks/fit_l2h/{dataset}/{model}/k{k}_seed{seed}_{aggregation}.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/fit_l2h.py"
