"""The knowledge base as immutable data: what the loader produces and the compiler consumes.

Nothing here knows about YAML or experta; the same objects feed inference, explanation,
lint, the interview and the reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.errors import Location
from engine.kb.conditions import All as All
from engine.kb.conditions import AnyOf as AnyOf
from engine.kb.conditions import AtLeast as AtLeast
from engine.kb.conditions import Concluded as Concluded
from engine.kb.conditions import Cond as Cond
from engine.kb.conditions import Not as Not
from engine.kb.conditions import Test as Test
from engine.kb.conditions import leaves as leaves
from engine.record import Record, field

FINDING_TYPES = ("boolean", "number", "enum", "sided")
CATEGORIES = ("symptom", "history", "examination", "activity", "patient")
CONCLUSION_KINDS = ("red_flag", "condition", "cause")
URGENCIES = ("emergency", "urgent", "soon")
TRIAGE_ORDER = ("emergency", "urgent", "soon", "routine")
BANDS = ("red_flag", "condition", "cause", "advice")
EVIDENCE_LEVELS = ("high", "moderate", "low", "expert_opinion")
# A rule's place in its life (as Sigma rules have): new and still being tried, in use, or kept
# only until its replacement is trusted. Lint warns when a deprecated rule is still relied on.
RULE_STATUSES = ("experimental", "stable", "deprecated")
SIDES = ("left", "right", "bilateral")
# Phases of a programme, in the order a patient goes through them (issue 14): settle the pain,
# restore movement and strength, build load, return to sport. Advice without a phase (referral,
# education, review) belongs to no phase and is listed first.
PHASES = ("settle", "restore", "build", "return")
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in")
# What a recommendation asks the patient to do. The safety policy (engine.safety) keys on these,
# never on an id: with a referral-level red flag only REFERRAL_KINDS are given.
RECOMMENDATION_KINDS = ("referral", "safety_net", "exercise", "stretch", "strengthen",
                        "load_management", "education", "self_care", "follow_up")
REFERRAL_KINDS = ("referral", "safety_net")  # what a patient waiting for a referral is told
EXERCISE_KINDS = ("exercise", "stretch", "strengthen")  # never given with a referral-level flag


# Certainty in words, from weakest to strongest, with the lowest certainty of each band; the
# reports say these words and `kb diff` compares by band, so both read the same thresholds.
CERTAINTY_BANDS = (("weak", 0.0), ("some", 0.35), ("good", 0.6), ("strong", 0.8))


def certainty_band(cf: float) -> str:
    """'weak', 'some', 'good' or 'strong': the band a certainty falls in."""
    name = CERTAINTY_BANDS[0][0]
    for band, low in CERTAINTY_BANDS:
        if cf >= low:
            name = band
    return name


def urgency_rank(urgency: str) -> int:
    """Lower is more urgent; 'routine' ranks last."""
    return TRIAGE_ORDER.index(urgency)


class Finding(Record):
    """A fact a clinician can report about a patient."""

    id: str
    label: str
    category: str
    type: str
    question: str
    location: Location
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()
    help: str = ""
    lint_off: tuple[tuple[str, str], ...] = ()  # (check id, reason): lint checks switched off
    integer: bool = False  # a count: 2.5 positive tests means nothing

    def accepts(self) -> str:
        """Human description of the values this finding takes, for hints and messages."""
        if self.type == "boolean":
            return "true or false"
        if self.type == "sided":
            return "true, false, left, right or bilateral"
        if self.type == "enum":
            return " | ".join(self.values)
        unit = f" {self.unit}" if self.unit else ""
        if self.integer:
            return f"a whole number from {_fmt(self.minimum)} to {_fmt(self.maximum)}{unit}"
        return f"a number from {_fmt(self.minimum)} to {_fmt(self.maximum)}{unit}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


class Review(Record):
    """When to see the patient again and why (a condition's `review:` in the KB)."""

    after_weeks: float
    why: str


class Conclusion(Record):
    """A red flag, condition or cause a rule can conclude."""

    id: str
    kind: str
    label: str
    description: str
    location: Location
    urgency: str = ""
    actions: tuple[tuple[str, str], ...] = ()
    lint_off: tuple[tuple[str, str], ...] = ()  # (check id, reason): lint checks switched off
    review: Review | None = None  # conditions: when to see the patient again, and what to re-test
    plain: str = ""  # conditions: what it is, in the patient's words (for the handout)
    # conditions: the pain sites (body-chart findings) where it presents. Once the body chart is
    # answered, the interview pursues the condition only if one of them is marked; empty = any
    # site. Only which questions are worth asking depends on it, never what `assess` concludes.
    sites: tuple[str, ...] = ()

    def action_for(self, urgency: str) -> str:
        """What to do now at this urgency; falls back to the most urgent action written."""
        table = dict(self.actions)
        if urgency in table:
            return table[urgency]
        for level in URGENCIES:
            if level in table:
                return table[level]
        return ""


class Muscle(Record):
    """A muscle the advice names: stretched when tight, strengthened when weak."""

    id: str
    label: str
    location: Location
    region: str = ""
    lint_off: tuple[tuple[str, str], ...] = ()  # (check id, reason): lint checks switched off


class Checklist(Record):
    """Findings a clinician asks or examines as one item: a red-flag screen, a body chart, a
    battery of tests. The interview shows them together; each answer is still one finding."""

    id: str
    label: str
    question: str
    findings: tuple[str, ...]
    location: Location
    help: str = ""
    lint_off: tuple[tuple[str, str], ...] = ()  # (check id, reason): lint checks switched off
    places: tuple[Location, ...] = ()  # where each member is written, for messages
    layer: str = ""  # the knowledge-base folder that defines it, as for rules
    first: bool = False  # asked before anything else while none of it has been asked
    explicit_no: tuple[str, ...] = ()  # members an unticked box leaves unknown, not no
    # settle: a default interview also settles the (advice) rules that read these findings, for
    # a screening tool a guideline asks at first contact (STarT Back), not only with --thorough
    settle: bool = False

    def place(self, index: int) -> Location:
        return self.places[index] if index < len(self.places) else self.location


CHECKLIST_SIZE = (2, 12)  # fewer is a plain question; more cannot be read at a glance
CHECKLIST_TYPES = ("boolean", "sided")  # what a tick (with a side) can answer


class Recommendation(Record):
    """A piece of advice a rule can give, with its evidence and, for the handout, the patient's words."""

    id: str
    text: str
    location: Location
    sources: tuple[str, ...] = ()
    evidence: str = ""
    lint_off: tuple[tuple[str, str], ...] = ()  # (check id, reason): lint checks switched off
    phase: str = ""  # one of PHASES, or "" for advice outside a programme's phases
    subsumes: tuple[str, ...] = ()  # recommendations this programme already contains
    avoid: str = ""  # what to avoid meanwhile, in the patient's words
    sided: bool = False  # done on the painful side: carries the side of what it treats
    kind: str = "education"  # one of RECOMMENDATION_KINDS; the loader requires it
    plain: str = ""  # the advice in the patient's words (the handout), when `text` is for the clinician


class Source(Record):
    """A published source the rules cite, with its level of evidence."""

    id: str
    citation: str
    level: str
    location: Location
    file: str = ""
    url: str = ""
    lint_off: tuple[tuple[str, str], ...] = ()  # (check id, reason): lint checks switched off
    summary: str = ""  # what the source says that the rules rely on, in our words


class Accuracy(Record):
    """Published diagnostic accuracy behind a rule's certainty, as the cited study reports it.

    Kept beside the certainty so a reader can see where the number came from; the engine never
    computes with it. Probabilities are fractions (0.33, not 33)."""

    source: str
    location: Location
    lr_positive: float | None = None
    lr_negative: float | None = None
    post_test_probability: float | None = None
    sensitivity: float | None = None
    specificity: float | None = None
    note: str = ""

    def figures(self) -> list[tuple[str, float]]:
        """The figures given, as (name, value), in a fixed order."""
        named = (("lr_positive", self.lr_positive), ("lr_negative", self.lr_negative),
                 ("post_test_probability", self.post_test_probability),
                 ("sensitivity", self.sensitivity), ("specificity", self.specificity))
        return [(name, value) for name, value in named if value is not None]

    def describe(self) -> str:
        """'LR+ 12.8, post-test probability 33% (downie_2013)': the figures as a reader sees them."""
        parts = []
        for name, value in self.figures():
            if name.startswith("lr_"):
                parts.append(f"{ACCURACY_WORDS[name]} {value:g}")
            else:
                parts.append(f"{ACCURACY_WORDS[name]} {value * 100:.3g}%")
        note = f"; {self.note}" if self.note else ""
        return f"{', '.join(parts)} ({self.source}{note})"


ACCURACY_WORDS = {"lr_positive": "LR+", "lr_negative": "LR-",
                  "post_test_probability": "post-test probability", "sensitivity": "sensitivity",
                  "specificity": "specificity"}


class Rule(Record):
    """One rule: when `when` holds, conclude something with a certainty, and advise."""

    id: str
    title: str
    band: str
    when: Cond
    location: Location
    order: int
    concludes: str = ""
    kind: str = ""
    certainty: float = 1.0
    urgency: str = ""
    because: str = ""
    stretch: tuple[str, ...] = ()
    strengthen: tuple[str, ...] = ()
    recommend: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    evidence: str = ""
    lint_off: tuple[tuple[str, str], ...] = ()
    layer: str = ""
    accuracy: Accuracy | None = None
    against: bool = False  # evidence against: lowers `concludes` (engine.inference.premises.combine)
    certainty_at: Location | None = None  # the `certainty:` line, for messages about it
    lines: tuple[tuple[str, int], ...] = ()  # ("sources", 12), ("then.strengthen", 9), ...
    status: str = ""  # one of RULE_STATUSES; "" is read as stable
    reviewed_by: str = ""
    reviewed_on: str = ""  # ISO date, YYYY-MM-DD

    def where(self, key: str) -> Location:
        """The line of `key` ('then.strengthen'), of its nearest enclosing key, or the rule's."""
        table = dict(self.lines)
        while key:
            if key in table:
                return Location(self.location.path, table[key])
            key = key.rpartition(".")[0]
        return self.location

    @property
    def signed_certainty(self) -> float:
        """The certainty factor this rule contributes at full premise: negative when against."""
        return -self.certainty if self.against else self.certainty

    def findings_used(self) -> list[str]:
        return [leaf.finding for leaf in leaves(self.when) if isinstance(leaf, Test)]

    def conclusions_used(self) -> list[str]:
        return [leaf.conclusion for leaf in leaves(self.when) if isinstance(leaf, Concluded)]


class Expectation(Record):
    """What a KB case test expects; certainty bounds are (low, high)."""

    triage: str = ""
    fires: tuple[str, ...] = ()
    not_fires: tuple[str, ...] = ()
    present: tuple[tuple[str, float, float], ...] = ()
    absent: tuple[str, ...] = ()
    top: str = ""
    stretch: tuple[str, ...] = ()
    strengthen: tuple[str, ...] = ()
    recommends: tuple[str, ...] = ()
    not_recommends: tuple[str, ...] = ()
    no_exercise: bool = False  # no exercise, stretch or strengthen item and no muscles given


class CaseTest(Record):
    """A KB case test: findings and patient details, and what the assessment must show."""

    name: str
    findings: tuple[tuple[str, Any], ...]
    patient: tuple[tuple[str, Any], ...]
    expect: Expectation
    location: Location
    todo: str = ""
    lines: tuple[tuple[str, int], ...] = ()  # ("expect.triage", 12), ("findings.fever", 4), ...

    def where(self, key: str) -> Location:
        """The line of `key` (e.g. 'expect.fires'), or of the nearest enclosing key, or the test."""
        table = dict(self.lines)
        while key:
            if key in table:
                return Location(self.location.path, table[key])
            key = key.rpartition(".")[0]
        return self.location


class Disabled(Record):
    """A shipped rule switched off by a clinic layer, with the reason shown in reports (or,
    with kind 'checklist', a checklist the clinic replaces with its own grouping)."""

    rule: str  # the id switched off
    reason: str
    location: Location
    kind: str = "rule"
    red_flag: str = ""  # the red flag the switched-off rule concluded: announced in every output


class Layer(Record):
    """One knowledge-base folder (the shipped kb/ or a --kb layer) with its name and version."""

    path: str
    name: str
    version: str


class KnowledgeBase(Record):
    """Everything the loader read from every layer, checked and merged."""

    findings: dict[str, Finding]
    conclusions: dict[str, Conclusion]
    muscles: dict[str, Muscle]
    recommendations: dict[str, Recommendation]
    sources: dict[str, Source]
    rules: tuple[Rule, ...]
    # a sequence, not always a tuple: a KB from the cache decodes its tests on first use
    tests: Sequence[CaseTest] = ()
    disabled: tuple[Disabled, ...] = ()
    layers: tuple[Layer, ...] = ()
    warnings: tuple[Any, ...] = field(default=())
    checklists: dict[str, Checklist] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return " + ".join(f"{layer.name} {layer.version}".strip() for layer in self.layers)

    def rule(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def flag_urgency(self, rule: Rule) -> str:
        """The urgency a red-flag rule raises its red flag to: its own `urgency`, else the red
        flag's in the catalogue, else 'soon'."""
        return rule.urgency or self.conclusions[rule.concludes].urgency or "soon"

    def rules_concluding(self, conclusion_id: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.concludes == conclusion_id]
