"""`imbalance fhir questionnaire` and `imbalance fhir response CASE`: FHIR R4 forms in and out."""

from __future__ import annotations

import click

from commands.context import app


def _emit(text: str, output: str | None, force: bool) -> None:
    if output in (None, "-"):
        click.echo(text, nl=False)
        return
    from reports.output import write_atomically

    write_atomically(output, text, force)
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it already exists.")
@click.pass_context
def questionnaire(ctx: click.Context, output: str | None, force: bool) -> None:
    """Print the whole vocabulary as a FHIR R4 Questionnaire (JSON).

    The red-flag screen comes first, then the patient, then symptoms, history, examination and
    activities; checklists are groups; each question's linkId is the finding id. Fill it in with
    any FHIR forms tool and give the QuestionnaireResponse to assess, report, explain or batch.
    """
    from reports.output import check_target

    if output not in (None, "-"):
        check_target(output, force)
    from engine.fhir.questionnaire import questionnaire_json

    _emit(questionnaire_json(app(ctx).kb()), output, force)


@click.command()
@click.argument("case", metavar="CASE")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it already exists.")
@click.pass_context
def response(ctx: click.Context, case: str, output: str | None, force: bool) -> None:
    """Write the case in CASE (YAML, JSON or -) as a FHIR R4 QuestionnaireResponse (JSON)."""
    from reports.output import check_target

    if output not in (None, "-"):
        check_target(output, force)
    from engine.cases.case import load_case
    from engine.fhir.writer import response_json

    kb = app(ctx).kb()
    _emit(response_json(load_case(case, kb), kb), output, force)
