"""L2H benchmark workflow: dataset -> flat model logits -> L2H trees -> metrics and figures.

Demo (offline, CPU, under a minute):  snakemake --cores 2 --configfile config/demo.yaml
Without --configfile the demo study runs (until the paper's study is wired).
Every output lives under results/<study>/; rules/common.smk builds the target lists.
"""

import re

from snakemake.utils import min_version, validate

min_version("9.0")


if not config:

    configfile: "config/demo.yaml"


validate(config, "config/schema.yaml")

STUDY = config["study"]


wildcard_constraints:
    study=re.escape(STUDY),
    dataset="|".join(re.escape(name) for name in config["datasets"]),
    model="|".join(re.escape(name) for name in config["models"]),
    aggregation="|".join(re.escape(name) for name in config["aggregations"]),
    k=r"\d+",
    seed=r"\d+",


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/cluster.smk"
include: "rules/hierarchy.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


localrules:
    all,
    collect_metrics,


rule all:
    default_target: True
    input:
        all_outputs(),
