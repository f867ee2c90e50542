"""`imbalance handout CASE -o OUT.html`: the patient's sheet, in plain words, in the second person.

What the patient takes home (issue 14): what we think is going on, the plan's exercises with
dose and side, what to avoid, when to come back and when to seek help at once. It never shows a
rule id, a certainty or a red-flag label; medical words it cannot avoid are explained in "Words
on this sheet". With a red flag (any urgency) the sheet holds only what to do about the referral
and the safety-net: no exercise is handed to a patient who may have a serious problem.

The patient wording lives here, beside the template, because it is wording, not clinical
reasoning: the advice texts themselves come from kb/conclusions/recommendations.yaml and each
condition's plain explanation from its `plain:` text in kb/conclusions/conditions.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.inference.assessment import Assessment
from engine.wording import SCREEN_HANDOUT
from reports.summary import plan_avoid, review_when
from reports.templating import environment

# With a red flag the patient gets one instruction, by urgency, instead of the flag's name.
REFERRAL = {
    "emergency": ("Go to the nearest emergency department now",
                  "Some of your symptoms need a doctor to check them today, in hospital. Go now, "
                  "or call for an ambulance. Do not drive yourself. Take this sheet with you."),
    "urgent": ("See a doctor within the next two weeks",
               "Some of your symptoms need a doctor to check them soon. Your clinician will "
               "arrange this, or book it with your own doctor today. Do not start any new "
               "exercise until a doctor has seen you."),
    "soon": ("See your doctor in the next few weeks",
             "Some of your symptoms are worth a check by your doctor. It is most likely nothing "
             "serious, but please book it. Keep to gentle everyday activity until then."),
}
# When to seek help at once: the warning signs of the red flags in kb/ (cauda equina, cord
# compression, infection, heart attack), after NICE CKS sciatica and the NHS, in plain words.
SAFETY_NET = (
    "numbness between your legs or around your bottom",
    "new trouble passing urine, or leaking urine or stools without meaning to",
    "weakness or numbness in both legs, or a leg that is getting weaker",
    "chest pain, or pain that spreads to your arm, jaw or back, with sweating or feeling sick",
    "a high temperature with back pain, and feeling very unwell",
)
SEE_DOCTOR_SOON = (
    "the pain keeps getting worse, week by week",
    "pain at night stops you sleeping",
    "you lose weight without trying",
)
# Medical words that may appear in advice texts, and what they mean.
GLOSSARY = {
    "gluteus medius": "the muscle on the side of your hip that keeps your pelvis level when "
                      "you stand on one leg",
    "IT band": "a strong band of tissue that runs down the outside of your thigh to the knee",
    "SI joint": "the joint between the base of your spine and your pelvis, at the back",
    "pelvis": "the ring of bones at the base of your spine that your legs join onto",
    "pelvic": "to do with the pelvis, the ring of bones at the base of your spine",
    "quadriceps": "the big muscles at the front of your thigh",
    "hamstring": "the muscles at the back of your thigh",
    "piriformis": "a small muscle deep in your buttock",
    "trapezius": "the muscle across the top of your back and shoulders",
    "serratus anterior": "the muscle on the side of your ribs that holds your shoulder blade "
                         "against your chest",
    "plyometrics": "jumping exercises that train your muscles to take off and land",
    "tendons": "the strong cords that join muscles to bones",
    "lumbopelvic": "to do with your lower back and pelvis",
    "deep neck flexor": "the small muscles at the front of your neck that hold your head up",
    "core": "the muscles around your tummy and lower back",
    "abdominal": "to do with the muscles of your tummy",
}
SIDE_TEXT = {"left": "Do this for your left side.", "right": "Do this for your right side.",
             "bilateral": "Do this on both sides."}


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    side: str


@dataclass(frozen=True)
class Handout:
    patient: str
    referral: tuple[str, str] | None
    about: tuple[str, ...]
    steps: tuple[Step, ...]
    avoid: tuple[str, ...]
    come_back: str
    safety_net: tuple[str, ...]
    see_doctor_soon: tuple[str, ...]
    words: tuple[tuple[str, str], ...]
    screen: str = ""  # the red-flag screen is incomplete: no reassurance, say questions remain


def _title(text: str) -> tuple[str, str]:
    """'Glute bridge: lie on your back ...' -> ('Glute bridge', 'Lie on your back ...')."""
    head, sep, rest = text.partition(": ")
    if sep and len(head) <= 40 and rest:
        return head, rest[0].upper() + rest[1:]
    return "", text


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _come_back(weeks: float, six_monthly: bool, exercises: bool) -> str:
    when = review_when(weeks).replace("in ", "in about ", 1)
    if not exercises:  # nothing to change: the review is a safety net
        return f"Come back {when} if the pain has not settled, or sooner if anything new appears."
    text = f"Come back {when} so we can check how you are doing and change your exercises if needed."
    if six_monthly and weeks < 26:
        text += (" After that, a check of your muscle balance about every six months helps catch "
                 "new problems early.")
    return text


def build_handout(result: Assessment) -> Handout:
    patient = str(result.case.patient.get("id") or "")
    if result.red_flags:
        title, text = REFERRAL.get(result.triage, REFERRAL["soon"])
        return Handout(patient, (title, text), (), (), (), "", SAFETY_NET, SEE_DOCTOR_SOON, ())
    # an incomplete red-flag screen: what we think is going on waits (a condition's plain words
    # can reassure, "without signs of anything serious"), and the sheet says questions remain
    screen = "" if result.screen.complete else SCREEN_HANDOUT
    about = []
    for condition in result.conditions[:2] if not screen else ():
        plain = condition.conclusion.plain
        if plain and condition.certainty >= 0.35:
            about.append(plain)
    steps = []
    for advice in result.plan:
        title, text = _title(advice.plain or advice.text)
        steps.append(Step(title, text, SIDE_TEXT.get(advice.side or "", "")))
    avoid = tuple(_sentence(a) for a in plan_avoid(result))
    review = result.review
    six_monthly = bool(result.stretch or result.strengthen)
    words_from = [*about, *(s.title + " " + s.text for s in steps), *avoid]
    return Handout(patient, None, tuple(about), tuple(steps), avoid,
                   _come_back(review.after_weeks, six_monthly, bool(steps)), SAFETY_NET, SEE_DOCTOR_SOON,
                   glossary_for(" ".join(words_from)), screen)


def glossary_for(text: str) -> tuple[tuple[str, str], ...]:
    """The GLOSSARY entries whose word appears in `text` (whole words, any case)."""
    return tuple((word, meaning) for word, meaning in GLOSSARY.items()
                 if re.search(rf"\b{re.escape(word)}", text, re.IGNORECASE))


def render_handout(result: Assessment, generated: str) -> str:
    return environment().get_template("handout.html.j2").render(h=build_handout(result),
                                                                generated=generated)
