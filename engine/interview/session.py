"""One consultation: the answers given so far, going back, and the case file they make.

A session holds the patient block and the findings (from a resumed case file, then from each
answer), remembers the order of this session's answers so `back` can revise them, and asks the
planner (`engine.interview.planner`) for the next question after every answer. Age and sex are asked
as the findings `age` and `sex` but kept in the patient block, as the case-file contract wants.
No terminal I/O here: `commands/interview.py` does the talking, `bench/` and the tests replay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.cases.case import PATIENT_FINDINGS, Case, dump_case, parse_case
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner
from engine.interview.answers import parse_answer
from engine.interview.planner import PATIENT, Planner, Question, Survey, Why
from engine.kb import model as m
from engine.kb.yamlsource import parse_text

PATIENT_ORDER = ("id", "name", "age", "sex", "notes")
HEADER = "# Written by 'imbalance interview'. A finding set to null was asked and not known.\n"


# Words that steer the interview rather than answer it. Checked before the answer itself, so
# they are never read as a value ('b' stays an answer: bilateral).
COMMAND_WORDS: dict[str, str] = {
    "?": "why", "why": "why",
    "skip": "skip", "s": "skip", "dk": "skip", "don't know": "skip", "not known": "skip",
    "back": "back", "undo": "back",
    "quit": "quit", "q": "quit", "exit": "quit",
    "help": "help", "h": "help",
}
_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(%|[a-z][a-z /]*)?\s*$")


@dataclass(frozen=True)
class Reply:
    """What a typed line means: a command (why, skip, back, quit, help), an answer with its
    value, or a line that fits neither, with a hint for asking again."""

    kind: str  # one of COMMAND_WORDS' values, "answer" or "invalid"
    value: Any = None
    hint: str = ""


def interpret(finding: m.Finding, text: str) -> Reply:
    """Read one typed line for `finding`; never raises, whatever was typed."""
    word = " ".join(text.strip().lower().split())
    if not word:
        return Reply("invalid", hint=f"type an answer ({answer_words(finding)}), or skip")
    if word in COMMAND_WORDS and not (finding.type == "enum" and word in finding.values):
        return Reply(COMMAND_WORDS[word])
    if finding.type == "number":
        word = _strip_unit(finding, word)
    try:
        return Reply("answer", parse_answer(finding, word))
    except ValueError as exc:
        hint = str(exc)
    if finding.type == "number":
        try:
            float(word)
            hint = f"{word} is out of range; {hint}"
        except ValueError:
            if _NUMBER_WITH_UNIT.match(word):
                hint = f"give the number in {finding.unit}; {hint}"
    return Reply("invalid", hint=hint)


def _strip_unit(finding: m.Finding, word: str) -> str:
    """'45 years', '9 h', '30%' and '2,5' are numbers with (part of) their unit."""
    match = _NUMBER_WITH_UNIT.match(word)
    if not match:
        return word
    number, unit = match.group(1).replace(",", "."), (match.group(2) or "").strip()
    expected = finding.unit.lower()
    if not unit or expected.startswith(unit) or (unit == "%" and expected.startswith("percent")):
        return number
    return word


def answer_words(finding: m.Finding) -> str:
    """The answers a finding takes, as a clinician would type them."""
    if finding.type == "boolean":
        return "yes or no"
    if finding.type == "sided":
        return "left, right, bilateral, yes (side not known) or no"
    if finding.type == "enum":
        return ", ".join(finding.values)
    return finding.accepts()


@dataclass(frozen=True)
class Step:
    """One finding answered in this session; `skipped` means asked and not known. The members
    of a checklist answered on one line share their `prompt` number, so `back` undoes them
    together."""

    finding: str
    value: Any = None
    skipped: bool = False
    prompt: int = 0


@dataclass(frozen=True)
class Raised:
    """A red flag that an answer has just raised, or made more urgent."""

    flag: Any  # engine.inference.assessment.Reached
    escalated: bool = False


@dataclass
class Session:
    """Answers so far and what follows from them; cheap to query after every answer."""

    kb: m.KnowledgeBase
    reasoner: Reasoner
    planner: Planner
    patient: dict[str, Any] = field(default_factory=dict)
    findings: dict[str, Any] = field(default_factory=dict)
    noted_unknown: set[str] = field(default_factory=set)  # null in the resumed file
    description: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    history: list[Step] = field(default_factory=list)
    pending: tuple[str, ...] = ()  # the finding(s) to ask again after `back`
    queue: list[str] = field(default_factory=list)  # checklist members to ask one at a time
    screened_for: dict[str, str] = field(default_factory=dict)  # finding -> red flag screened
    # the console asks the patient's age and sex first (then the planner never asks them again);
    # the clinic's consultation takes them from the patient's record instead
    details_first: bool = False
    details_skipped: set[str] = field(default_factory=set)
    _cache: tuple[tuple[Any, ...], Assessment, Survey] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, kb: m.KnowledgeBase, reasoner: Reasoner, planner: Planner | None = None,
              case: Case | None = None, noted_unknown: set[str] | None = None) -> Session:
        """A fresh session, or one resumed from a case (its findings are never asked again)."""
        session = cls(kb, reasoner, planner or Planner(kb))
        if case is not None:
            session.patient = dict(case.patient)
            session.findings = dict(case.findings)
            session.description = case.description
            session.expect = dict(case.expect)
            session.noted_unknown = set(noted_unknown or ()) - set(case.facts)
        return session

    # --- state ---------------------------------------------------------------------------

    @property
    def facts(self) -> dict[str, Any]:
        """What the rules see: findings plus age and sex from the patient block."""
        return self.case().facts

    @property
    def skipped(self) -> set[str]:
        return {step.finding for step in self.history if step.skipped} | self.details_skipped

    @property
    def prompts(self) -> int:
        """Questions answered in this session; a checklist answered on one line is one."""
        return self.history[-1].prompt if self.history else 0

    @property
    def number(self) -> int:
        """The number of the question being asked now (1 for the first of this session)."""
        return self.prompts + 1

    def case(self, source: str = "interview") -> Case:
        return Case(source, dict(self.patient), dict(self.findings), self.description,
                    dict(self.expect))

    def _state(self) -> tuple[Assessment, Survey]:
        key = (tuple(sorted(self.facts.items(), key=lambda kv: kv[0])), tuple(sorted(self.skipped)))
        if self._cache is None or self._cache[0] != key:
            result = self.reasoner.assess(self.case())
            certainty = {r.id: r.certainty for r in (*result.red_flags, *result.conditions,
                                                     *result.causes)}
            urgency = {r.id: r.urgency for r in result.red_flags}
            survey = self.planner.survey(self.facts, self.skipped, certainty, urgency)
            self._cache = (key, result, survey)
        return self._cache[1], self._cache[2]

    def assessment(self) -> Assessment:
        return self._state()[0]

    def survey(self) -> Survey:
        return self._state()[1]

    # --- the conversation ----------------------------------------------------------------

    def next_question(self) -> Question | None:
        """The question to ask now: the one being revised after `back`, then checklist members
        the clinician asked to take one at a time, else the planner's."""
        survey = self.survey()
        last = self.screened_for.get(self.history[-1].finding, "") if self.history else ""
        if self.pending:
            lead, *_ = self.pending
            question: Question | None = survey.together(survey.question(lead, last), self.pending)
        else:
            while self.queue and self.queue[0] not in survey.candidates:
                self.queue.pop(0)
            question = (survey.question(self.queue[0], last) if self.queue
                        else survey.next_question(last))
        if question is not None:
            for finding in question.findings:
                self.screened_for[finding.id] = question.flag
        return question

    def detail(self) -> Question | None:
        """The patient detail (age, then sex) to ask before the consultation proper, if this
        session asks them: one the case does not give and nobody has asked. Details are not
        numbered questions and `back` does not reach them; skipped, the planner does not ask
        them again either."""
        if not self.details_first:
            return None
        asked = {step.finding for step in self.history} | self.noted_unknown | self.details_skipped
        for fid in PATIENT_FINDINGS:
            if fid in self.kb.findings and fid not in self.facts and fid not in asked:
                return replace(self.survey().question(fid), phase=PATIENT, topic="Patient details")
        return None

    def record_detail(self, fid: str, value: Any) -> list[Raised]:
        """A patient detail answered (None: skipped); returns the red flags it raised."""
        if value is None:
            self.details_skipped.add(fid)
            return []
        before = {flag.id: flag.urgency for flag in self.assessment().red_flags}
        self._set(fid, value)
        return self._raised(before)

    def one_at_a_time(self, question: Question) -> None:
        """The clinician chose `each` for a checklist: ask its members singly, in its order."""
        self.queue = [f.id for f in question.findings]

    def why(self, fid: str) -> Why:
        return self.survey().why(fid)

    def answer(self, fid: str, value: Any) -> list[Raised]:
        """Record an answer (already checked against the finding's type); return the red flags
        it raised or made more urgent, most urgent first."""
        return self.answer_many({fid: value})

    def skip(self, fid: str) -> None:
        """Asked and not known: never asked again in this session, saved as null."""
        self.answer_many({}, (fid,))

    def answer_many(self, values: Mapping[str, Any], unknown: Iterable[str] = ()) -> list[Raised]:
        """Record one line's answers (a checklist's, or one finding's) as one question: values
        for the known findings, `unknown` for those asked and not known. Returns the red flags
        raised or made more urgent."""
        before = {flag.id: flag.urgency for flag in self.assessment().red_flags}
        prompt = self.prompts + 1
        for fid, value in values.items():
            self._set(fid, value)
            self.history.append(Step(fid, value, prompt=prompt))
        for fid in unknown:
            self._unset(fid)
            self.history.append(Step(fid, skipped=True, prompt=prompt))
        self.pending = ()
        return self._raised(before)

    def _raised(self, before: Mapping[str, str]) -> list[Raised]:
        """Red flags raised, or made more urgent, since `before` (flag id -> urgency)."""
        raised = []
        for flag in self.assessment().red_flags:
            old = before.get(flag.id)
            if old is None or m.urgency_rank(flag.urgency) < m.urgency_rank(old):
                raised.append(Raised(flag, escalated=old is not None))
        return raised

    def back(self) -> tuple[Step, ...]:
        """Undo the last question of this session (every finding its line answered) and ask
        it again; empty when there is nothing to undo."""
        if not self.history:
            return ()
        prompt = self.history[-1].prompt
        undone: list[Step] = []
        while self.history and self.history[-1].prompt == prompt:
            step = self.history.pop()
            self._unset(step.finding)
            undone.insert(0, step)
        self.pending = tuple(step.finding for step in undone)
        self.queue = []
        return tuple(undone)

    def _set(self, fid: str, value: Any) -> None:
        if fid in PATIENT_FINDINGS:
            self.patient[fid] = value
        else:
            self.findings[fid] = value
        self.noted_unknown.discard(fid)

    def _unset(self, fid: str) -> None:
        if fid in PATIENT_FINDINGS:
            self.patient.pop(fid, None)
        else:
            self.findings.pop(fid, None)

    # --- the case file -------------------------------------------------------------------

    def case_text(self) -> str:
        """The contract's YAML case format; skipped questions are written as null so the file
        shows they were asked. Description and expectations of a resumed file are kept."""
        patient = {key: self.patient[key] for key in PATIENT_ORDER if key in self.patient}
        patient.update((k, v) for k, v in self.patient.items() if k not in patient)
        findings: dict[str, Any] = dict(self.findings)
        for fid in sorted(self.noted_unknown | self.skipped):
            if fid not in self.facts and fid not in PATIENT_FINDINGS:
                findings.setdefault(fid, None)
        head = HEADER
        if self.description:
            head += f"description: {json.dumps(self.description, ensure_ascii=False)}\n"
        tail = f"expect: {json.dumps(self.expect, ensure_ascii=False)}\n" if self.expect else ""
        return head + dump_case(patient, findings) + tail


def parse_resumable(text: str, name: str, kb: m.KnowledgeBase) -> tuple[Case, set[str]]:
    """A case to resume, and the findings it lists as null (asked before, not known)."""
    case = parse_case(text, name, kb)
    data = parse_text(text)
    raw = data.get("findings") if isinstance(data, dict) else None
    nulls = {str(k) for k, v in raw.items() if v is None} if isinstance(raw, dict) else set()
    return case, nulls


@dataclass(frozen=True)
class Replay:
    """An interview answered from a case file: how many questions (a checklist on one line
    counts once), the findings they settled, and where it ended."""

    questions: int
    asked: tuple[str, ...]
    assessment: Assessment
    details: int = 0  # patient details asked first (age, sex), not counted in `questions`


def replay(kb: m.KnowledgeBase, reasoner: Reasoner, facts: dict[str, Any],
           planner: Planner | None = None, details_first: bool = False,
           on_question: Callable[[Question], None] | None = None) -> Replay:
    """Interview from an empty case, answering each question from `facts` (absent = skip,
    a checklist on one line), going on after every red flag; `details_first` asks age and
    sex first, as the console does; `on_question` sees each question as it is asked. Used by
    the benchmarks and the regression tests."""
    session = Session.start(kb, reasoner, planner)
    session.details_first = details_first
    details = 0
    while (detail := session.detail()) is not None:
        session.record_detail(detail.finding.id, facts.get(detail.finding.id))
        details += 1
    limit = len(kb.findings)
    while (question := session.next_question()) is not None:
        fids = [f.id for f in question.findings]
        if session.prompts > limit or any(step.finding in fids for step in session.history):
            raise RuntimeError(f"the interview asked '{fids[0]}' twice")  # pragma: no cover
        if on_question is not None:
            on_question(question)
        session.answer_many({f: facts[f] for f in fids if f in facts},
                            [f for f in fids if f not in facts])
    return Replay(session.prompts, tuple(s.finding for s in session.history),
                  session.assessment(), details)


__all__ = ["COMMAND_WORDS", "Raised", "Replay", "Reply", "Session", "Step", "answer_words", "interpret",
           "parse_resumable", "replay"]
