"""What registry entries share: code named by reference, settings read from a signature.

A registry entry names its code by reference (``"module:name"``, :func:`load_ref`), so that
reading a registry (the workflow planning jobs, a table asking for a display name) imports
nothing heavy. A model class or a baseline function declares its settings once, in its
signature (names, defaults, type hints): :func:`hyperparameters` reads them; :func:`check_params`
checks a configuration's settings against them (unknown names and values of the wrong type), so
a typo fails when the configuration is read, not hours later in a job.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "WORKFLOW_ARGUMENTS",
    "ParamError",
    "check_params",
    "entry",
    "hyperparameters",
    "load_ref",
    "type_name",
]

#: Arguments of every model and baseline that the workflow sets itself, with the config key
#: that sets them.
WORKFLOW_ARGUMENTS: dict[str, str] = {"n_clusters": "n_clusters", "seed": "seeds"}


def entry(registry: Mapping[str, Any], kind: str, name: str) -> Any:
    """``registry[name]``; a KeyError listing the registered names otherwise."""
    try:
        return registry[name]
    except KeyError:
        names = ", ".join(sorted(registry))
        raise KeyError(f"unknown {kind} {name!r}; registered {kind}s: {names}") from None


def load_ref(ref: str) -> Any:
    """The object a ``"module:name"`` reference names (its module is imported now)."""
    module, sep, name = ref.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"a reference is 'module:name', got {ref!r}")
    return getattr(importlib.import_module(module), name)


class ParamError(ValueError):
    """A setting that the signature does not accept; ``key`` names it, ``value`` is the value."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        super().__init__(f"{key} = {value!r}: {reason}")
        self.key, self.value, self.reason = key, value, reason


def _function(target: Callable[..., Any]) -> Callable[..., Any]:
    return target.__init__ if inspect.isclass(target) else target


def hyperparameters(target: Callable[..., Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keyword parameters of a class's constructor (or a function) with their defaults.

    Parameters
    ----------
    target : class or callable
        A model class (its ``__init__`` is read) or a baseline function.
    skip : tuple of str
        Names left out (e.g. the data arguments, or ``n_clusters`` and ``seed``, which the
        workflow sets).

    Returns
    -------
    dict
        ``{name: default}`` in signature order (``inspect.Parameter.empty`` when required).
    """
    params = inspect.signature(_function(target)).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name: p.default for p in params if p.kind in kinds and p.name not in ("self", *skip)}


def _hints(target: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(_function(target))
    except Exception:  # an unresolvable hint only disables the type check
        return {}


def _accepts(hint: Any, value: Any) -> bool:
    """Whether ``value`` fits the type hint (a YAML number written as ``1e-4`` is text)."""
    if hint is Any:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_accepts(arm, value) for arm in typing.get_args(hint))
    if typing.get_origin(hint) is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return False
            return True
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # generic hints (lists, mappings, ...) are left to the callee


def type_name(hint: Any) -> str:
    """A type hint as people write it (``float | None``)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " | ".join(type_name(arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


def check_params(
    settings: Mapping[str, Any] | None,
    target: Callable[..., Any],
    *,
    key: str,
    owner: str,
    skip: tuple[str, ...] = (),
    reserved: Mapping[str, str] | None = None,
) -> None:
    """Check settings against a signature: every name known, every value of the hinted type.

    Parameters
    ----------
    settings : mapping or None
        Name -> value, as written in a configuration.
    target : class or callable
        Whose signature declares the hyperparameters (see :func:`hyperparameters`).
    key : str
        Where the settings are written (``"models.kmeans"``), for the message.
    owner : str
        What the settings are for (``"k-means (l2h.models.KMeans)"``), for the message.
    skip : tuple of str
        Parameters that are not settings (data arguments).
    reserved : mapping of str to str, optional
        Parameters set elsewhere, with the place to set them (``{"seed": "seeds"}``).

    Raises
    ------
    ParamError
        For the first setting that is unknown, reserved, or of the wrong type.
    """
    reserved = dict(reserved or {})
    known = hyperparameters(target, skip=(*skip, *reserved))
    hints = _hints(target)
    for name, value in (settings or {}).items():
        where = f"{key}.{name}"
        if name in reserved:
            raise ParamError(where, value, f"set by {reserved[name]!r}, not here")
        if name not in known:
            names = ", ".join(known) or "none"
            raise ParamError(where, value, f"unknown setting of {owner}; known: {names}")
        hint = hints.get(name)
        if hint is not None and not _accepts(hint, value):
            raise ParamError(where, value, f"{owner} expects {type_name(hint)}")
