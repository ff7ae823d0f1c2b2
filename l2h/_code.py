"""Which local source files a script may run, found statically; see :func:`code_files`.

Used by :func:`l2h.provenance.code_version` so that a workflow job depends on the library
modules it uses. The analysis reads source text only (nothing is imported) and errs on the
side of including a file:

* every ``import`` and ``from ... import`` anywhere in a module (functions included) whose
  module is found under the search folders, with the ``__init__.py`` of each parent package;
* string constants that spell such a module, or a registry's ``"module:name"`` reference to
  one (registries import their code by name: ``l2h.models.MODELS``, ``l2h.baselines.BASELINES``,
  the backbone loaders), or a file in the module's folder or in a package it names
  (``resources.files("l2h.datasets")`` and ``"cifar10.json"``, ``paper_numbers.csv``);
* the imports inside a package's module-level ``__getattr__`` (PEP 562 lazy attributes, such
  as ``l2h.fit``) only when some module reads from that package a name it does not define
  at module level; so ``import l2h`` for ``l2h.__version__`` does not pull in the algorithm.
"""

from __future__ import annotations

import ast
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["code_files"]

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_FILE_NAME = re.compile(r"[\w+-][\w.+-]{0,200}\.\w+")


@dataclass
class _Source:
    """What one module refers to, split into what runs always and what only lazily."""

    imports: list[tuple[str, tuple[str, ...], bool]] = field(default_factory=list)
    reads: list[tuple[str, bool]] = field(default_factory=list)
    strings: list[tuple[str, bool]] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)


def code_files(script: str | os.PathLike, root: str | os.PathLike) -> list[Path]:
    """The script and every local module and data file it may use, sorted.

    Parameters
    ----------
    script : path-like
        A Python file (a workflow script).
    root : path-like
        Folder searched for modules after the script's own folder (the one holding ``l2h``).

    Returns
    -------
    list of pathlib.Path
        Absolute paths, the script included.
    """
    script = Path(script).resolve()
    return _Walk((script.parent, Path(root).resolve())).run(script)


class _Walk:
    def __init__(self, search: tuple[Path, ...]) -> None:
        self.search = search
        self.files: set[Path] = set()
        self.done: set[tuple[Path, bool]] = set()

    def run(self, script: Path) -> list[Path]:
        self.visit(script, "", lazy=False)
        return sorted(self.files)

    def visit(self, path: Path, name: str, lazy: bool) -> None:
        """Add ``path`` (module ``name``) and what it refers to (lazily: its __getattr__ part)."""
        if (path, lazy) in self.done:
            return
        self.done.add((path, lazy))
        self.files.add(path)
        source = _parse(path, name, path.name == "__init__.py")
        folders = [path.parent]
        for module, names, in_getattr in source.imports:
            if in_getattr == lazy:
                self.use(module)
                for item in names:
                    if not self.use(f"{module}.{item}"):
                        self.read(module, item)
        for dotted, in_getattr in source.reads:
            if in_getattr == lazy:
                self.read_dotted(dotted)
        for text, in_getattr in source.strings:
            if in_getattr != lazy:
                continue
            module = text.partition(":")[0]  # a registry's "module:name" reference
            found = self.find(module) if _DOTTED.fullmatch(module) else None
            if found is not None:
                folders.append(found[0].parent)
                if "." in module:
                    self.use(module)
        for text, in_getattr in source.strings:
            if in_getattr == lazy and _FILE_NAME.fullmatch(text):
                self.files.update(f / text for f in folders if (f / text).is_file())

    def find(self, name: str) -> tuple[Path, bool] | None:
        """The file of module ``name`` under a search folder, and whether it is a package."""
        parts = name.split(".")
        for base in self.search:
            folder = base.joinpath(*parts[:-1])
            if not all(
                (base.joinpath(*parts[:i]) / "__init__.py").is_file() for i in range(1, len(parts))
            ):
                continue
            if (folder / parts[-1] / "__init__.py").is_file():
                return folder / parts[-1] / "__init__.py", True
            if (folder / f"{parts[-1]}.py").is_file():
                return folder / f"{parts[-1]}.py", False
        return None

    def use(self, name: str) -> bool:
        """Import module ``name`` and its parent packages; False if it is not local."""
        found = self.find(name)
        if found is None:
            return False
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = self.find(".".join(parts[:i]))
            if parent is not None:
                self.visit(parent[0], ".".join(parts[:i]), lazy=False)
        self.visit(found[0], name, lazy=False)
        return True

    def read(self, module: str, attr: str) -> None:
        """``module.attr`` is read: a name the package lacks goes through its __getattr__."""
        found = self.find(module)
        if found is None or not found[1]:
            return
        if attr not in _parse(found[0], module, True).defined:
            self.visit(found[0], module, lazy=True)

    def read_dotted(self, dotted: str) -> None:
        parts = dotted.split(".")
        for i in range(1, len(parts)):
            prefix, longer = ".".join(parts[:i]), ".".join(parts[: i + 1])
            if self.find(prefix) is None:
                return
            if not self.use(longer):
                self.read(prefix, parts[i])
                return


def _parse(path: Path, name: str, is_package: bool) -> _Source:
    info = path.stat()
    return _parse_cached(path, name, is_package, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=4096)
def _parse_cached(path: Path, name: str, is_package: bool, mtime: int, size: int) -> _Source:
    tree = ast.parse(path.read_bytes(), filename=os.fspath(path))
    package = name if is_package else name.rpartition(".")[0]
    source = _Source(defined=_top_level_names(tree))
    lazy = {
        id(node)
        for top in tree.body
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef) and top.name == "__getattr__"
        for node in ast.walk(top)
    }
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        in_getattr = id(node) in lazy
        if isinstance(node, ast.Import):
            for alias in node.names:
                source.imports.append((alias.name, (), in_getattr))
                key = alias.asname or alias.name.partition(".")[0]
                bound[key] = alias.name if alias.asname else key
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            names = tuple(alias.name for alias in node.names if alias.name != "*")
            source.imports.append((module, names, in_getattr))
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            source.strings.append((node.value, in_getattr))
    for node in ast.walk(tree):
        dotted = _dotted(node, bound)
        if dotted is not None:
            source.reads.append((dotted, id(node) in lazy))
    return source


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _dotted(node: ast.AST, bound: dict[str, str]) -> str | None:
    """``a.b.c`` for an attribute chain whose root is a name bound by an import."""
    if not isinstance(node, ast.Attribute):
        return None
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bound:
        return None
    return ".".join([bound[node.id], *reversed(attrs)])


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a module defines when it is imported (functions and blocks not entered)."""
    names: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            for block in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(node, block, []))
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(node.body)
    return names
