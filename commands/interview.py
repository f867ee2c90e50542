"""`imbalance interview [CASE] [--save OUT]`: a consultation at the terminal, or driven by a script.

Red-flag questions come first, then the questions that most advance or rule out the conclusions
still open; it stops when no answer could change the assessment, prints it as `assess` does and
says how to make the HTML report. What to ask and what an answer means live in
`engine/interview.py` and `engine/session.py`; this module reads lines and prints.

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
Every write goes to a temporary file in the same folder first and then replaces the target.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from commands.context import app
from engine import model as m
from engine.case import read_case_text
from engine.errors import InputError
from engine.interview import SCREEN, Question, Why
from engine.logic import Evaluator
from engine.session import Raised, Session, answer_words, interpret, parse_resumable
from reports.text import render_text
from reports.wording import finding_phrase, show_value

WIDTH = 88
RULE_LINE = "=" * WIDTH
COMMANDS_LINE = "? why it is asked · skip not known · back change the last answer · quit stop"
SHORT_COMMANDS = "? why · skip · back · quit"
YES = {"y", "yes"}
NO = {"n", "no"}


class Console:
    """Reads one line at a time; off a terminal it echoes what it read, so a piped transcript
    reads like a conversation (`> yes`), never prompts glued together."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()
        if self.interactive:
            with contextlib.suppress(ImportError):  # line editing for input(), where available
                import readline  # noqa: F401

    def say(self, text: str = "", wrap: bool = True, **style: Any) -> None:
        """Print, wrapped to the width of the assessment text, keeping the line's indent.
        Lines holding a command or a path are not wrapped, so they can be copied whole."""
        if wrap and len(text) > WIDTH:
            indent = text[:len(text) - len(text.lstrip())]
            text = "\n".join(textwrap.wrap(text, WIDTH, initial_indent="", subsequent_indent=indent
                                            + "  ", break_on_hyphens=False))
        click.secho(text, **style)

    def ask(self, prompt: str = "> ") -> str | None:
        """A line, or None at end of input."""
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                click.echo()
                return None
        click.echo(prompt, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo("(end of input)")
            return None
        line = line.rstrip("\r\n")
        click.echo(line)
        return line


@click.command()
@click.argument("case", required=False, metavar="[CASE]")
@click.option("--save", "save_to", metavar="CASE",
              help="Write the answers to this case file (YAML), also when stopping early.")
@click.option("--force", is_flag=True, help="Replace an existing --save file without asking.")
@click.option("--patient-id", metavar="ID", help="Patient id to show in reports and save.")
@click.pass_context
def interview(ctx: click.Context, case: str | None, save_to: str | None, force: bool,
              patient_id: str | None) -> None:
    """Ask the questions that matter for this patient, then assess.

    Red-flag questions come first; then each question is the one that most advances or rules
    out the conclusions still open, and it stops when no answer could change the assessment.
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
    Examples:
      imbalance interview --save patient.yaml
      imbalance interview patient.yaml --save patient.yaml     # resume and update
      printf 'no\\nno\\nyes\\n' | imbalance interview
    """
    state = app(ctx)
    kb = state.kb()
    console = Console()
    if case == "-":
        raise InputError("CASE cannot be '-' for an interview: stdin carries the answers",
                         key="CASE", suggestion="give the case file's path")
    resume_name, resume_text, case_obj, nulls = "", "", None, set()
    if case is not None:
        resume_name, resume_text = read_case_text(case)
        case_obj, nulls = parse_resumable(resume_text, resume_name, kb)
    target = prepare_save(save_to, case, resume_text, force, console) if save_to else None
    session = Session.start(kb, state.reasoner(), case=case_obj, noted_unknown=nulls)
    if patient_id:
        session.patient["id"] = patient_id
    code = Conversation(console, session, target, resume_name).run()
    ctx.exit(code)


# --- saving ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveTarget:
    """Where the answers go, and what the file held when we were allowed to replace it
    (None: it did not exist, so it must still not exist when we write)."""

    path: Path
    expected: str | None
    update: bool = False


def prepare_save(save_to: str, resumed: str | None, resume_text: str, force: bool,
                 console: Console) -> SaveTarget:
    """Check the --save path before any question, so a refused path costs no answers."""
    path = Path(save_to)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"--save '{save_to}': the interview writes YAML case files",
                         key="--save", suggestion=f"use a name ending in .yaml, e.g. '{path.stem}.yaml'")
    if path.is_dir():
        raise InputError(f"--save '{save_to}' is a folder", key="--save",
                         suggestion="give a file name inside it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--save '{save_to}': folder '{folder}' does not exist", key="--save")
    if resumed is not None and path.exists() and path.resolve() == Path(resumed).resolve():
        return SaveTarget(path, resume_text, update=True)
    if not path.exists():
        return SaveTarget(path, None)
    current = _read(path)
    if force:
        return SaveTarget(path, current)
    if console.interactive:
        answer = console.ask(f"'{save_to}' already exists. Replace it with this interview's "
                             "answers? [y/N] ")
        if answer is not None and answer.strip().lower() in YES:
            return SaveTarget(path, current)
        raise InputError(f"left '{save_to}' unchanged", key="--save",
                         suggestion=f"choose another --save file, or resume it: "
                                    f"imbalance interview {save_to} --save {save_to}")
    raise InputError(f"--save '{save_to}' already exists; not replacing it without confirmation",
                     key="--save", suggestion=f"pass --force to replace it, or resume it with "
                                              f"'imbalance interview {save_to} --save {save_to}'")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "\0unreadable"


def write_atomic(path: Path, text: str, replace: bool) -> None:
    """Write a temporary file beside `path`, then move it into place in one step. Without
    `replace`, an existing `path` is never touched (FileExistsError)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # atomic and refuses to clobber
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists():
                raise FileExistsError(str(path)) from None
            os.replace(tmp, path)
            return
        os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save(target: SaveTarget, text: str) -> tuple[Path, bool]:
    """(where the answers went, whether that is the requested file). If the file changed on
    disk since we were allowed to write it, it is left alone and a new file beside it is used."""
    if _read(target.path) == target.expected:
        try:
            write_atomic(target.path, text, replace=target.expected is not None)
            return target.path, True
        except FileExistsError:
            pass
    for n in range(1, 1000):
        other = target.path.with_name(f"{target.path.stem}.interview-{n}{target.path.suffix}")
        try:
            write_atomic(other, text, replace=False)
            return other, False
        except FileExistsError:
            continue
    raise InputError(f"could not find a free file name beside '{target.path}'")  # pragma: no cover


# --- the conversation ------------------------------------------------------------------------


class Conversation:
    """One interview at the console: ask, interpret, show red flags at once, stop, report."""

    def __init__(self, console: Console, session: Session, target: SaveTarget | None,
                 resumed: str) -> None:
        self.console = console
        self.session = session
        self.kb = session.kb
        self.target = target
        self.resumed = resumed

    def run(self) -> int:
        self.intro()
        try:
            outcome = self.loop()
        except KeyboardInterrupt:
            self.console.say()
            count = len(self.session.history)
            self.console.say(f"Interrupted after {count} answer{'s' if count != 1 else ''}.")
            return self.finish_saving(130)
        self.conclude(outcome)
        return self.finish_saving(0)

    def intro(self) -> None:
        say = self.console.say
        say(f"imbalance interview · knowledge base {self.kb.version}", bold=True)
        if self.resumed:
            known = len(self.session.facts)
            say(f"Resuming {self.resumed}: {known} finding{'s' if known != 1 else ''} already "
                "known; only what is missing will be asked.", wrap=False)
        say("Red-flag screening questions come first, then those that matter for this patient.")
        say("It stops as soon as no further answer could change the assessment.")
        say("At each question type the answer, or:")
        say(f"  {COMMANDS_LINE}")

    def loop(self) -> str:
        """Ask until done; returns why it ended: done, quit, stopped or eof."""
        while True:
            question = self.session.next_question()
            if question is None:
                return "done"
            self.show(question)
            outcome = self.ask(question)
            if outcome != "next":
                return outcome

    def show(self, question: Question) -> None:
        say = self.console.say
        number = self.session.number
        total = len(self.session.history) + question.remaining
        where = (f"Red-flag screen: {question.topic.lower()}" if question.phase == SCREEN
                 else f"Assessment{self.pursuing(question)}")
        say()
        say(f"Question {number} of at most {total} · {where}", fg="cyan", bold=True)
        finding = question.finding
        say(f"  {finding.label}", bold=True)
        for line in textwrap.wrap(finding.question, WIDTH - 2):
            say(f"  {line}")
        say(f"  Answer: {answer_words(finding)}   ({SHORT_COMMANDS})", dim=True)

    def pursuing(self, question: Question) -> str:
        """': checking X (and N more)', the conclusions this answer bears on, most at stake first."""
        names: dict[str, None] = {}
        for rid in question.rules:
            rule = self.kb.rule(rid)
            if rule is not None and rule.concludes:
                names.setdefault(self.kb.conclusions[rule.concludes].label.lower(), None)
        if not names:
            return ": advice" if question.rules else ""
        first, *rest = names
        return f": checking {first}" + (f" (and {len(rest)} more)" if rest else "")

    def ask(self, question: Question) -> str:
        """Read until the line is an answer or a command that moves on; returns next, quit,
        stopped or eof."""
        finding = question.finding
        while True:
            line = self.console.ask()
            if line is None:
                return "eof"
            reply = interpret(finding, line)
            if reply.kind == "why":
                self.explain(self.session.why(finding.id))
            elif reply.kind == "help":
                self.help(finding)
            elif reply.kind == "invalid":
                self.console.say(f"  Not understood: {reply.hint}. Type ? for why it is asked, "
                                 "help for the commands.", fg="yellow")
            elif reply.kind == "skip":
                self.session.skip(finding.id)
                return "next"
            elif reply.kind == "back":
                step = self.session.back()
                if step is None:
                    self.console.say("  Nothing to go back to: this is the first question of "
                                     "this interview.", fg="yellow")
                    continue
                was = "skipped" if step.skipped else show_value(step.value)
                label = self.kb.findings[step.finding].label
                self.console.say(f"  Back to the previous question ({label}; the answer was: "
                                 f"{was}).", fg="yellow")
                return "next"
            elif reply.kind == "quit":
                return "quit"
            else:
                raised = self.session.answer(finding.id, reply.value)
                if raised and not self.announce(raised):
                    return "stopped"
                return "next"

    def help(self, finding: m.Finding) -> None:
        say = self.console.say
        say(f"  Answer {answer_words(finding)}.")
        say("  ?      why this question is asked: the rules and conclusions that depend on it")
        say("  skip   not known; the finding stays unknown (not the same as 'no')")
        say("  back   go back and change the previous answer")
        say("  quit   stop now and show the assessment so far (saved with --save)")

    # --- red flags at once ---------------------------------------------------------------

    def announce(self, raised: list[Raised]) -> bool:
        """Show each new red flag with its action now; after an emergency, ask whether to go on.
        Returns False to stop the interview."""
        say = self.console.say
        facts = self.session.facts
        say()
        say(RULE_LINE, fg="red", bold=True)
        for item in raised:
            flag = item.flag
            what = "now more urgent" if item.escalated else "raised"
            say(f" RED FLAG [{flag.urgency.upper()}] {flag.conclusion.label} ({what})",
                fg="red", bold=True)
            for line in _wrap(f"Do now: {flag.action}"):
                say(line, bold=True)
            because = ", ".join(finding_phrase(self.kb, fid, facts.get(fid)) for fid in flag.evidence)
            for line in _wrap(f"Because: {because or 'earlier conclusions'}"):
                say(line)
        say(RULE_LINE, fg="red", bold=True)
        if not any(item.flag.urgency == "emergency" for item in raised):
            return True
        say("Act on this now. The remaining questions can wait, or go on to complete the "
            "assessment.")
        while True:
            line = self.console.ask("Go on with the interview? [Y/n] ")
            if line is None:
                return False
            word = line.strip().lower()
            if word in YES or word == "":
                return True
            if word in NO or word in ("quit", "q", "stop"):
                return False
            say("  Please answer y (go on) or n (stop here and show the assessment).",
                fg="yellow")

    # --- why -----------------------------------------------------------------------------

    def explain(self, why: Why) -> None:
        say = self.console.say
        facts = self.session.facts
        label = why.finding.label
        phase = " (red-flag screen)" if why.phase == SCREEN else ""
        count = len(why.open)
        say(f"  Why ask about {label[0].lower()}{label[1:]}{phase}?", bold=True)
        say(f"  The answer can still decide {count} rule{'s' if count != 1 else ''}:")
        evaluator = Evaluator(self.kb)
        for dep in why.open[:6]:
            rule = dep.rule
            say(f"  - {rule.title} [{rule.id}]")
            for line in _wrap(_effect(dep, self.kb), "      "):
                say(line)
            for line in _wrap("when: " + describe(self.kb, rule.when, facts, evaluator), "      "):
                say(line)
            outcome = []
            if dep.fires_on and why.finding.type != "number":
                outcome.append(f"{_answers(dep.fires_on)} makes it fire now")
            if dep.rules_out_on and why.finding.type != "number":
                outcome.append(f"{_answers(dep.rules_out_on)} rules it out")
            if outcome:
                say(f"      {'; '.join(outcome)}")
        if count > 6:
            say(f"  ... and {count - 6} more.")
        if why.settled:
            names = ", ".join(rule.id for rule in why.settled[:5])
            more = f" and {len(why.settled) - 5} more" if len(why.settled) > 5 else ""
            say(f"  Already settled by other answers: {names}{more}.", dim=True)

    # --- the end ---------------------------------------------------------------------------

    def conclude(self, outcome: str) -> None:
        say = self.console.say
        asked = len(self.session.history)
        survey = self.session.survey()
        say()
        if outcome == "done":
            if asked:
                say(f"Interview complete after {asked} question{'s' if asked != 1 else ''}.",
                    bold=True)
            else:
                say("Nothing left to ask.", bold=True)
            say("No further answer could change a conclusion or the triage.")
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
                say("Make the HTML report with:")
                say(f"  imbalance report {where} -o report.html", wrap=False)
            return code
        written, as_asked = save(self.target, self.session.case_text())
        if not as_asked:
            click.echo(f"error: '{self.target.path}' changed on disk during the interview, so it "
                       f"was left alone; the answers were saved to '{written}' instead", err=True)
            code = code or 2
        verb = "Updated" if self.target.update and as_asked else "Saved answers to"
        say(f"{verb} {written}.", wrap=False)
        say("Make the HTML report with:")
        say(f"  imbalance report {written} -o report.html", wrap=False)
        return code


def _wrap(text: str, indent: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def _answers(values: tuple[Any, ...]) -> str:
    words = [f"'{show_value(v)}'" for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" or {words[-1]}"


def _effect(dep: Any, kb: m.KnowledgeBase) -> str:
    """What firing the rule would add, in a clinician's words."""
    rule = dep.rule
    if dep.conclusion is None:
        parts = []
        if rule.stretch:
            parts.append("stretch " + ", ".join(kb.muscles[x].label for x in rule.stretch))
        if rule.strengthen:
            parts.append("strengthen " + ", ".join(kb.muscles[x].label for x in rule.strengthen))
        if rule.recommend:
            parts.append(f"{len(rule.recommend)} recommendation(s)")
        return "would add advice: " + ("; ".join(parts) or "none")
    conclusion = dep.conclusion
    if conclusion.kind == "red_flag":
        level = rule.urgency or conclusion.urgency
        return f"would raise the red flag {conclusion.label} ({level}), certainty {rule.certainty:g}"
    kind = "condition" if conclusion.kind == "condition" else "cause"
    now = f", now {dep.certainty_now:.2f}" if dep.certainty_now else ", not yet suggested"
    return f"would support the {kind} {conclusion.label} (certainty {rule.certainty:g}{now})"


def describe(kb: m.KnowledgeBase, cond: m.Cond, facts: dict[str, Any], evaluator: Evaluator) -> str:
    """A condition in words with what is known: ✓ holds, ✗ does not, ? not known yet."""
    if isinstance(cond, m.Test):
        truth = evaluator.test_truth(cond, facts)
        mark = "?" if truth is None else ("✓" if truth else "✗")
        return f"{_test_words(kb, cond)} {mark}"
    if isinstance(cond, m.Concluded):
        label = kb.conclusions[cond.conclusion].label if cond.conclusion in kb.conclusions \
            else cond.conclusion
        floor = f" (certainty ≥ {cond.min_certainty:g})" if cond.min_certainty else ""
        return f"{label} suggested{floor}"
    if isinstance(cond, m.Not):
        return f"not ({describe(kb, cond.item, facts, evaluator)})"
    parts = [describe(kb, item, facts, evaluator) for item in cond.items]
    if isinstance(cond, m.All):
        return " and ".join(parts) if len(parts) > 1 else parts[0]
    head = "any of" if isinstance(cond, m.AnyOf) else f"at least {cond.count} of"
    return f"{head} ({'; '.join(parts)})"


OP_WORDS = {"eq": "", "ne": "not", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "in"}


def _test_words(kb: m.KnowledgeBase, test: m.Test) -> str:
    finding = kb.findings.get(test.finding)
    label = finding.label if finding else test.finding
    unit = f" {finding.unit}" if finding and finding.unit else ""
    if test.op == "eq":
        if test.value is True:
            return label
        if test.value is False:
            return f"no {label[0].lower()}{label[1:]}"
        return f"{label}: {show_value(test.value)}"
    if test.op == "in":
        return f"{label}: {' or '.join(show_value(v) for v in test.value)}"
    if test.op == "ne":
        return f"{label} not {show_value(test.value)}"
    return f"{label} {OP_WORDS[test.op]} {show_value(test.value)}{unit}"
