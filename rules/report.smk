# Stage 6: the paper's tables and figures, drawn from metrics.csv, the trees and the jobs'
# benchmark files only, so the `figures` target (and `--report report.html`) regenerates them
# from existing results. Every figure is written as PNG (shown in the report) and PDF.
# Captions: report/caption.rst prints each job's params.caption (built in rules/common.smk
# from the library's display names and table captions).


rule tables:
    input:
        "results/{study}/metrics.csv",
    output:
        table_outputs("{study}"),
    log:
        "results/{study}/logs/tables.log",
    benchmark:
        "results/{study}/benchmarks/tables.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=10,
    params:
        note=CAPTION_NOTE,
        captions=TABLE_CAPTIONS,
    script:
        "../scripts/make_tables.py"


rule runtime:
    input:
        [job["benchmark"] for job in RUNTIME_JOBS],
    output:
        runtime_outputs("{study}"),
    log:
        "results/{study}/logs/runtime.log",
    benchmark:
        "results/{study}/benchmarks/runtime.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=10,
    params:
        jobs=[
            {k: v for k, v in job.items() if k != "benchmark"} for job in RUNTIME_JOBS
        ],
        note=CAPTION_NOTE,
        caption=RUNTIME_CAPTION,
    script:
        "../scripts/runtime.py"


rule plot_dendrogram:
    input:
        tree=f"results/{{study}}/trees/{RUN}/{{method}}.json",
        logits=f"results/{{study}}/logits/{RUN}/{HIERARCHY_SPLIT}.npy",
        labels=f"results/{{study}}/data/{{dataset}}/{HIERARCHY_SPLIT}/labels.npy",
        classes="results/{study}/data/{dataset}/classes.txt",
    output:
        top=figure(
            f"results/{{study}}/figures/dendrograms/{RUN}/{{method}}",
            category="Dendrograms",
            subcategory=dataset_subcategory,
        ),
        radial=figure(
            f"results/{{study}}/figures/dendrograms/{RUN}/{{method}}_radial",
            category="Dendrograms",
            subcategory=dataset_subcategory,
        ),
    log:
        f"results/{{study}}/logs/plot_dendrogram/{RUN}/{{method}}.log",
    benchmark:
        f"results/{{study}}/benchmarks/plot_dendrogram/{RUN}/{{method}}.tsv"
    group:
        job_group("plot_dendrogram", RUN_GROUP)
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=10,
    params:
        supervised=lambda wildcards: wildcards.model == "supervised",
        title=tree_title,
        caption=dendrogram_caption,
        note=CAPTION_NOTE,
    script:
        "../scripts/plot_dendrogram.py"


rule plot_k_sensitivity:
    input:
        "results/{study}/metrics.csv",
    output:
        figure(
            "results/{study}/figures/k_sensitivity/{dataset}_{model}",
            category="K sensitivity",
        ),
    log:
        "results/{study}/logs/plot_k_sensitivity/{dataset}_{model}.log",
    benchmark:
        "results/{study}/benchmarks/plot_k_sensitivity/{dataset}_{model}.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=10,
    params:
        note=CAPTION_NOTE,
        caption=k_sensitivity_caption,
    script:
        "../scripts/plot_k_sensitivity.py"


rule plot_levels:
    input:
        "results/{study}/metrics.csv",
    output:
        figure("results/{study}/figures/levels/{dataset}", category="Levels"),
    log:
        "results/{study}/logs/plot_levels/{dataset}.log",
    benchmark:
        "results/{study}/benchmarks/plot_levels/{dataset}.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=10,
    params:
        note=CAPTION_NOTE,
        caption=levels_caption,
    script:
        "../scripts/plot_levels.py"
