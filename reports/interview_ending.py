"""How an interview ends at the console: what was settled, the assessment, saving, next steps.

A mixin of `reports.interview_console.Conversation`, kept apart because ending is its own
concern: the stop message (and how many optional questions `--thorough` would add), the
assessment printed as `assess` prints it, the case file written safely whatever happened, and
the commands to run next, spelled the way this user runs the tool.
"""

from __future__ import annotations

import click

from engine.cases.saving import SaveTarget, save
from engine.interview.planner import Planner
from engine.interview.session import Session
from engine.kb import model as m
from reports.interview_terminal import Console, command_name
from reports.text import render_text


class Ending:
    """The end of a consultation; the conversation supplies these attributes."""

    console: Console
    session: Session
    kb: m.KnowledgeBase
    target: SaveTarget | None
    resumed: str


    def conclude(self, outcome: str) -> None:
        say = self.console.say
        asked = self.session.prompts
        survey = self.session.survey()
        say()
        if outcome == "done":
            if asked:
                say(f"Interview complete after {asked} question{'s' if asked != 1 else ''}.",
                    bold=True)
            else:
                say("Nothing left to ask.", bold=True)
            if self.session.planner.thorough:
                say("No further answer could change a conclusion or the triage.")
            else:
                say("No further answer could change the triage, a red flag or a condition.")
                more = Planner(self.kb, thorough=True, checklists=False).survey(
                    self.session.facts, self.session.skipped, survey.certainty, survey.urgency)
                if not more.done:
                    where = self.target.path if self.target else (self.resumed or "CASE.yaml")
                    say(f"Up to {more.remaining} more questions could add causes of imbalance or "
                        "exercise advice; to ask them, resume with --thorough:")
                    say(f"  imbalance interview {where} --save {where} --thorough", wrap=False)
        else:
            how = {"quit": "Interview stopped", "stopped": "Interview stopped at the red flag",
                   "eof": "Input ended"}[outcome]
            say(f"{how} after {asked} question{'s' if asked != 1 else ''}.", bold=True)
            say(f"Up to {survey.remaining} more could still change the assessment. Assessment so "
                "far:", bold=True)
        say()
        click.echo(render_text(self.session.assessment(), color=None), nl=False)

    def finish_saving(self, code: int) -> int:
        say = self.console.say
        say()
        if self.target is None:
            where = self.resumed or "CASE.yaml"
            if self.session.history:
                say(f"These answers were not saved: add --save {where} to keep them.", wrap=False)
            if self.session.history or self.resumed:
                self.next_steps(where)
            return code
        text = self.session.case_text()
        try:
            written, as_asked = save(self.target, text)
        except OSError as exc:  # the disk filled up or the folder went away: keep the answers
            click.echo(f"error: cannot save to '{self.target.path}': {exc.strerror or exc}; the "
                       "answers follow, to copy into a case file", err=True)
            click.echo(text, nl=False)
            return code or 2
        if not as_asked:
            click.echo(f"error: '{self.target.path}' changed on disk during the interview, so it "
                       f"was left alone; the answers were saved to '{written}' instead", err=True)
            code = code or 2
        verb = "Updated" if self.target.update and as_asked else "Saved answers to"
        say(f"{verb} {written}.", wrap=False)
        self.next_steps(str(written))
        return code

    def next_steps(self, case: str) -> None:
        """The commands to run next, as the user can type them (`uv run imbalance` under uv)."""
        say = self.console.say
        say("Make the HTML report with:")
        say(f"  {command_name()} report {case} -o report.html", wrap=False)
        say("and the patient's advice sheet with:")
        say(f"  {command_name()} handout {case} -o handout.html", wrap=False)


__all__ = ["Ending"]
