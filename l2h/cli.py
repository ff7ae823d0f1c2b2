"""Command-line interface: ``l2h fit``, ``l2h cut``, ``l2h newick``, ``l2h embed`` and
``l2h precompile``.

Every failure caused by the input (a missing or damaged file, invalid logits, a bad option)
ends with exactly one line ``l2h: error: <message>`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Sequence

import l2h
from l2h.hierarchy import Hierarchy
from l2h.io import check_output, load_logits, load_names

__all__ = ["main"]

#: Inputs with at least this many logits (N * K) report progress and timing on stderr.
LARGE_INPUT = 10_000_000

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _UsageError(Exception):
    """An argparse usage error, raised instead of argparse's print-and-exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``l2h`` command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a usage or input error, 130 when interrupted.
    """
    try:
        args = _build_parser().parse_args(argv)
        return args.run(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("l2h: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `l2h cut ... | head -1`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (_UsageError, ValueError, OSError, KeyError) as exc:
        print(f"l2h: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE


def _count(low: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers ``>= low`` (argparse names the option)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return value

    return parse


# Library parameters that the embed command exposes as options, for naming them in messages.
_OPTION_OF = {
    "batch_size": "--batch-size",
    "num_workers": "--num-workers",
    "image_size": "--image-size",
}


def _with_option_names(message: str) -> str:
    """``message`` with the library's parameter names replaced by the CLI options."""
    return re.sub(r"\b(\w+)(?= must\b)", lambda m: _OPTION_OF.get(m[1], m[1]), message)


def _write_stdout(text: str) -> None:
    """Write to stdout; nothing to do when it was closed (``>&-``), as ``print`` does."""
    if sys.stdout is not None:
        sys.stdout.write(text)


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on a single line."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        message = f"{exc.strerror}: {exc.filename}"
    elif isinstance(exc, KeyError):
        message = f"missing key {exc.args[0]!r}" if exc.args else "missing key"
    else:
        message = str(exc)
    return " ".join(message.split()) or type(exc).__name__


def _build_parser() -> _Parser:
    parser = _Parser(prog="l2h", description="Hierarchies over the clusters of a flat model.")
    parser.add_argument("--version", action="version", version=f"l2h {l2h.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser("fit", help="build the hierarchy from an (N, K) logits file")
    fit.add_argument("logits", help="logits file: .npy, .npz, .pt or .pth")
    fit.add_argument("-o", "--output", required=True, help="where to write the tree (JSON)")
    fit.add_argument("--aggregation", default="cluster_mean", choices=l2h.AGGREGATIONS)
    fit.add_argument("--quiet", action="store_true", help="no progress or timing on stderr")
    fit.set_defaults(run=_run_fit)

    cut = commands.add_parser("cut", help="print the group of each cluster, one per line")
    cut.add_argument("tree", help="tree file written by `l2h fit`")
    cut.add_argument("--groups", type=int, required=True, help="number of groups")
    cut.set_defaults(run=_run_cut)

    newick = commands.add_parser("newick", help="print the tree in Newick format")
    newick.add_argument("tree", help="tree file written by `l2h fit`")
    newick.add_argument("--names", help="text file with one cluster name per line")
    newick.set_defaults(run=_run_newick)
    _add_embed(commands)

    precompile = commands.add_parser(
        "precompile",
        help="compile the kernels of `l2h fit` into numba's cache (`make install` runs this)",
    )
    precompile.add_argument(
        "--dtypes", nargs="+", default=["float32", "float64"], choices=("float32", "float64"),
        help="logits dtypes to compile for (float16 logits use the float32 kernels)",
    )  # fmt: skip
    precompile.set_defaults(run=_run_precompile)
    return parser


def _run_precompile(args: argparse.Namespace) -> int:
    from l2h import _precompile

    start = time.perf_counter()
    where = _precompile.compile_all(args.dtypes)
    print(
        f"l2h: kernels for {', '.join(args.dtypes)} logits ready in {where} "
        f"({time.perf_counter() - start:.1f} s)",
        file=sys.stderr,
    )
    return 0


def _add_embed(commands) -> None:
    embed = commands.add_parser("embed", help="embed a dataset's images into an (N, d) .npy file")
    embed.add_argument(
        "--dataset", required=True, help="registered dataset (l2h.datasets.DATASETS)"
    )
    embed.add_argument("--split", default="train", choices=("train", "test", "all"))
    embed.add_argument("--backbone", required=True, help="registered backbone (l2h.backbones)")
    embed.add_argument("-o", "--out", required=True, help="output .npy (metadata in OUT.json)")
    embed.add_argument("--root", help="data folder (default $L2H_DATA or ~/.cache/l2h/data)")
    embed.add_argument("--no-download", action="store_true", help="never download data")
    embed.add_argument("--batch-size", type=_count(1), default=256)
    embed.add_argument("--device", default="auto", help="auto, cpu or cuda")
    embed.add_argument("--num-workers", type=_count(0), default=0, help="DataLoader workers")
    embed.add_argument(
        "--image-size", type=_count(1), help="model input size (default per backbone)"
    )
    embed.add_argument("--subset", type=_count(1), help="stratified subset of this many images")
    embed.add_argument("--seed", type=_count(0), default=0, help="seed of --subset")
    embed.add_argument("--output", default="features", choices=("features", "logits"))
    embed.add_argument("--quiet", action="store_true", help="no progress bar")
    embed.set_defaults(run=_run_embed)


def _run_embed(args: argparse.Namespace) -> int:
    from l2h import backbones, datasets

    try:
        datasets.dataset_info(args.dataset)
        if args.output == "features":
            backbones.backbone_info(args.backbone)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if not str(args.out).endswith(".npy"):
        raise ValueError(f"-o must name a .npy file, got {args.out}")
    check_output(args.out)
    try:
        _extract(args)
    except ValueError as exc:
        raise ValueError(_with_option_names(str(exc))) from None
    return 0


def _extract(args: argparse.Namespace) -> None:
    from l2h import embed

    embed.extract_to_file(
        args.dataset,
        args.split,
        args.backbone,
        args.out,
        root=args.root,
        subset=args.subset,
        seed=args.seed,
        download=not args.no_download,
        batch_size=args.batch_size,
        device=args.device,
        num_workers=args.num_workers,
        image_size=args.image_size,
        output=args.output,
        progress=not args.quiet,
    )


def _run_fit(args: argparse.Namespace) -> int:
    check_output(args.output, inputs=[args.logits])
    logits = load_logits(args.logits)
    verbose = logits.size >= LARGE_INPUT and not args.quiet
    start = time.perf_counter()
    tree = l2h.fit(logits, aggregation=args.aggregation, progress=verbose)
    tree.save(args.output)
    if verbose:
        n_rows = logits.shape[0]
        elapsed = time.perf_counter() - start
        print(
            f"l2h: fitted K={tree.n_clusters} clusters from N={n_rows} rows in {elapsed:.2f} s",
            file=sys.stderr,
        )
    return 0


def _run_cut(args: argparse.Namespace) -> int:
    tree = Hierarchy.load(args.tree)
    if not 1 <= args.groups <= tree.n_clusters:
        raise ValueError(f"--groups must be between 1 and {tree.n_clusters}, got {args.groups}")
    groups = tree.cut(args.groups)
    _write_stdout("".join(f"{group}\n" for group in groups))
    return 0


def _run_newick(args: argparse.Namespace) -> int:
    tree = Hierarchy.load(args.tree)
    names = None
    if args.names is not None:
        names = load_names(args.names)
        if len(names) != tree.n_clusters:
            raise ValueError(
                f"names file {args.names} has {len(names)} names, "
                f"expected {tree.n_clusters} (one per cluster)"
            )
    _write_stdout(tree.to_newick(names) + "\n")
    return 0
