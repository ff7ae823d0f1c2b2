"""L2H benchmark workflow: download -> embeddings -> flat models -> logits -> L2H and baselines
-> metrics on the test split -> paper tables, figures and report.

Paper study:  snakemake --cores 8 --configfile config.yaml          (GPU for embeddings)
On SLURM:     snakemake --profile slurm --configfile config.yaml       (profile: slurm/)
Demo:         snakemake --cores 2 --configfile config/demo.yaml     (offline, CPU, real data)
Without --configfile the paper study (config.yaml) runs. Every output lives under results/<study>/;
rules/common.smk builds the target lists from the validated config.
"""

import re
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

# The workflow's own l2h package (same checkout), whether or not it is installed.
sys.path.insert(0, workflow.basedir)


if not config:

    configfile: "config.yaml"


validate(config, "config/schema.yaml")

STUDY = config["study"]


include: "rules/common.smk"


check_conda_available()


wildcard_constraints:
    study=re.escape(STUDY),
    dataset="|".join(re.escape(name) for name in dataset_names()),
    space=r"[a-z0-9_]+",
    backbone=r"[A-Za-z0-9_.+]+",
    model=r"[a-z]+",
    method=r"[a-z0-9_]+",
    aggregation="|".join(re.escape(name) for name in config["aggregations"]),
    baseline="|".join(BASELINE_INPUTS) + "|treevae",
    split="train|test",
    k=r"\d+",
    seed=r"\d+",


include: "rules/data.smk"
include: "rules/embed.smk"
include: "rules/cluster.smk"
include: "rules/hierarchy.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


# Results follow the code: every rule that runs a script gets params.code, the hash of the
# script and of the l2h modules and data files it may use (l2h.provenance.code_version).
# Snakemake reruns jobs whose params changed, so editing the library plans the jobs that use
# it again; rule provenance records every hash in provenance.json.
from l2h.provenance import code_version

CODE_VERSIONS = {}
for _rule in workflow.rules:
    if _rule.script:
        _script = Path(_rule.snakefile).parent / _rule.script
        CODE_VERSIONS[_rule.name] = code_version(_script, workflow.basedir)
        _rule.set_params(code=CODE_VERSIONS[_rule.name]["sha256"])


onstart:
    check_data_available()


# On a cluster these run on the submit host: seconds each, reading metrics.csv.
localrules:
    all,
    figures,
    collect_metrics,
    tables,
    plot_k_sensitivity,
    plot_levels,


rule all:
    default_target: True
    input:
        all_outputs(),


rule figures:
    input:
        figures(),
