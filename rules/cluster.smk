# Stage 2: flat clustering models. One model and its (N, K) logits per (dataset, model, K, seed).


rule fit_model:
    input:
        features="results/{study}/data/{dataset}/features.npy",
    output:
        model="results/{study}/models/{dataset}/{model}/k{k}_seed{seed}.npz",
        logits="results/{study}/logits/{dataset}/{model}/k{k}_seed{seed}.npy",
    log:
        "results/{study}/logs/fit_model/{dataset}/{model}/k{k}_seed{seed}.log",
    benchmark:
        "results/{study}/benchmarks/fit_model/{dataset}/{model}/k{k}_seed{seed}.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        hparams=lambda wildcards: config["models"][wildcards.model],
    script:
        "../scripts/fit_model.py"
