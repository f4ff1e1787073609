"""``skillcred bulk-issue``: the bulk issuance of ``POST /v1/bulk/credentials`` from the command
line, with a progress bar (see :mod:`service.bulk.commands`).

Contract (scripts rely on it): ``skillcred bulk-issue FILE [--achievement ID] [--issuer-admin EMAIL]
[--no-wait] [--results PATH]`` exits 0 once the rows are issued (or queued, with ``--no-wait``),
1 when a row is invalid (nothing stored), 2 for any other refusal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parsers(commands: Any) -> None:
    """Register ``bulk-issue`` on the ``skillcred`` sub-command parser."""
    p = commands.add_parser(
        "bulk-issue",
        help="issue credentials for every row of a CSV or JSON-lines file (as POST /v1/bulk/credentials)",
        description="Every row is checked first (exit 1, nothing stored, when one is invalid). On PostgreSQL "
        "`skillcred worker` processes issue the rows and this command follows them; on SQLite it issues them "
        "itself. Prints the job id and writes the per-row results (CSV).",
    )
    p.add_argument("file", metavar="FILE", help="CSV with a header row, or JSON lines (.jsonl/.ndjson)")
    p.add_argument("--achievement", default=None, help="achievement id for rows that name none")
    p.add_argument("--issuer-admin", default=None, metavar="EMAIL", help="issue as this account (default: operator)")
    p.add_argument("--results", default=None, metavar="PATH", help="results file (default bulk-<job id>.csv)")
    p.add_argument("--no-wait", action="store_true", help="print the job id and return (PostgreSQL workers issue)")
    p.set_defaults(func=cmd_bulk_issue)


def cmd_bulk_issue(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from service.bulk.commands import bulk_issue_command
    from service.bulk.parsing import FileError
    from service.bulk.service import InvalidRows
    from service.core.config import get_settings
    from service.core.errors import ServiceError

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("issuing", total=None)
        try:
            outcome = bulk_issue_command(
                get_settings(),
                Path(args.file),
                achievement_id=args.achievement,
                issuer_admin=args.issuer_admin,
                wait=not args.no_wait,
                results_path=Path(args.results) if args.results else None,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except InvalidRows as err:
            print(f"skillcred: {err.detail}", file=sys.stderr)
            for row, error in err.rows:
                print(f"row {row}: {error}", file=sys.stderr)
            return 1
        except (OSError, FileError, ServiceError) as err:
            print(f"skillcred: {err}", file=sys.stderr)
            return 2
    print(f"job {outcome.job_id}: {outcome.state}, {outcome.done} issued, {outcome.failed} failed of {outcome.total}")
    if outcome.results_path is not None:
        print(f"results: {outcome.results_path}")
    return 0
