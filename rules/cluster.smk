# Stage 3: flat clustering models. A model is trained on the train split of its embedding spaces
# and writes its (N, K) logits for both splits. Bring-your-own logits and a pretrained
# classifier's logits (the supervised setting) enter the DAG here.


rule fit_model:
    input:
        train=lambda wildcards: space_files(wildcards, "train"),
        test=lambda wildcards: space_files(wildcards, "test"),
    output:
        model="results/{study}/models/{dataset}/{backbone}/{model}/k{k}_seed{seed}.model",
        train="results/{study}/logits/{dataset}/{backbone}/{model}/k{k}_seed{seed}/train.npy",
        test="results/{study}/logits/{dataset}/{backbone}/{model}/k{k}_seed{seed}/test.npy",
    log:
        "results/{study}/logs/fit_model/{dataset}/{backbone}/{model}/k{k}_seed{seed}.log",
    benchmark:
        "results/{study}/benchmarks/fit_model/{dataset}/{backbone}/{model}/k{k}_seed{seed}.tsv"
    wildcard_constraints:
        model=alternatives(MODELS),
    group:
        job_group("fit_model", RUN_GROUP)
    conda:
        torch_env("torch")
    threads: 1
    resources:
        gpu=gpus,
        mem_mb=mem_mb,
        runtime=240,
    params:
        hparams=model_params,
        device=torch_device,
    script:
        "../scripts/fit_model.py"


rule byo_logits:
    output:
        "results/{study}/logits/{dataset}/given/given/k{k}_seed0/{split}.npy",
    log:
        "results/{study}/logs/byo_logits/{dataset}/k{k}_{split}.log",
    benchmark:
        "results/{study}/benchmarks/byo_logits/{dataset}/k{k}_{split}.tsv"
    group:
        job_group("byo_logits", DATA_GROUP)
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=60,
    params:
        source=lambda wildcards: BYO[wildcards.dataset]["logits"][wildcards.split],
        kind="logits",
    script:
        "../scripts/copy_array.py"


rule classifier_logits:
    input:
        download_marker,
        indices="results/{study}/data/{dataset}/{split}/indices.npy",
    output:
        "results/{study}/logits/{dataset}/{backbone}/supervised/k{k}_seed0/{split}.npy",
    log:
        "results/{study}/logs/classifier_logits/{dataset}/{backbone}/k{k}_{split}.log",
    benchmark:
        "results/{study}/benchmarks/classifier_logits/{dataset}/{backbone}/k{k}_{split}.tsv"
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
        "../scripts/classifier_logits.py"
