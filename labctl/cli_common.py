"""What every labctl command shares: the options, the one error path, the output helpers.

Both the main CLI (labctl/cli.py) and the class commands (labctl/cli_class.py) use these.
"""

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labctl import completion
from labctl.errors import LabctlError, one_line

# Imported by the commands that use them: `labctl --help` and completion load none of
# rich's tables, pydantic, yaml, ansible-runner or boto3.
if TYPE_CHECKING:
    from rich.table import Table

    from labctl.lab import Lab
    from labctl.ui import Ui

EPILOG = "Exit codes: 0 success, 1 a drill's verdict is fail, 2 usage or input error, 3 infrastructure error."

def bare_help(ctx: typer.Context) -> None:
    # A bare command group prints its help and succeeds, as kubectl and kind do.
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


# Plain Click help: Typer's rich help costs a tenth of a second at every `--help`.
PLAIN: dict[str, Any] = {"rich_markup_mode": None}

LabOpt = Annotated[str, typer.Option("--lab", "-l", help="Lab name.", envvar="LABCTL_LAB", autocompletion=completion.lab_names)]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="text or json.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Ansible's own output.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def make_ui(output: str = "text", verbose: bool = False, yes: bool = False) -> "Ui":
    from labctl.ui import Ui

    return Ui(output=output, verbose=verbose, assume_yes=yes)


def open_lab(name: str) -> "Lab":
    from labctl.lab import Lab

    return Lab(name)


# Columns whose values a user types back into a command (`labctl report ID`, `--lab NAME`): on a
# narrow terminal they fold onto more lines rather than lose their ends to an ellipsis.
FOLDED_COLUMNS = frozenset({"id", "lab", "result", "student"})


def new_table(*columns: str) -> "Table":
    from rich.table import Table

    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold" if column in FOLDED_COLUMNS else "ellipsis")
    return table


def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def report_error(message: str, exit_code: int, output: str = "text") -> None:
    """The one error report: a line on stderr and, for --output json, the same as JSON on stdout."""
    print_error(message)
    if output == "json":
        sys.stdout.write(json.dumps({"error": message, "exit_code": exit_code}) + "\n")


def fail(error: LabctlError, output: str = "text") -> None:
    report_error(one_line(str(error)), error.exit_code, output)
    raise typer.Exit(error.exit_code)


def output_asked(argv: list[str]) -> str:
    """The --output of a command line Click could not parse (its usage error comes before the option's value)."""
    for i, arg in enumerate(argv):
        if arg in ("--output", "-o") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--output="):
            return arg.removeprefix("--output=")
    return "text"


def emit(ui: "Ui", data: Any, text: Any = None) -> None:
    if ui.json:
        ui.emit_json(data)
    elif text is not None:
        ui.out.print(text)
