# Stage 5: evaluation on the evaluation splits (default: test). One tidy table per model run
# (all its trees: L2H per aggregation and the baselines), then
# the study's metrics.csv and its provenance record.


rule evaluate:
    input:
        unpack(evaluation_inputs),
    output:
        f"results/{{study}}/metrics/{RUN}.csv",
    log:
        f"results/{{study}}/logs/evaluate/{RUN}.log",
    benchmark:
        f"results/{{study}}/benchmarks/evaluate/{RUN}.tsv"
    group:
        job_group("evaluate", RUN_GROUP)
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=30,
    params:
        methods=run_methods,
        splits=EVAL_SPLITS,
        taxonomy=lambda wildcards: evaluation_taxonomy(wildcards),
    script:
        "../scripts/evaluate.py"


rule collect_metrics:
    input:
        metric_tables(),
    output:
        report(
            "results/{study}/metrics.csv",
            caption="../report/metrics.rst",
            category="Metrics",
        ),
    log:
        "results/{study}/logs/collect_metrics.log",
    benchmark:
        "results/{study}/benchmarks/collect_metrics.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=10,
    script:
        "../scripts/collect_metrics.py"


rule provenance:
    output:
        "results/{study}/provenance.json",
    log:
        "results/{study}/logs/provenance.log",
    benchmark:
        "results/{study}/benchmarks/provenance.tsv"
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb,
        runtime=5,
    params:
        config=config,
        code_versions=lambda wildcards: CODE_VERSIONS,
    script:
        "../scripts/provenance.py"
