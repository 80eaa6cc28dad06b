"""``events-gateway``: serve the gateway, run the emulator, export the schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="events-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    from .emulator.cli import add_emulator_command

    add_emulator_command(commands)
    # `serve` and `export-schema` are added here by the server part.

    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
