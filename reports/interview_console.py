"""The interview at the terminal: read a line, show what it means, print the assessment at the end.

What to ask and what an answer means live in `engine/interview/` (planner, session, ticks,
answers), with no I/O; the words of a WHY are in `reports/interview_text.py`; the line I/O is
`reports/interview_terminal.py`, the ending (assessment, saving, next steps)
`reports/interview_ending.py`. This module is the conversation between them: it asks, reads
what a line means, and shows red flags at once. `commands/interview.py` only parses options.
It sits in `reports/` because it is output (and input) for a person, above the engine.
"""

from __future__ import annotations

import textwrap

from engine.cases.saving import SaveTarget
from engine.interview.planner import PATIENT, SCREEN, Question, Why
from engine.interview.session import Raised, Session, answer_words, interpret
from engine.interview.ticks import TickReply, Ticks, read_ticks, tick_words
from engine.kb import model as m
from engine.wording import SITE_QUESTION, finding_phrase, show_value
from reports.interview_ending import Ending
from reports.interview_terminal import NO, WIDTH, YES, Console, command_name, wrap_lines
from reports.interview_text import checklist_why_lines, recorded_line, why_lines

RULE_LINE = "=" * WIDTH
COMMANDS_LINE = "? why it is asked · skip not known · back change the last answer · quit stop"
SHORT_COMMANDS = "? why · skip · back · quit"
CHECKLIST_COMMANDS = "skip: none known · each: one at a time · ? why · back · quit"
ENTER_TO_SKIP = "press Enter to skip"
ID_LENGTH = 64


class Conversation(Ending):
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
            outcome = self.patient_id() or self.patient_details() or self.loop()
        except KeyboardInterrupt:
            self.console.say()
            count = self.session.prompts
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
        if self.session.details_first:
            say("The patient's id, age and sex come first (press Enter to skip any of them);")
            say("then the red-flag screening questions, then those that matter for this patient.")
        else:
            say("Red-flag screening questions come first, then those that matter for this "
                "patient.")
        if self.session.planner.thorough:
            say("It stops as soon as no further answer could change the assessment.")
        else:
            say("It stops once no further answer could change the triage or the conditions.")
        say("At each question type the answer, or:")
        say(f"  {COMMANDS_LINE}")
        if self.session.planner.home:
            say("Related findings come as a numbered checklist: the numbers that apply, none, skip.")

    def patient_id(self) -> str:
        """The patient's id, asked first when the session asks the patient's details and the
        case has none ('' when answered or skipped with Enter; quit or eof end the interview)."""
        if not self.session.details_first or self.session.patient.get("id"):
            return ""
        say = self.console.say
        say()
        say("Patient details · Patient id", wrap=False, fg="cyan", bold=True)
        say("  The patient's id or reference, as the saved case and the reports should show it.")
        say(f"  Answer: any text, up to {ID_LENGTH} characters ({ENTER_TO_SKIP})", dim=True)
        while True:
            line = self.console.ask()
            if line is None:
                return "eof"
            text = line.strip()
            if text.lower() in ("quit", "q", "exit"):
                return "quit"
            if len(text) > ID_LENGTH or not text.isprintable():
                say(f"  Not understood: an id is up to {ID_LENGTH} printable characters; "
                    f"{ENTER_TO_SKIP}.", fg="yellow")
                continue
            if text:
                self.session.patient["id"] = text
            return ""

    def patient_details(self) -> str:
        """Age and sex before the consultation proper (Enter skips; a skipped one is not asked
        again); '' to go on, or quit / eof."""
        say = self.console.say
        while (question := self.session.detail()) is not None:
            finding = question.finding
            say()
            say(f"Patient details · {finding.label}", wrap=False, fg="cyan", bold=True)
            say(f"  {finding.question}")
            say(f"  Answer: {answer_words(finding)}, or {ENTER_TO_SKIP}   (? why · quit)",
                dim=True)
            while True:
                line = self.console.ask()
                if line is None:
                    return "eof"
                reply = read_line(question, line)
                if reply.kind == "why":
                    self.explain(self.session.why(finding.id))
                elif reply.kind == "quit":
                    return "quit"
                elif reply.kind == "answer":
                    value = reply.ticks.values.get(finding.id)
                    if self.after(self.session.record_detail(finding.id, value)) == "stopped":
                        return "stopped"
                    break
                else:
                    hint = reply.hint or f"answer {answer_words(finding)}"
                    say(f"  Not understood: {hint}; {ENTER_TO_SKIP}.", fg="yellow")
        return ""

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
        total = self.session.prompts + question.remaining
        if question.checklist is not None and question.checklist.first:
            where = SITE_QUESTION
        elif question.phase == SCREEN:
            where = f"Red-flag screen: {question.topic.lower()}"
        else:
            where = f"Assessment{self.pursuing(question)}"
        header = f"Question {number} of at most {total} · {where}"
        if len(header) > WIDTH:  # one line, always: scripts and tmux read the label below it
            header = header.split(" (and ")[0]
            header = header if len(header) <= WIDTH else header[:WIDTH - 1] + "…"
        say()
        say(header, wrap=False, fg="cyan", bold=True)
        if question.members:
            self.show_checklist(question)
            return
        finding = question.finding
        say(f"  {finding.label}", bold=True)
        for line in textwrap.wrap(finding.question, WIDTH - 2):
            say(f"  {line}")
        say(f"  Answer: {answer_words(finding)}   ({SHORT_COMMANDS})", dim=True)

    def show_checklist(self, question: Question) -> None:
        """A numbered list of the members that can still matter; sided items say so."""
        say = self.console.say
        checklist = question.checklist
        say(f"  {checklist.label if checklist else 'Checklist'}", bold=True)
        if checklist and checklist.question:
            for line in textwrap.wrap(checklist.question, WIDTH - 2):
                say(f"  {line}")
        for number, finding in enumerate(question.members, 1):
            side = "  (side: l, r or b)" if finding.type == "sided" else ""
            say(f"  {number:>3}  {finding.label}{side}", wrap=False)
        say(f"  Answer: {tick_words(question.members)}", dim=True, wrap=False)
        say(f"  ({CHECKLIST_COMMANDS})", dim=True, wrap=False)

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
        stopped or eof. A plain question and a checklist differ only in how a line is read."""
        while True:
            line = self.console.ask()
            if line is None:
                return "eof"
            reply = read_line(question, line)
            if reply.kind == "why":
                self.why(question, reply.item)
            elif reply.kind == "help":
                self.help(question)
            elif reply.kind == "invalid":
                self.console.say(f"  Not understood: {reply.hint}. Type ? for why it is asked, "
                                 "help for examples.", fg="yellow")
            elif reply.kind == "back":
                if self.go_back():
                    return "next"
            elif reply.kind == "quit":
                return "quit"
            elif reply.kind == "each":
                self.session.one_at_a_time(question)
                self.console.say("  One at a time, then.", dim=True)
                return "next"
            else:
                ticks = reply.ticks
                if question.members:  # echo what a ticked line was read as
                    for text in wrap_lines(recorded_line(question.members, ticks).strip(), "  "):
                        self.console.say(text, dim=True)
                return self.after(self.session.answer_many(ticks.values, ticks.unknown))

    def after(self, raised: list[Raised]) -> str:
        """Red flags an answer raised, shown at once; returns next or stopped."""
        choice = self.announce(raised) if raised else "go"
        if choice == "stop":
            return "stopped"
        if choice == "back":
            self.go_back()
        return "next"

    def go_back(self) -> bool:
        """Undo the last answer so its question is asked again; False when there is none."""
        steps = self.session.back()
        if not steps:
            self.console.say("  Nothing to go back to: this is the first question of this "
                             "interview.", fg="yellow")
            return False
        if len(steps) == 1:
            step = steps[0]
            was = "skipped" if step.skipped else show_value(step.value)
            what = f"{self.kb.findings[step.finding].label}; the answer was: {was}"
        else:
            what = f"a checklist of {len(steps)} items"
        self.console.say(f"  Back to the previous question ({what}).", fg="yellow")
        return True

    def why(self, question: Question, item: int | None) -> None:
        if question.members and item is None:
            for text in checklist_why_lines(question, self.session.survey(), self.kb):
                self.console.say(text, wrap=False, bold=text.startswith("  Why"))
        else:
            self.explain(self.session.why(question.findings[item or 0].id))

    def help(self, question: Question) -> None:
        if question.members:
            self.help_checklist(question)
        else:
            self.help_finding(question.finding)

    def help_finding(self, finding: m.Finding) -> None:
        say = self.console.say
        say(f"  Answer {answer_words(finding)}.")
        say("  ?      why this question is asked: the rules and conclusions that depend on it")
        say("  skip   not known; the finding stays unknown (not the same as 'no')")
        say("  back   go back and change the previous answer")
        say("  quit   stop now and show the assessment so far (saved with --save)")

    def help_checklist(self, question: Question) -> None:
        say = self.console.say
        say("  Type on one line:")
        say("    none          every item no")
        say("    1 3           items 1 and 3 yes, the rest no; a side as 3r, 3l, 3b or 3 right")
        say("    1 skip 4 5    item 1 yes, items 4 and 5 not known, the rest no")
        say("    skip          nothing known: every item stays unknown (not the same as no)")
        say("    each          ask the items one at a time")
        say("    ? or ? 3      why the checklist, or item 3, is asked")
        say("    back / quit   change the previous answer / stop (saved with --save)")
        say("  The items in full:")
        for number, finding in enumerate(question.members, 1):
            for line in textwrap.wrap(f"{number}  {finding.question}", WIDTH - 4,
                                      subsequent_indent="   "):
                say(f"    {line}", wrap=False)

    # --- red flags at once ---------------------------------------------------------------

    def announce(self, raised: list[Raised]) -> str:
        """Show each new red flag with its action now; after an emergency, ask whether to go on.
        Returns go, stop, or back (to change the answer that raised it)."""
        say = self.console.say
        facts = self.session.facts
        say()
        say(RULE_LINE, fg="red", bold=True)
        for item in raised:
            flag = item.flag
            what = "now more urgent" if item.escalated else "raised"
            say(f" RED FLAG [{flag.urgency.upper()}] {flag.conclusion.label} ({what})",
                fg="red", bold=True)
            for line in wrap_lines(f"Do now: {flag.action}"):
                say(line, bold=True)
            because = ", ".join(finding_phrase(self.kb, fid, facts.get(fid)) for fid in flag.evidence)
            for line in wrap_lines(f"Because: {because or 'earlier conclusions'}"):
                say(line)
        say(RULE_LINE, fg="red", bold=True)
        if not any(item.flag.urgency == "emergency" for item in raised):
            return "go"
        say("Act on this now; the remaining questions can wait. y goes on to complete the "
            "assessment,")
        say("n stops here and shows it, back changes the answer that raised the flag.")
        while True:
            reply = self.console.ask("Go on with the interview? [Y/n] ")
            if reply is None:
                return "stop"
            word = reply.strip().lower()
            if word in YES or word == "":
                return "go"
            if word in NO or word in ("quit", "q", "stop"):
                return "stop"
            if word == "back":
                return "back"
            say("  Please answer y (go on), n (stop here and show the assessment) or back.",
                fg="yellow")

    # --- why -----------------------------------------------------------------------------

    def explain(self, why: Why) -> None:
        for index, line in enumerate(why_lines(why, self.kb, self.session.facts)):
            self.console.say(line, bold=index == 0, dim=line.startswith("  Already settled"))


def read_line(question: Question, line: str) -> TickReply:
    """One typed line as a reply to `question`: a checklist's ticks, or a plain question's
    answer in the same shape (one value, or one finding not known)."""
    if question.members:
        spared = question.checklist.explicit_no if question.checklist else ()
        reply = read_ticks(question.members, line, spared)
        if reply.kind == "skip":
            return TickReply("answer", Ticks({}, tuple(f.id for f in question.members)))
        return reply
    fid = question.finding.id
    if question.phase == PATIENT and not line.strip():  # patient details: Enter skips
        return TickReply("answer", Ticks({}, (fid,)))
    plain = interpret(question.finding, line)
    if plain.kind == "answer":
        return TickReply("answer", Ticks({fid: plain.value}))
    if plain.kind == "skip":
        return TickReply("answer", Ticks({}, (fid,)))
    return TickReply(plain.kind, hint=plain.hint)


__all__ = ["Console", "Conversation", "command_name", "read_line"]
