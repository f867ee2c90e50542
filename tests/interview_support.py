"""Knowledge bases for the interview tests: the shipped vocabulary with only the rules a test
writes, so question orders do not change when the shipped rule base grows."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase


def isolated_layer(folder: Path, rules_yaml: str) -> Path:
    """A `--kb` folder that switches off every shipped rule and adds `rules_yaml`."""
    shipped = load_kb()
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["disable:"] + [f"  - {{rule: {rule.id}, reason: isolated interview test}}"
                            for rule in shipped.rules]
    (folder / "disable.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "rules.yaml").write_text(textwrap.dedent(rules_yaml).lstrip("\n"), encoding="utf-8")
    return folder


def rules_kb(folder: Path, rules_yaml: str) -> KnowledgeBase:
    return load_kb((isolated_layer(folder, rules_yaml),))


# A small clinic of rules that uses every construct of the rule language the planner must
# understand: single findings, all/any/not/at_least, numbers, sides, enums, concluded chains
# with a certainty floor, several urgencies of red flag, and an advice-only rule.
CLINIC = """
rules:
  - {id: t_ces_saddle, title: Saddle anaesthesia suggests cauda equina syndrome, band: red_flag,
     when: [{saddle_anaesthesia: true}], then: {red_flag: cauda_equina_syndrome, certainty: 0.9},
     sources: [bmj_bp_ces], evidence: high}
  - {id: t_ces_bilateral, title: Back pain with pain down both legs, band: red_flag,
     when: [{low_back_pain: true}, {leg_pain_below_knee: bilateral}],
     then: {red_flag: cauda_equina_syndrome, certainty: 0.5}, sources: [bmj_bp_ces], evidence: high}
  - {id: t_malignancy, title: Cancer history with back pain, band: red_flag,
     when: [{history_of_cancer: true}, {low_back_pain: true}],
     then: {red_flag: spinal_malignancy, certainty: 0.6}, sources: [nice_ng59], evidence: high}
  - {id: t_mscc, title: Cancer history with a progressive deficit, band: red_flag,
     when: [{history_of_cancer: true}, {progressive_neurological_deficit: true}],
     then: {red_flag: spinal_malignancy, urgency: emergency, certainty: 0.7},
     sources: [nice_ng59], evidence: high}
  - {id: t_cancer_cluster, title: Two or more cancer pointers with back pain, band: red_flag,
     when: [{low_back_pain: true}, {at_least: 2, of: [{unexplained_weight_loss: true},
            {night_pain: true}, {age: {gt: 50}}]}],
     then: {red_flag: spinal_malignancy, urgency: soon, certainty: 0.4},
     sources: [nice_ng59], evidence: moderate}
  - {id: t_itbs_runner, title: Lateral knee pain in a runner, band: condition,
     when: [{lateral_knee_pain: true}, {runner: true}],
     then: {condition: it_band_syndrome, certainty: 0.5, because: b}, sources: [bmj_bp_itbs],
     evidence: high}
  - {id: t_itbs_noble, title: Positive Noble test with lateral knee pain, band: condition,
     when: [{lateral_knee_pain: true}, {positive_noble_test: true}],
     then: {condition: it_band_syndrome, certainty: 0.6, because: b,
            stretch: [iliotibial_band]}, sources: [bmj_bp_itbs], evidence: moderate}
  - {id: t_sciatica, title: Leg pain below the knee with a positive SLR, band: condition,
     when: [{leg_pain_below_knee: true}, {positive_straight_leg_raise: true}],
     then: {condition: sciatica, certainty: 0.7, because: b}, sources: [nice_cks_sciatica],
     evidence: high}
  - {id: t_piriformis, title: Buttock pain worse sitting with a negative SLR, band: condition,
     when: [{buttock_pain: true}, {pain_worse_sitting: true},
            {not: {positive_straight_leg_raise: true}}],
     then: {condition: piriformis_syndrome, certainty: 0.4, because: b}, sources: [seed_002],
     evidence: low}
  - {id: t_lcs, title: Anterior tilt with tight hip flexors, band: condition,
     when: [{anterior_pelvic_tilt: true}, {any: [{tight_hip_flexors: true},
            {positive_thomas_test: true}]}],
     then: {condition: lower_crossed_syndrome, certainty: 0.6, because: b}, sources: [seed_002],
     evidence: moderate}
  - {id: t_ucs, title: Forward head with rounded shoulders, band: condition,
     when: [{forward_head_posture: true}, {rounded_shoulders: true}],
     then: {condition: upper_crossed_syndrome, certainty: 0.6, because: b}, sources: [seed_002],
     evidence: moderate}
  - {id: t_layer, title: Both crossed syndromes, band: condition,
     when: [{concluded: lower_crossed_syndrome}, {concluded: upper_crossed_syndrome}],
     then: {condition: layer_syndrome, certainty: 0.7, because: b}, sources: [seed_002],
     evidence: moderate}
  - {id: t_gtps, title: Lateral hip pain in a woman, band: condition,
     when: [{lateral_hip_pain: true}, {sex: female}],
     then: {condition: greater_trochanteric_pain_syndrome, certainty: 0.4, because: b},
     sources: [seed_002], evidence: low}
  - {id: t_load, title: A jump in mileage, band: cause,
     when: [{runner: true}, {mileage_increase_pct: {gt: 10}}],
     then: {cause: training_load_error, certainty: 0.6, because: b}, sources: [seed_001],
     evidence: moderate}
  - {id: t_weak, title: Weak hip abductors behind ITBS, band: cause,
     when: [{concluded: it_band_syndrome, min_certainty: 0.5}, {weak_hip_abductors: true}],
     then: {cause: muscle_weakness, certainty: 0.6, because: b, strengthen: [gluteus_medius]},
     sources: [seed_001], evidence: moderate}
  - {id: t_sitting_advice, title: Long sitting days, band: advice,
     when: [{sitting_hours_per_day: {ge: 8}}, {low_back_pain: true}],
     then: {stretch: [iliopsoas]}, sources: [seed_000], evidence: expert_opinion}
"""


def typed(value: Any) -> str:
    """How a clinician would type a value at the prompt."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


SKIP_DETAILS = "\n\n\n"  # the console asks the patient's id, age and sex first: Enter skips each

SIDE_LETTER = {"left": "l", "right": "r", "bilateral": "b"}


def tick_line(members: tuple[Any, ...], facts: dict[str, Any],
              explicit_no: tuple[str, ...] = ()) -> str:
    """How a clinician ticks a checklist for `facts`: the items present (with a side letter),
    'no N' for absent items the checklist records as no only when told, 'skip N' for those not
    known, the rest no; 'none' and 'skip' when that is all there is."""
    present = [f"{i}{SIDE_LETTER.get(facts[f.id], '')}" for i, f in enumerate(members, 1)
               if f.id in facts and facts[f.id] is not False]
    said_no = [str(i) for i, f in enumerate(members, 1)
               if f.id in explicit_no and facts.get(f.id) is False]
    unknown = [str(i) for i, f in enumerate(members, 1) if f.id not in facts]
    if not present and not unknown:
        return "none"
    if len(unknown) == len(members):
        return "skip"
    return " ".join(present + (["no", *said_no] if said_no else [])
                    + (["skip", *unknown] if unknown else []))


def script_for(kb: KnowledgeBase, facts: dict[str, Any], thorough: bool = False,
               checklists: bool = True) -> tuple[list[str], list[str]]:
    """(lines to pipe, what each line answers): the answers an interview of `facts` needs, read
    from the facts (absent = skip, a checklist on one line), with 'y' to go on after each
    emergency banner. The second list is parallel to the first: the finding a line answers
    (a checklist's first item), '' for a 'y'."""
    from engine.inference.reasoner import Reasoner
    from engine.interview.planner import Planner
    from engine.interview.session import Session

    session = Session.start(kb, Reasoner(kb), Planner(kb, thorough=thorough, checklists=checklists))
    session.details_first = True  # as the console: id (here skipped), age and sex first
    lines: list[str] = [""]
    answers: list[str] = ["id"]
    while (detail := session.detail()) is not None:
        fid = detail.finding.id
        lines.append(typed(facts[fid]) if fid in facts else "")
        answers.append(fid)
        session.record_detail(fid, facts.get(fid))
    while (question := session.next_question()) is not None:
        fids = [f.id for f in question.findings]
        if question.members:
            spared = question.checklist.explicit_no if question.checklist else ()
            lines.append(tick_line(question.members, facts, spared))
        else:
            lines.append(typed(facts[fids[0]]) if fids[0] in facts else "skip")
        answers.append(fids[0])
        raised = session.answer_many({f: facts[f] for f in fids if f in facts},
                                     [f for f in fids if f not in facts])
        if any(item.flag.urgency == "emergency" for item in raised):
            lines.append("y")
            answers.append("")
    return lines, answers
