# Stage 5: report. Figures drawn from the trees, one job per model run (tables come with the
# paper-table issue).


rule plot_dendrograms:
    input:
        trees=expand(
            "results/{{study}}/trees/{{dataset}}/{{model}}/k{{k}}_seed{{seed}}_{aggregation}.json",
            aggregation=config["aggregations"],
        ),
        logits="results/{study}/logits/{dataset}/{model}/k{k}_seed{seed}.npy",
        labels="results/{study}/data/{dataset}/labels.npy",
        classes="results/{study}/data/{dataset}/classes.txt",
    output:
        report(
            expand(
                "results/{{study}}/figures/dendrogram_{{dataset}}_{{model}}_{{k}}_seed{{seed}}_{aggregation}.png",
                aggregation=config["aggregations"],
            ),
            category="Dendrograms",
            subcategory="{dataset}",
        ),
    log:
        "results/{study}/logs/plot_dendrograms/{dataset}/{model}/k{k}_seed{seed}.log",
    benchmark:
        "results/{study}/benchmarks/plot_dendrograms/{dataset}/{model}/k{k}_seed{seed}.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/plot_dendrograms.py"
