"""TEMI's learning-rate schedule against the official one (HHU-MMBS/TEMI-official-BMVC2023).

The official ``train_main.py`` builds the schedule with ``utils.cosine_scheduler`` from
``lr * bs / 256`` and ``min_lr * bs / 256``: ``warmup_epochs * it`` values evenly spaced from 0
to the peak (both ends included), then ``end + (peak - end) * (1 + cos(pi * i / n)) / 2`` for
the remaining ``n`` iterations ``i = 0 .. n - 1``. :func:`official_lr` writes that formula out
on its own, and the tests compare it with the model's schedule step by step.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from l2h.config import ConfigError, check_study
from l2h.models.temi import TEMI

# The README's CIFAR command: batch 1024, lr 1e-4, min_lr 1e-4, 20 warm-up epochs, 100 epochs.
README = dict(batch_size=1024, lr=1e-4, min_lr=1e-4, warmup_epochs=20, epochs=100)
PER_EPOCH = 50_000 // 1024  # CIFAR's 50,000 training images, last incomplete batch dropped


def official_lr(step: int, *, batch_size, lr, min_lr, warmup_epochs, epochs, per_epoch):
    """The official learning rate at iteration ``step`` (formula of utils.cosine_scheduler)."""
    peak, end = lr * batch_size / 256, min_lr * batch_size / 256
    warm = warmup_epochs * per_epoch
    if step < warm:
        return float(np.linspace(0.0, peak, warm)[step])
    n = epochs * per_epoch - warm
    return end + 0.5 * (peak - end) * (1 + math.cos(math.pi * (step - warm) / n))


def our_lr(model: TEMI, step: int, per_epoch: int) -> float:
    state = {"total": model.epochs * per_epoch, "per_epoch": per_epoch, "batch": model.batch_size}
    return model._schedules(step, state)[0]


def steps_at(epochs: list[int], per_epoch: int) -> list[int]:
    """First and last iteration of each epoch."""
    return [s for e in epochs for s in (e * per_epoch, (e + 1) * per_epoch - 1)]


def test_readme_setting_equals_the_official_schedule():
    model = TEMI(10, **README)
    for step in steps_at([0, 1, 10, 19, 20, 21, 50, 99], PER_EPOCH):
        expected = official_lr(step, per_epoch=PER_EPOCH, **README)
        assert our_lr(model, step, PER_EPOCH) == pytest.approx(expected, rel=1e-12, abs=0)


def test_readme_setting_in_numbers():
    model = TEMI(10, **README)
    warm = 20 * PER_EPOCH  # 960 warm-up iterations
    assert our_lr(model, 0, PER_EPOCH) == 0.0
    assert our_lr(model, 480, PER_EPOCH) == pytest.approx(4e-4 * 480 / 959)
    # The peak is reached at the last warm-up iteration, then lr = min_lr = 4e-4 (both scaled):
    # no decay, where an unscaled min_lr would decay from 4e-4 to 1e-4.
    after = [our_lr(model, s, PER_EPOCH) for s in range(warm - 1, 100 * PER_EPOCH)]
    np.testing.assert_allclose(after, 4e-4, rtol=1e-12)


def test_decaying_schedule_equals_the_official_one():
    # main_args.py's defaults (lr 5e-4, min_lr 1e-6, 10 warm-up epochs) at the ImageNet
    # command's batch 128: peak 2.5e-4, end 5e-7.
    setting = dict(batch_size=128, lr=5e-4, min_lr=1e-6, warmup_epochs=10, epochs=100)
    model = TEMI(10, **setting)
    per_epoch = 7
    for step in range(100 * per_epoch):
        expected = official_lr(step, per_epoch=per_epoch, **setting)
        assert our_lr(model, step, per_epoch) == pytest.approx(expected, rel=1e-12, abs=1e-20)
    halfway = 10 * per_epoch + 45 * per_epoch  # half of the 630 cosine iterations
    assert our_lr(model, halfway, per_epoch) == pytest.approx((2.5e-4 + 5e-7) / 2)
    assert our_lr(model, 10 * per_epoch - 1, per_epoch) == pytest.approx(2.5e-4)


# ----------------------------------------------------------------------- per-dataset settings

ROOT = Path(__file__).resolve().parents[1]


def workflow_functions(config: dict) -> dict:
    """rules/common.smk's functions bound to ``config``, checked as the Snakefile does."""
    check_study(config, ROOT / "config" / "schema.yaml")
    namespace = {"config": config}
    exec(compile((ROOT / "rules" / "common.smk").read_text(), "common.smk", "exec"), namespace)
    return namespace


def test_paper_config_gives_temi_its_per_dataset_settings():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    model_params = workflow_functions(config)["model_params"]
    large = {"batch_size": 128, "knn": 25, "embed_norm": True}
    for dataset in ("imagenet", "inat21"):
        params = model_params(SimpleNamespace(dataset=dataset, model="temi"))
        assert params == large, dataset
        TEMI(1000, **params)  # the job's keyword arguments are valid
    for dataset in ("cifar10", "cifar100", "food101"):
        assert model_params(SimpleNamespace(dataset=dataset, model="temi")) == {}
    assert model_params(SimpleNamespace(dataset="imagenet", model="turtle")) == {}


def test_dataset_settings_merge_key_by_key_over_the_study_settings():
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    dataset = next(iter(config["datasets"]))
    study = dict(config["models"]["temi"])
    config["datasets"][dataset]["models"] = {"temi": {"epochs": 3, "knn": 7}}
    model_params = workflow_functions(config)["model_params"]
    got = model_params(SimpleNamespace(dataset=dataset, model="temi"))
    assert got == {**study, "epochs": 3, "knn": 7} and got["epochs"] != study.get("epochs", 3)
    assert config["models"]["temi"] == study  # the study's entry is not changed


def test_a_dataset_setting_for_an_unknown_model_is_rejected():
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    dataset = next(iter(config["datasets"]))
    config["datasets"][dataset]["models"] = {"temmi": {"knn": 7}}
    with pytest.raises(ConfigError, match="temmi"):
        check_study(config, ROOT / "config" / "schema.yaml")
