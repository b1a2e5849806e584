"""The export and erasure commands: a request made from the command line's options, sent
through the warehouse (the sink's port, or the engine opened here), and what came back
shown as tables. The export is personal data: its file is the owner's only, and appears
under its name only once complete."""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from footfall.terminal import console, literal, styled
from infra import config
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.warehouse import open_warehouse
from infra.config import Settings
from infra.people.erasing import Erased
from infra.people.export import ExportProgress, lines_of
from infra.people.finding import Refused
from infra.people.request import ForgetRequest, PersonRequest
from schemas.names import NAME_PATTERN

OWNER_ONLY = 0o600
Asked = TypeVar("Asked", bound=PersonRequest)


def person_request(model: type[Asked], **fields: str | None) -> Asked:
    try:
        return model.model_validate({key: value for key, value in fields.items() if value is not None})
    except ValidationError as exc:
        reasons = "; ".join(error["msg"] for error in exc.errors(include_input=False))
        console.print(styled(("not a valid request:", "red"), " ", reasons))
        raise typer.Exit(2) from None


def os_user() -> str:
    """Who runs the command, as the audit records them."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    return name if re.fullmatch(NAME_PATTERN, name) else f"uid-{os.getuid()}"


def refused(what: str, exc: Exception) -> typer.Exit:
    console.print(styled((f"{what}:", "red"), " ", exc))
    return typer.Exit(1)


def counts_table(title: str, counts: dict[str, int], column: str) -> Table:
    table = Table(title=title)
    table.add_column("table")
    table.add_column(column, justify="right")
    for name, rows in counts.items():
        table.add_row(literal(name), f"{rows:,}")
    return table


def draft_for(out: Path) -> Path:
    """A new owner-only file beside `out`, for the export to be written to."""
    draft = out.with_name(f".{out.name}.{os.getpid()}.part")
    os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))
    return draft


def write_export(settings: Settings, request: PersonRequest, out: Path) -> dict[str, int]:
    """The export written to a draft, which takes `out`'s name once the summary arrived."""
    draft = draft_for(out)
    seen = ExportProgress()
    columns = (SpinnerColumn(), TextColumn("exporting [bold]{task.fields[table]}[/bold]"), TextColumn("{task.completed:,} rows"), TimeElapsedColumn())
    try:
        with open_warehouse(settings) as warehouse, draft.open("wb") as file, Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("export", table="…", total=None)
            for line in lines_of(warehouse.export_person(request)):
                file.write(line)
                seen.see(line)
                bar.update(task, table=seen.table or "…", completed=seen.rows)
        if seen.summary is None:
            raise Refused("the export ended before it was complete; nothing was written")
        os.replace(draft, out)
    finally:
        draft.unlink(missing_ok=True)
    return seen.summary


def export(settings: Settings, site: str, user_id: str | None, anonymous_id: str | None, out: Path, force: bool) -> None:
    request = person_request(PersonRequest, site_id=site, user_id=user_id, anonymous_id=anonymous_id)
    if out.exists() and not force:
        console.print(styled((f"{out} exists;", "red"), " choose another file, or --force to replace it"))
        raise typer.Exit(2)
    try:
        summary = write_export(settings, request, out)
    except (Refused, ClickHouseError) as exc:
        raise refused("the export was refused", exc) from None
    except OSError as exc:
        raise refused("the export could not be written", exc) from None
    console.print(counts_table(f"exported from site {site}", summary, "rows"))
    if not any(rows for name, rows in summary.items() if name != "survey_answers"):
        console.print(styled("footfall holds nothing of this ", request.kind.replace("_", " "), " on site ", site))
    console.print(styled("wrote ", out, " (readable by you only: it is personal data)"))


def forget(settings: Settings, site: str, user_id: str | None, anonymous_id: str | None, yes: bool) -> None:
    request = person_request(ForgetRequest, site_id=site, user_id=user_id, anonymous_id=anonymous_id, requested_by=os_user())
    if not yes:
        typer.confirm(f"Erase everything footfall holds about this person on site {site}? It cannot be undone", abort=True)
    try:
        with open_warehouse(settings) as warehouse, console.status("erasing …"):
            erased = warehouse.forget_person(request)
    except (Refused, ClickHouseError) as exc:
        raise refused("the erasure was refused", exc) from None
    print_erased(site, erased)


def print_erased(site: str, erased: Erased) -> None:
    console.print(counts_table(f"erased from site {site}", erased.removed, "rows removed"))
    console.print(f"{erased.ids:,} id(s) of this person; {erased.rebuilt_hours:,} rollup hour(s) rebuilt without them")
    if not erased.found:
        console.print("footfall held nothing of this person: nothing was removed; the erasure is still recorded, by hashes only")
    else:
        console.print("the erasure is recorded in footfall.erasure_audit, by hashes of the ids only")


SITE_HELP, USER_HELP, ANONYMOUS_HELP = "The site id.", "The person's user id.", "One of the person's anonymous ids."


def export_command(
    site: str = typer.Option(..., "--site", help=SITE_HELP),
    user_id: str | None = typer.Option(None, "--user-id", help=USER_HELP),
    anonymous_id: str | None = typer.Option(None, "--anonymous-id", help=ANONYMOUS_HELP),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="The JSON file to write (mode 0600)."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
) -> None:
    """Write everything footfall holds about one person, following their ids, to a JSON file."""
    export(config.load(), site, user_id, anonymous_id, out, force)


def forget_command(
    site: str = typer.Option(..., "--site", help=SITE_HELP),
    user_id: str | None = typer.Option(None, "--user-id", help=USER_HELP),
    anonymous_id: str | None = typer.Option(None, "--anonymous-id", help=ANONYMOUS_HELP),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase one person everywhere footfall keeps them, replays included; audited by hashes only."""
    forget(config.load(), site, user_id, anonymous_id, yes)
