"""The `xlmlab` command line (also `python -m xlmlab`)."""

from __future__ import annotations

import argparse

from . import embedded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xlmlab", description="The XLM-family workbook.")
    commands = parser.add_subparsers(dest="command", required=True)
    assets = commands.add_parser("assets", help="build the embedded tiny models (cached, instant when built)")
    assets.add_argument("--force", action="store_true", help="rebuild even if the cache is up to date")
    args = parser.parse_args(argv)

    if args.command == "assets":
        for name, path in embedded.build_all(force=args.force).items():
            print(f"{name:10s} {path}")
    return 0
