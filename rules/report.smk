# Stage 6: the paper's tables and figures, drawn from metrics.csv and the trees only, so the
# `figures` target (and `--report report.html`) regenerates them from existing results.


rule tables:
    input:
        "results/{study}/metrics.csv",
    output:
        report(table_files("{study}"), category="Tables"),
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
    script:
        "../scripts/make_tables.py"


rule plot_dendrogram:
    input:
        tree=f"results/{{study}}/trees/{RUN}/{{method}}.json",
        logits=f"results/{{study}}/logits/{RUN}/{HIERARCHY_SPLIT}.npy",
        labels=f"results/{{study}}/data/{{dataset}}/{HIERARCHY_SPLIT}/labels.npy",
        classes="results/{study}/data/{dataset}/classes.txt",
    output:
        report(
            f"results/{{study}}/figures/dendrograms/{RUN}/{{method}}.png",
            category="Dendrograms",
            subcategory="{dataset}",
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
        note=CAPTION_NOTE,
    script:
        "../scripts/plot_dendrogram.py"


rule plot_k_sensitivity:
    input:
        "results/{study}/metrics.csv",
    output:
        report(
            "results/{study}/figures/k_sensitivity/{dataset}_{model}.png",
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
    script:
        "../scripts/plot_k_sensitivity.py"


rule plot_levels:
    input:
        "results/{study}/metrics.csv",
    output:
        report("results/{study}/figures/levels/{dataset}.png", category="Levels"),
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
    script:
        "../scripts/plot_levels.py"
