"""The `imbalance` command line: parses arguments, dispatches, and turns errors into exit codes.

Commands live in `commands/` and are imported only when invoked, so `imbalance assess` never
pays for the HTML machinery. Every user error (`ImbalanceError`) becomes one message on stderr
and exit code 2 here, in one place.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
from typing import Any

import click

from engine.errors import ImbalanceError, one_line

COMMANDS: dict[str, tuple[str, str]] = {
    "assess": ("commands.assess:assess", "Assess one case: red flags, conditions, causes, advice."),
    "report": ("commands.report:report", "Write the HTML (or PDF) report, the answer first."),
    "handout": ("commands.handout:handout", "Write the patient's plain-language advice sheet."),
    "explain": ("commands.explain:explain", "How a conclusion was reached, or why it was not."),
    "interview": ("commands.interview:interview", "Ask questions at the terminal, then assess."),
    "batch": ("commands.batch:batch", "Assess many cases into a JSONL file."),
    "kb": ("cli:kb", "Check, test and browse the knowledge base."),
    "fhir": ("cli:fhir", "FHIR R4: the Questionnaire to collect a case, a case as a response."),
    "cds": ("cli:cds", "CDS Hooks: what clinicians did with the cards, per rule."),
    "serve": ("commands.serve:serve", "Start the clinic web application (patients, visits, reports)."),
    "users": ("commands.users:users", "Add or list the clinic server's users."),
}

KB_COMMANDS: dict[str, tuple[str, str]] = {
    "lint": ("commands.kb_lint:lint", "Check the rule files; exit 1 when problems are found."),
    "test": ("commands.kb_test:test", "Run the knowledge base's case tests."),
    "show": ("commands.kb_show:show", "Show a rule, finding or conclusion and where it is used."),
    "graph": ("commands.kb_graph:graph", "Draw the whole knowledge base as an HTML graph."),
    "diff": ("commands.kb_diff:diff", "What a change to the rules does to a caseload."),
    "new": ("commands.kb_new:new", "Scaffold a new rule, condition or finding."),
    "schema": ("commands.kb_schema:schema", "Print or write the JSON Schemas for editors."),
    "map": ("commands.kb_map:kb_map", "Write a readable map of the KB: index, conclusions, areas."),
}


# Commands that keep the collector paused until they exit (the launcher pauses it for the start):
# one case in, one answer or document out. Their objects live to the end anyway; a report ran 87
# collections over the imported modules for 20-25 ms and reclaimed nothing that changed its peak
# memory (44 MB either way; 216-225 MB either way for a PDF, bench/RESULTS.md). Everything else
# (serve, batch, interview, kb test, the clinic) gets the collector back before it runs.
COLLECTOR_PAUSED = frozenset({"assess", "report", "handout", "explain"})


def resume_collector(cmd_name: str) -> None:
    """Turn the cyclic garbage collector back on for `cmd_name` if the launcher paused it for the
    start; left off only for COLLECTOR_PAUSED. A process the launcher did not start (a test,
    a library user) keeps its collector as it is."""
    launcher = sys.modules.get("imbalance_kb")
    if getattr(launcher, "collector_paused", False) and cmd_name not in COLLECTOR_PAUSED:
        launcher.collector_paused = False  # type: ignore[union-attr]
        gc.enable()


class LazyGroup(click.Group):
    """A click group that imports a command's module on first use and reports errors cleanly."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        resume_collector(cmd_name)
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name][0].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(self.lazy.items())]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        launcher = sys.modules.get("imbalance_kb")  # the console script, if it started us
        if signal.getsignal(signal.SIGINT) is getattr(launcher, "interrupted_while_starting", None):
            signal.signal(signal.SIGINT, signal.default_int_handler)  # from here: KeyboardInterrupt
        try:
            return super().invoke(ctx)
        except ImbalanceError as exc:
            click.echo(f"error: {exc.render()}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # never a traceback for the clinician
            if os.environ.get("IMBALANCE_DEBUG"):
                raise
            click.echo(one_line(f"error: internal error ({type(exc).__name__}: {exc}); "
                                "set IMBALANCE_DEBUG=1 to see the details and please report it"),
                       err=True)
            ctx.exit(2)


def _quiet_broken_pipe() -> None:
    """The reader went away (`imbalance kb show | head`): stop quietly, like `cat` does.

    Standard output is pointed at /dev/null first, so the interpreter's final flush of what is
    still buffered cannot raise a second BrokenPipeError on the way out. Exit status 141
    (128 + SIGPIPE) is what a shell reports for a program stopped by a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    raise SystemExit(141)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imbalance-kb", prog_name="imbalance",
                      message="%(prog)s %(version)s")
@click.option("--kb", "kb_dirs", multiple=True, metavar="DIR",
              help="Add a folder of rule files on top of the shipped kb/ (repeatable).")
@click.option("--no-config", "no_config", is_flag=True,
              help="Ignore imbalance.toml and IMBALANCE_KB (their default --kb layers).")
@click.option("--no-color", "no_color", is_flag=True,
              help="Plain text even on a terminal (also when NO_COLOR is set).")
@click.pass_context
def main(ctx: click.Context, kb_dirs: tuple[str, ...], no_config: bool, no_color: bool) -> None:
    """Reason about muscle imbalance of the legs, hips, pelvis and spine.

    Describe a patient in a case file (YAML or JSON) and get red flags first, then the likely
    linked conditions and causes, muscles to stretch or strengthen, and advice, each with the
    rules and sources behind it. Supports clinical judgement; it does not diagnose.

    \b
    Example:
      imbalance assess examples/cases/runner_it_band.yaml
    """
    from commands.context import AppContext

    if no_color or os.environ.get("NO_COLOR"):  # https://no-color.org: set and not empty
        ctx.color = False  # click.echo in every sub-command strips styles from here on
    ctx.obj = AppContext(kb_dirs, use_config=not no_config)


@click.group(cls=LazyGroup, lazy=KB_COMMANDS)
def kb() -> None:
    """Tools for the people who write the rules: lint, test, show, graph."""

FHIR_COMMANDS: dict[str, tuple[str, str]] = {
    "questionnaire": ("commands.fhir:questionnaire", "Print the vocabulary as a FHIR R4 Questionnaire."),
    "response": ("commands.fhir:response", "Write a case file as a FHIR R4 QuestionnaireResponse."),
}


@click.group(cls=LazyGroup, lazy=FHIR_COMMANDS)
def fhir() -> None:
    """FHIR R4 in and out: a Questionnaire any forms tool can fill in, and its responses.

    assess, report, explain and batch take a QuestionnaireResponse wherever they take a case
    file; `assess --format fhir` answers with a FHIR Bundle.
    """


CDS_COMMANDS: dict[str, tuple[str, str]] = {
    "feedback": ("commands.cds:feedback", "Which rules clinicians override, with their reasons."),
}


@click.group(cls=LazyGroup, lazy=CDS_COMMANDS)
def cds() -> None:
    """The CDS Hooks service (served by `imbalance serve`): feedback per rule for authors."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
