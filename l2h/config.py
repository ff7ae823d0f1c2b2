"""A study's configuration, checked whole before any job runs.

:func:`check_study` is what the workflow calls on its config, before it plans a single job:

1. :func:`validate` checks it against ``config/schema.yaml``, whose name lists are filled in
   from the registries (:func:`study_schema`; a schema node ``x-l2h-names: <list>`` becomes
   ``enum: [...]``, see :func:`registry_names`), and sets the schema's defaults;
2. :func:`check_settings` checks what a schema cannot: every model and baseline setting is a
   keyword argument of the model class or baseline function, with a value of its hinted type;
   the datasets a baseline is limited to, the models of a K sweep and the supervised setting's
   dataset are part of the study.

Each problem is one :class:`ConfigError` naming the key and the bad value. The data that users
provide (ImageNet, iNat21 roots) is checked when a run starts, never while planning
(:func:`check_data`), so dry runs need no data.

>>> try:
...     check_settings({"models": {"kmeans": {"n_init": "three"}}})
... except ConfigError as err:
...     print(err)
models.kmeans.n_init = 'three': k-means (l2h.models.kmeans.KMeans) expects int
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from l2h._params import ParamError, check_params

__all__ = [
    "ConfigError",
    "check_data",
    "check_settings",
    "check_study",
    "registry_names",
    "study_schema",
    "validate",
]

#: The schema keyword whose value names a list of :func:`registry_names`.
NAMES_KEYWORD = "x-l2h-names"


#: The value of a :class:`ConfigError` about a key that is missing.
MISSING = object()


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(ValueError):
    """One problem of a study's config: ``key`` (dotted path) and ``value`` name it."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        shown = key if value is MISSING else f"{key} = {_shown(value)}"
        super().__init__(f"{shown}: {reason}")
        self.key, self.value, self.reason = key, value, reason


# ----------------------------------------------------------------------------- names


def _datasets() -> dict[str, Any]:
    from l2h.datasets import DATASETS

    return DATASETS


def _aggregations() -> list[str]:
    from l2h.algorithm import AGGREGATIONS

    return list(AGGREGATIONS)


def _treevae_datasets() -> list[str]:
    from l2h.baselines.treevae import TREEVAE_CONFIGS

    return list(TREEVAE_CONFIGS)


def _backbones() -> list[str]:
    from l2h.backbones import BACKBONES

    return list(BACKBONES)


def _models() -> list[str]:
    from l2h.models import MODELS

    return list(MODELS)


def _baselines() -> list[str]:
    from l2h.baselines import BASELINES

    return list(BASELINES)


_NAME_LISTS: dict[str, Callable[[], list[str]]] = {
    "datasets": lambda: list(_datasets()),
    "datasets_with_tree": lambda: [n for n, i in _datasets().items() if i.has_tree],
    "imagenet_label_datasets": lambda: [n for n, i in _datasets().items() if i.imagenet_labels],
    "backbones": _backbones,
    "models": _models,
    "baselines": _baselines,
    "aggregations": _aggregations,
    "treevae_datasets": _treevae_datasets,
}


def registry_names() -> dict[str, list[str]]:
    """Every name list the schema may refer to, read from the registries.

    Returns
    -------
    dict of str to list of str
        ``datasets``, ``datasets_with_tree`` (a ground-truth tree), ``imagenet_label_datasets``
        (labels are ImageNet-1k classes: the supervised setting), ``backbones``, ``models``,
        ``baselines``, ``aggregations`` (L2H's) and ``treevae_datasets``.
    """
    return {name: read() for name, read in _NAME_LISTS.items()}


def _fill(node: Any, names: Mapping[str, list[str]]) -> Any:
    if isinstance(node, list):
        return [_fill(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _fill(value, names) for key, value in node.items() if key != NAMES_KEYWORD}
    if NAMES_KEYWORD in node:
        out["enum"] = list(names[node[NAMES_KEYWORD]])
    return out


def study_schema(path: str | os.PathLike) -> dict[str, Any]:
    """The study schema (YAML) with every ``x-l2h-names: <list>`` node given its ``enum``."""
    import yaml

    schema = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return _fill(schema, registry_names())


# ----------------------------------------------------------------------------- schema


def _with_defaults(validator_class: Any) -> Any:
    """A validator that also sets the ``default`` of every absent property (as Snakemake's)."""
    from jsonschema import validators

    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):  # noqa: ANN001 (jsonschema's API)
        if isinstance(instance, dict):
            for name, sub in props.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, sub["default"])
        yield from check_properties(validator, props, instance, schema)

    return validators.extend(validator_class, {"properties": properties})


def _key(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _schema_problem(error: Any) -> ConfigError:
    """A jsonschema error as a :class:`ConfigError` on the innermost key it is about."""
    path, instance, schema = list(error.absolute_path), error.instance, error.schema
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        extra = next(k for k in instance if k not in known)
        reason = f"unknown key; known: {', '.join(known)}" if known else "unknown key"
        return ConfigError(_key([*path, extra]), instance[extra], reason)
    if error.validator == "required" and isinstance(instance, dict):
        missing = next(k for k in error.validator_value if k not in instance)
        return ConfigError(_key([*path, missing]), MISSING, "required key is missing")
    if error.validator == "not" and "propertyNames" in error.absolute_schema_path:
        reason = "a registered name; bring-your-own entries need another one"
        return ConfigError(_key([*path, instance]), MISSING, reason)
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        if "propertyNames" in error.absolute_schema_path:
            return ConfigError(_key([*path, instance]), MISSING, f"unknown name; known: {allowed}")
        return ConfigError(_key(path), instance, f"must be one of: {allowed}")
    return ConfigError(_key(path), instance, error.message)


def validate(config: dict[str, Any], schema_path: str | os.PathLike) -> None:
    """Check ``config`` against :func:`study_schema` and set the schema's defaults in place.

    Raises
    ------
    ConfigError
        For the most relevant schema violation (:func:`jsonschema.exceptions.best_match`).
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = study_schema(schema_path)
    error = best_match(_with_defaults(Draft202012Validator)(schema).iter_errors(config))
    if error is not None:
        raise _schema_problem(error)


# ----------------------------------------------------------------------------- settings


def _check_model_settings(config: Mapping[str, Any]) -> None:
    from l2h.models import MODELS, WORKFLOW_ARGUMENTS

    places = [(f"models.{m}", m, s) for m, s in config.get("models", {}).items()]
    for dataset, settings in config.get("datasets", {}).items():
        for model, own in (settings.get("models") or {}).items():
            places.append((f"datasets.{dataset}.models.{model}", model, own))
    for key, model, settings in places:
        info = MODELS[model]
        owner = f"{info.display_name} ({info.module}.{info.cls})"
        check_params(settings, info.load(), key=key, owner=owner, reserved=WORKFLOW_ARGUMENTS)


def _check_baselines(config: Mapping[str, Any]) -> None:
    from l2h.baselines import BASELINES, CALL_ARGUMENTS
    from l2h.models import WORKFLOW_ARGUMENTS

    study = [*config.get("datasets", {}), *config.get("byo", {})]
    for name, settings in config.get("baselines", {}).items():
        settings, info = settings or {}, BASELINES[name]
        owner = f"{info.display_name} ({info.function.__module__}.{info.function.__name__})"
        skip = tuple(a for a in CALL_ARGUMENTS if a not in WORKFLOW_ARGUMENTS)
        check_params(
            settings.get("params"),
            info.function,
            key=f"baselines.{name}.params",
            owner=owner,
            skip=skip,
            reserved=WORKFLOW_ARGUMENTS,
        )
        for dataset in settings.get("datasets") or []:
            key = f"baselines.{name}.datasets"
            if dataset not in study:
                raise ConfigError(key, dataset, f"not a dataset of this study ({', '.join(study)})")
            if "pixels" in info.inputs and dataset not in config.get("datasets", {}):
                raise ConfigError(key, dataset, f"{name} needs raw pixels; {dataset} has none")
            byo = config.get("byo", {}).get(dataset, {})
            if "features" in info.inputs and "logits" in byo:
                raise ConfigError(key, dataset, f"{name} needs embeddings; {dataset} has logits")


def _check_study_members(config: Mapping[str, Any]) -> None:
    models = list(config.get("models", {}))
    for dataset, settings in config.get("datasets", {}).items():
        for model in (settings.get("k_sweep") or {}).get("models", []):
            if model not in models:
                key = f"datasets.{dataset}.k_sweep.models"
                known = ", ".join(models)
                raise ConfigError(key, model, f"not a model of this study (models: {known})")
    supervised = config.get("supervised")
    if supervised and supervised["dataset"] not in config.get("datasets", {}):
        reason = "the supervised setting needs this dataset in the study's datasets"
        raise ConfigError("supervised.dataset", supervised["dataset"], reason)


def _check_treevae(config: Mapping[str, Any]) -> None:
    from l2h.baselines.treevae import run_treevae
    from l2h.models import WORKFLOW_ARGUMENTS

    params = (config.get("treevae") or {}).get("params")
    skip = ("dataset", "out_dir", "data_dir")
    reserved = {"seed": WORKFLOW_ARGUMENTS["seed"]}
    owner = "TreeVAE (l2h.baselines.treevae.run_treevae)"
    key = "treevae.params"
    check_params(params, run_treevae, key=key, owner=owner, skip=skip, reserved=reserved)


def check_settings(config: Mapping[str, Any]) -> None:
    """Check what the schema cannot: settings against signatures, names against the study.

    Raises
    ------
    ConfigError
        For the first unknown or mistyped model, baseline or TreeVAE setting, a baseline
        limited to a dataset the study does not have (or that lacks its input), a K sweep of a
        model the study does not fit, or a supervised setting on a dataset the study lacks.
    """
    try:
        _check_model_settings(config)
        _check_baselines(config)
        _check_treevae(config)
    except ParamError as err:
        raise ConfigError(err.key, err.value, err.reason) from None
    _check_study_members(config)


def check_study(config: dict[str, Any], schema_path: str | os.PathLike) -> None:
    """:func:`validate` (defaults set in place), then :func:`check_settings`."""
    validate(config, schema_path)
    check_settings(config)


def check_data(config: Mapping[str, Any]) -> None:
    """At the start of a run (never while planning): user-provided data must be in place.

    Raises
    ------
    ConfigError
        Naming ``datasets.<name>.root`` and saying how to get the data.
    """
    from l2h.datasets import DATASETS, DatasetNotAvailableError, check_available

    for name, settings in config.get("datasets", {}).items():
        if DATASETS[name].needs_root:
            root = settings.get("root")
            try:
                check_available(name, root)
            except DatasetNotAvailableError as err:
                raise ConfigError(f"datasets.{name}.root", root, str(err)) from None
