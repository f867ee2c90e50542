"""`imbalance interview [CASE] [--save OUT]`: a consultation at the terminal, or driven by a script.

Red-flag questions come first, then the questions that most advance or rule out the conclusions
still open; it stops when no answer could change the assessment, prints it as `assess` does and
says how to make the HTML report. What to ask and what an answer means live in
`engine/interview/`; the conversation at the terminal is `reports/interview_console.py`; this
module parses the options and starts them.

How CASE and --save work together:
- `interview` asks from scratch and prints the assessment; nothing is written.
- `interview --save new.yaml` also writes the answers, on finishing and on quit, Ctrl-C or end
  of input, so nothing answered is lost.
- `interview old.yaml` resumes: only what old.yaml leaves unanswered is asked; nothing is written.
- `interview old.yaml --save old.yaml` updates the file: naming it twice is the confirmation.
  Its description and expectations are kept (comments are not), and if the file changes on disk
  during the interview it is left alone and the answers go to a new file beside it.
- `--save` to any other file that exists asks y/N first on a terminal; without a terminal it is
  refused (exit 2) unless `--force` is given.
Every write goes to a temporary file in the same folder first and then replaces the target
(`engine/cases/saving.py`).
"""

from __future__ import annotations

import click

from commands.context import app
from engine.cases.case import read_case_text
from engine.cases.saving import check_target
from engine.errors import InputError
from engine.interview.planner import Planner
from engine.interview.session import Session, parse_resumable
from reports.interview_console import Console, Conversation


@click.command()
@click.argument("case", required=False, metavar="[CASE]")
@click.option("--save", "save_to", metavar="CASE",
              help="Write the answers to this case file (YAML), also when stopping early.")
@click.option("--force", is_flag=True, help="Replace an existing --save file without asking.")
@click.option("--patient-id", metavar="ID", help="Patient id to show in reports and save.")
@click.option("--thorough", is_flag=True,
              help="Also ask every question that could add a cause of imbalance or advice "
                   "(by default it stops once the triage and the conditions are settled).")
@click.option("--one-by-one", is_flag=True,
              help="Ask every finding as its own question (no checklists).")
@click.pass_context
def interview(ctx: click.Context, case: str | None, save_to: str | None, force: bool,
              patient_id: str | None, thorough: bool, one_by_one: bool) -> None:
    """Ask the questions that matter for this patient, then assess.

    The patient's id, age and sex come first (Enter skips each); then the body chart, the
    red-flag questions, and each question the one that most advances or rules out the
    conclusions still open (only for conditions at the sites that hurt); it stops when no
    answer could change the assessment.
    Give CASE to resume a partial case file: only what it leaves unanswered is asked.
    --save writes the answers (also on quit, Ctrl-C or end of input); saving to the CASE you
    resumed updates it, and any other existing file is replaced only after you confirm (off a
    terminal: only with --force). Answers can be piped on stdin, one per line; after an
    emergency banner a script answers the 'Go on?' line too (y).

    \b
    At each question: an answer (yes / no / a number / left, right, bilateral), or
      ?      why this question is asked
      skip   not known (the finding stays unknown)
      back   change the previous answer
      quit   stop; with --save the answers so far are saved
    \b
    Related findings (a red-flag screen, the body chart, a test battery) come as one
    numbered checklist; answer it on one line:
      none          every item no
      1 3r          items 1 and 3 (right side) yes, the rest no
      2 skip 4      item 2 yes, item 4 not known, the rest no
      skip / each   nothing known / ask the items one at a time
      ? 3           why item 3 is asked

    \b
    Examples:
      imbalance interview --save patient.yaml
      imbalance interview patient.yaml --save patient.yaml     # resume and update
      printf 'P-1\\n52\\nfemale\\n1 9r\\nnone\\n' | imbalance interview
    """
    state = app(ctx)
    kb = state.kb()
    console = Console()
    if case == "-":
        raise InputError("CASE cannot be '-' for an interview: stdin carries the answers",
                         key="CASE", suggestion="give the case file's path")
    nulls: set[str] = set()
    resume_name, resume_text, case_obj = "", "", None
    if case is not None:
        resume_name, resume_text = read_case_text(case)
        case_obj, nulls = parse_resumable(resume_text, resume_name, kb)
    target = check_target(save_to, case, resume_text, force, console.confirm) if save_to else None
    planner = Planner(kb, thorough=thorough, checklists=not one_by_one)
    session = Session.start(kb, state.reasoner(), planner, case=case_obj, noted_unknown=nulls)
    session.details_first = True  # id, age and sex first (each skippable)
    if patient_id:
        session.patient["id"] = patient_id
    code = Conversation(console, session, target, resume_name).run()
    ctx.exit(code)
