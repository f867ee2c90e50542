"""Every finding, value, premise and conclusion put into words, in one place, for every output.

Clinicians read the same fact in the terminal, the HTML and markdown reports, the interview, the
clinic pages and the handout; rule authors read rules in `kb show` and `kb lint`. When each of
those phrased a value its own way, one report said "9 hours per day" and another "9.0 hours per
day". So there are exactly two voices here, and nothing else in the code builds such words:

- the clinician's: labels and units, never ids ("Age over 50 years", "no fever", "1 week");
- the author's: ids and the rule language's own notation ("age > 50", "fever = false"), because
  an author has to find the line in the YAML file.

It sits just above `engine.kb` (it needs only the model), so every other part can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.kb import model as m
from engine.kb.model import certainty_band

COMPARE_WORDS = {"lt": "under", "le": "at most", "gt": "over", "ge": "at least"}
AUTHOR_OPS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "in"}

# --- the clinician's voice -----------------------------------------------------------------------


def show_value(value: Any) -> str:
    """Values as a clinician reads them: yes / no / left / 12 (never 12.0)."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def unit_text(finding: m.Finding | None, value: Any = None) -> str:
    """The unit to print after a number: 'weeks', but 'week' for exactly 1 ('1 week',
    '1 hour per day'); empty for findings that are not numbers."""
    if finding is None or finding.type != "number" or not finding.unit:
        return ""
    unit = finding.unit
    if value == 1 and not isinstance(value, bool):
        first, _, rest = unit.partition(" ")
        if first.endswith("s") and len(first) > 2 and not first.endswith("ss"):
            unit = (first[:-1] + " " + rest).strip()
    return unit


def answer_text(finding: m.Finding | None, value: Any) -> str:
    """A finding's value with its unit: 'yes', 'right', '30 percent', '1 week'."""
    unit = unit_text(finding, value)
    return f"{show_value(value)} {unit}" if unit else show_value(value)


def lower_first(text: str) -> str:
    """'Fever' -> 'fever' inside a sentence, but 'SLR' stays 'SLR'."""
    return text[:1].lower() + text[1:] if text[1:2].islower() or len(text) == 1 else text


def label_of(kb: m.KnowledgeBase, fid: str) -> str:
    finding = kb.findings.get(fid)
    return finding.label if finding else fid


def finding_phrase(kb: m.KnowledgeBase, fid: str, value: Any) -> str:
    """A recorded answer: 'Saddle anaesthesia', 'no fever', 'Leg pain below the knee: left',
    'Sitting time: 9 hours per day'; an earlier conclusion in a list of evidence reads
    'Iliotibial band syndrome suggested', never its id."""
    if fid not in kb.findings and fid in kb.conclusions:  # evidence can be an earlier conclusion
        return f"{kb.conclusions[fid].label} suggested"
    label = label_of(kb, fid)
    if value is True:
        return label
    if value is False:
        return f"no {lower_first(label)}"
    return f"{label}: {answer_text(kb.findings.get(fid), value)}"


def test_phrase(kb: m.KnowledgeBase, test: m.Test) -> str:
    """A premise on one finding: 'Saddle anaesthesia', 'no fever', 'Age over 50 years',
    'Sex: female or male', 'Pain side not: left'."""
    finding = kb.findings.get(test.finding)
    label = label_of(kb, test.finding)
    value = test.value
    if test.op in ("eq", "ne"):
        positive = test.op == "eq"
        if isinstance(value, bool):
            return label if value == positive else f"no {lower_first(label)}"
        return f"{label}{'' if positive else ' not'}: {answer_text(finding, value)}"
    if test.op == "in":
        items = value if isinstance(value, (list, tuple)) else [value]
        return f"{label}: {' or '.join(answer_text(finding, v) for v in items)}"
    unit = unit_text(finding, value)
    return f"{label} {COMPARE_WORDS[test.op]} {show_value(value)}{' ' + unit if unit else ''}"


def concluded_phrase(kb: m.KnowledgeBase, cond: m.Concluded) -> str:
    """'Sciatica suggested (certainty at least 0.5)'."""
    conclusion = kb.conclusions.get(cond.conclusion)
    label = conclusion.label if conclusion else cond.conclusion
    floor = f" (certainty at least {cond.min_certainty:g})" if cond.min_certainty else ""
    return f"{label} suggested{floor}"


Mark = Callable[[m.Test], str]


def cond_phrase(kb: m.KnowledgeBase, cond: m.Cond, mark: Mark | None = None) -> str:
    """A condition tree in words, one clause per premise. `mark` adds what is known after each
    premise on a finding (the interview's ✓ / ✗ / ?)."""
    def tail(test: m.Test) -> str:
        return f" {mark(test)}" if mark else ""

    if isinstance(cond, m.Test):
        return test_phrase(kb, cond) + tail(cond)
    if isinstance(cond, m.Concluded):
        return concluded_phrase(kb, cond)
    if isinstance(cond, m.Not):
        inner = cond.item
        if isinstance(inner, m.Test) and inner.op == "eq" and isinstance(inner.value, bool):
            flipped = m.Test(inner.finding, "eq", not inner.value, inner.location)
            return test_phrase(kb, flipped) + tail(inner)
        if isinstance(inner, m.Concluded):
            return f"not {cond_phrase(kb, inner, mark)}"
        return f"not ({cond_phrase(kb, inner, mark)})"
    parts = "; ".join(cond_phrase(kb, item, mark) for item in cond.items)
    if isinstance(cond, m.AnyOf):
        return f"any of: {parts}"
    if isinstance(cond, m.AtLeast):
        return f"at least {cond.count} of: {parts}"
    return f"all of: {parts}"


def imagined_answer(test: m.Test, finding: m.Finding, value: Any, negated: bool) -> str:
    """How to say the answer: 'yes', 'no', 'left', 'over 10 percent'."""
    if finding.type == "number" and test.op in COMPARE_WORDS and not negated:
        return f"{COMPARE_WORDS[test.op]} {answer_text(finding, test.value)}"
    return answer_text(finding, value)


# --- conclusions, triage and safety, as every output says them ---------------------------------

DISCLAIMER = ("Decision support only: this tool supports clinical judgement and does not "
              "diagnose. Confirm every conclusion by examination.")

TRIAGE_TEXT = {
    "emergency": "EMERGENCY: act now, before anything else",
    "urgent": "URGENT: medical assessment within the time each red flag gives, at most 2 weeks",
    "soon": "SOON: review with a doctor and give safety-net advice",
    "routine": "ROUTINE: no red flag found in the answers given",
}

# The header of a site question (the body chart): it serves every suspicion, so it names none.
SITE_QUESTION = "Where it hurts: this decides which questions follow"

# The plan's place when nothing calls for a step (an empty heading reads as a broken report).
NO_PLAN = "No step follows from the findings given: record more findings, or use your clinical judgement."

BANNER_HEADLINE = {
    "emergency": "act now, before any exercise treatment",
    "urgent": "refer for medical assessment before any exercise treatment",
    "soon": "low level of concern; review with a doctor soon and safety-net",
}


def banner_headline(triage: str) -> str:
    """The red-flag banner's headline: what the most urgent flag asks for (never 'refer' for a
    low-concern flag, which calls for watchful waiting)."""
    return BANNER_HEADLINE.get(triage, BANNER_HEADLINE["soon"])


def certainty_word(cf: float) -> str:
    """Plain words for a certainty, so a number is never read as a probability of disease."""
    return f"{certainty_band(cf)} support"


def safety_notices(result: Any) -> list[str]:
    """What every output must say about safety besides the red flags themselves: advice the
    safety policy withheld (and for which flag), and red-flag rules a layer switched off. One
    wording, so text, markdown, HTML and JSON readers are told the same thing."""
    notes: list[str] = []
    kb = result.kb
    withheld = result.withheld
    if withheld:
        flags = ", ".join(kb.conclusions[f].label for f in withheld.because)
        held = len(withheld.recommendations) + len(withheld.stretch) + len(withheld.strengthen)
        count = f" ({held} item{'s' if held != 1 else ''} held back)" if held else ""
        notes.append(f"Exercise, stretching and strengthening advice is withheld until the red "
                     f"flag is cleared: {flags}{count}. Follow the referral first.")
    for off in result.disabled_red_flag_rules:
        flag = kb.conclusions[off.red_flag].label if off.red_flag in kb.conclusions else off.red_flag
        notes.append(f"Warning: red-flag rule '{off.rule}' ({flag}) is switched off by a "
                     f"knowledge-base layer at {off.location}: {off.reason}")
    return notes


# --- the red-flag screen (engine.inference.screen) ---------------------------------------------

SCREEN_HEAD = "Red-flag screen incomplete"
SCREEN_UNKNOWN = "Unknown is not 'no'."
# the handout's word for the patient when the screen is incomplete: never "no serious cause"
SCREEN_HANDOUT = ("Some questions about rarer but serious causes were not asked yet. Your "
                  "clinician will ask them; tell them at once about any of the warning signs below.")


def screen_groups(kb: m.KnowledgeBase, screen: Any) -> list[tuple[str, str, list[str]]]:
    """(flag label, urgency, question labels) per unscreened red flag, most urgent first; each
    question named once, under the first flag that needs it, so a list read aloud has no
    repeats (the JSON keeps every flag's full list)."""
    seen: set[str] = set()
    out: list[tuple[str, str, list[str]]] = []
    for item in screen.unanswered:
        fresh = [fid for fid in item.findings if fid not in seen]
        seen.update(fresh)
        if fresh:
            label = kb.conclusions[item.red_flag].label if item.red_flag in kb.conclusions \
                else item.red_flag
            if item.raised_at:  # found already: these questions could make it more urgent
                label = f"{label} (found at {item.raised_at.upper()}; could be {item.urgency.upper()})"
            out.append((label, item.urgency, [_screen_question(kb, fid) for fid in fresh]))
    return out


# the patient block's fields, which rules read as findings: asked as patient details
_PATIENT_DETAILS = {"age": "the patient's age", "sex": "the patient's sex"}


def _screen_question(kb: m.KnowledgeBase, fid: str) -> str:
    if fid in _PATIENT_DETAILS:  # the KB defines them as findings too, labelled "Age", "Sex"
        return _PATIENT_DETAILS[fid]
    return lower_first(label_of(kb, fid))


def screen_do_now(triage: str) -> str:
    """What to do about an incomplete screen: ask before relying on a routine triage; with red
    flags found, ask the rest too (another flag could be missed)."""
    if triage == "routine":
        return "Do now: ask these questions before relying on ROUTINE."
    return ("Do now: after acting on the red flags above, ask these too; an answer could raise "
            "another red flag or make one more urgent.")


def screen_pointer(screen: Any) -> str:
    """The one-line count under a report's summary when the questions follow it: '5 more red
    flags not screened, 1 found could be more urgent'."""
    found = sum(1 for item in screen.unanswered if item.raised_at)
    unscreened = len(screen.unanswered) - found
    parts = []
    if unscreened:
        parts.append(f"{unscreened} more red flag{'s' if unscreened != 1 else ''} not screened")
    if found:
        parts.append(f"{found} found could be more urgent")
    return ", ".join(parts)


def screen_notice(kb: m.KnowledgeBase, screen: Any, triage: str) -> str:
    """The one clinician-facing paragraph every format shows when the screen is incomplete
    ('' when it is complete): 'Red-flag screen incomplete: not asked about saddle
    anaesthesia, ... (suspected cauda equina syndrome); ... Unknown is not 'no'. Do now: ...'."""
    groups = screen_groups(kb, screen)
    if not groups:
        return ""
    parts = "; ".join(f"{', '.join(questions)} ({lower_first(label)})"
                      for label, _, questions in groups)
    return f"{SCREEN_HEAD}: not asked about {parts}. {SCREEN_UNKNOWN} {screen_do_now(triage)}"



def startback_line(group: dict[str, Any]) -> str:
    """'STarT Back: high risk (total 6 of 9, distress subscale 4 of 5)', for every format."""
    return (f"STarT Back: {group['id']} risk (total {group['score']} of 9, distress subscale "
            f"{group['psychosocial_score']} of 5)")


# --- the author's voice --------------------------------------------------------------------------


def author_value(value: Any) -> str:
    """A value as written in a rule file: true, 50, [left, right]."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(author_value(v) for v in value) + "]"
    return str(value)


def author_test(test: m.Test, finding: m.Finding | None = None) -> str:
    """A premise in the rule language's notation: 'age > 50 years', 'fever = true'. With the
    finding, numbers carry their unit and a sided `true` says it means any side."""
    unit = f" {finding.unit}" if finding is not None and finding.unit and test.op != "in" else ""
    note = " (any side)" if finding is not None and finding.type == "sided" and test.value is True else ""
    return f"{test.finding} {AUTHOR_OPS[test.op]} {author_value(test.value)}{unit}{note}"


def author_concluded(cond: m.Concluded) -> str:
    """'concluded: sciatica (min_certainty 0.5)'."""
    floor = f" (min_certainty {author_value(cond.min_certainty)})" if cond.min_certainty else ""
    return f"concluded: {cond.conclusion}{floor}"
