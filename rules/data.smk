# Stage 1: datasets. One job per dataset fetches and verifies it (so parallel jobs never download
# the same archive twice), then the labels, class names and the rows of each split the study
# uses (all of them, or a class-stratified subset). Images are read by the embedding jobs;
# bring-your-own entries copy their labels.


rule download:
    output:
        "results/{study}/data/{dataset}/download.done",
    log:
        "results/{study}/logs/download/{dataset}.log",
    benchmark:
        "results/{study}/benchmarks/download/{dataset}.tsv"
    group:
        job_group("download", DATA_GROUP)
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=240,
    params:
        root=lambda wildcards: config["datasets"][wildcards.dataset].get("root")
        or config["data_root"],
    script:
        "../scripts/download.py"


rule prepare_split:
    input:
        download_marker,
    output:
        labels="results/{study}/data/{dataset}/{split}/labels.npy",
        indices="results/{study}/data/{dataset}/{split}/indices.npy",
    log:
        "results/{study}/logs/prepare_split/{dataset}/{split}.log",
    benchmark:
        "results/{study}/benchmarks/prepare_split/{dataset}/{split}.tsv"
    group:
        job_group("prepare_split", DATA_GROUP)
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=60,
    params:
        settings=dataset_settings,
        byo=lambda wildcards: wildcards.dataset in BYO,
        data_root=config["data_root"],
    script:
        "../scripts/prepare_split.py"


rule class_names:
    input:
        download_marker,
    output:
        "results/{study}/data/{dataset}/classes.txt",
    log:
        "results/{study}/logs/class_names/{dataset}.log",
    benchmark:
        "results/{study}/benchmarks/class_names/{dataset}.tsv"
    group:
        job_group("class_names", DATA_GROUP)
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=60,
    params:
        settings=dataset_settings,
        byo=lambda wildcards: wildcards.dataset in BYO,
        data_root=config["data_root"],
    script:
        "../scripts/class_names.py"
