# Stage 2: embeddings, one (N, d) float32 file per (dataset, backbone, split), written
# atomically with a JSON sidecar recording the weights' source and the preprocessing. Foundation
# model backbones run on a GPU node; raw pixels need no GPU.


rule embed:
    input:
        download_marker,
        indices="results/{study}/data/{dataset}/{split}/indices.npy",
    output:
        features="results/{study}/embeddings/{dataset}/{space}/{split}.npy",
        metadata="results/{study}/embeddings/{dataset}/{space}/{split}.npy.json",
    log:
        "results/{study}/logs/embed/{dataset}/{space}/{split}.log",
    benchmark:
        "results/{study}/benchmarks/embed/{dataset}/{space}/{split}.tsv"
    wildcard_constraints:
        space=alternatives(BACKBONES),
    group:
        embed_group
    conda:
        torch_env("torch")
    threads: 2
    resources:
        gpu=gpus,
        mem_mb=mem_mb,
        runtime=720,
    params:
        settings=dataset_settings,
        data_root=config["data_root"],
        device=torch_device,
        stand_in=STAND_IN,
    script:
        "../scripts/embed.py"


rule byo_embeddings:
    output:
        features="results/{study}/embeddings/{dataset}/given/{split}.npy",
    log:
        "results/{study}/logs/byo_embeddings/{dataset}/{split}.log",
    benchmark:
        "results/{study}/benchmarks/byo_embeddings/{dataset}/{split}.tsv"
    group:
        job_group("byo_embeddings", DATA_GROUP)
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=60,
    params:
        source=lambda wildcards: BYO[wildcards.dataset]["embeddings"][wildcards.split],
        kind="embeddings",
    script:
        "../scripts/copy_array.py"
