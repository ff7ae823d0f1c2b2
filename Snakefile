"""L2H benchmark workflow: download -> embeddings -> flat models -> logits -> L2H and baselines
-> metrics on the test split -> paper tables, figures and report.

Paper study:  snakemake --cores 8 --configfile config.yaml          (GPU for embeddings)
On SLURM:     snakemake --profile slurm --configfile config.yaml       (profile: slurm/)
Demo:         snakemake --cores 2 --configfile config/demo.yaml     (offline, CPU, real data)
Without --configfile the paper study (config.yaml) runs. Every output lives under results/<study>/;
rules/common.smk builds the target lists from the checked config. Every name (dataset, backbone,
model, baseline) and what it needs comes from the registries of the l2h package.
"""

import re
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# The workflow's own l2h package (same checkout), whether or not it is installed.
sys.path.insert(0, workflow.basedir)


if not config:

    configfile: "config.yaml"


from l2h.config import ConfigError, check_data, check_study

# The whole config is checked before anything is planned: the schema (with the registries'
# names) and every model/baseline setting against its signature. One line, no traceback.
try:
    check_study(config, Path(workflow.basedir) / "config" / "schema.yaml")
except ConfigError as error:
    sys.exit(f"config error: {error}")

STUDY = config["study"]


report: "report/workflow.rst"


include: "rules/common.smk"


check_conda_available()


wildcard_constraints:
    study=re.escape(STUDY),
    dataset=alternatives(dataset_names()),
    space=alternatives([*BACKBONES, "given"]),
    backbone=r"[A-Za-z0-9_.+]+",
    model=alternatives([*MODELS, *NO_MODEL]),
    method=r"[a-z0-9_]+",
    aggregation=alternatives(config["aggregations"]),
    baseline=alternatives([*BASELINES, "treevae"]),
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
    # User-provided data (ImageNet, iNat21 roots) is checked when a run starts, never in dry runs.
    try:
        check_data(config)
    except ConfigError as error:
        sys.exit(f"data error: {error}")


# On a cluster these run on the submit host: seconds each, reading metrics.csv.
localrules:
    all,
    figures,
    collect_metrics,
    tables,
    plot_k_sensitivity,
    plot_levels,
    runtime,


rule all:
    default_target: True
    input:
        all_outputs(),


rule figures:
    input:
        figures(),
