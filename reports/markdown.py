"""`assess --format markdown`: the HTML report's content as markdown, from the same document.

Markdown is often pasted into notes that are later shown as HTML, so every piece of free text
(patient fields, KB wording) is escaped: `<script>` stays text and `*`, `_` or `|` cannot change
the formatting or break a table.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import one_line
from engine.inference.assessment import Assessment
from engine.inference.reasoner import Reasoner, reasoner_for
from reports.document import (
    ConclusionItem,
    HowItem,
    ReportDocument,
    RuleRef,
    build_document,
    report_time,
)

Add = Callable[[str], None]

_ESCAPE = {"\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "<": "&lt;",
           ">": "&gt;", "&": "&amp;", "|": "\\|", "#": "\\#"}


def md(text: object) -> str:
    """Free text made inert in markdown (and in the HTML a markdown viewer makes of it)."""
    return "".join(_ESCAPE.get(ch, ch) for ch in one_line(" ".join(str(text).split())))


def code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _refs(numbers: tuple[int, ...]) -> str:
    return f" [{', '.join(str(n) for n in numbers)}]" if numbers else ""


def _rule(rule: RuleRef) -> str:
    return f"{md(rule.title)} ({code(rule.id)}){_refs(rule.refs)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _bar(percent: int, width: int = 10) -> str:
    filled = round(percent / 100 * width)
    return "▰" * filled + "▱" * (width - filled)


def render_markdown(result: Assessment, reasoner: Reasoner | None = None,
                    generated: str | None = None) -> str:
    """The assessment as markdown (timestamp from SOURCE_DATE_EPOCH or now)."""
    reasoner = reasoner or reasoner_for(result.kb)
    return render_document(build_document(result, reasoner, generated or report_time()))


def render_document(doc: ReportDocument) -> str:
    out: list[str] = []
    add = out.append
    s = doc.summary
    if doc.red_flags:
        add(f"> **{md(s.headline)}.**")
        for flag in s.red_flags:
            add(">")
            add(f"> **{flag.urgency.upper()}: {md(flag.label)}**  ")
            add(f"> Do now: {md(flag.action)}  ")
            add(f"> Because: {md('; '.join(flag.because))}")
        add("")
    add(f"# {md(doc.title)}")
    add("")
    add(f"**Triage: {doc.triage.upper()}**: {md(doc.triage_text.split(': ', 1)[-1])}")
    add("")
    for note in doc.notices:
        add(f"> **{md(note)}**")
        add("")
    meta = [f"{md(k)}: {md(v)}" for k, v in doc.patient]
    meta += [f"Generated: {md(doc.generated)}", f"Knowledge base: {md(doc.kb_version)}"]
    add(" · ".join(meta))
    add("")
    if doc.risk_group:
        add(f"**{md(doc.risk_group)}**")
        add("")
    add("*Supports clinical judgement; it does not diagnose.*")
    add("")
    add("## Conditions to consider")
    add("")
    for c in s.conditions:
        side = f", {c.side}" if c.side else ""
        add(f"- **{md(c.label)}**{md(side)}: {c.certainty:.2f} ({c.word})")
    if not s.conditions:
        add("No condition is suggested by the findings given.")
    add("")
    add("## Plan")
    add("")
    for i, step in enumerate(s.plan, 1):
        tags = "".join(f"*{md(tag)}* · " for tag in (step.side, step.phase) if tag)
        if step.referral and step.flag:
            text = f"**{md(step.flag)}: act on “Do now” above.**"
        else:
            text = f"**{md(step.text)}**" if step.referral else md(step.text)
        add(f"{i}. {tags}{text}")
    add("")
    if s.avoid:
        add(f"**Avoid for now:** {md('; '.join(s.avoid))}.")
        add("")
    add(f"**{md(s.review_head)}:** {md(s.review_why)}")
    add("")
    add("---")
    add("")
    meta = [f"{md(k)}: {md(v)}" for k, v in doc.patient]
    add("## Patient and findings")
    add("")
    if meta:
        add(" · ".join(meta))
        add("")
    if doc.description:
        add(md(doc.description))
        add("")
    add(f"Case file: {code(doc.case_name)}")
    add("")
    if doc.findings:
        add("| Finding given | Answer | Kind | In reasoning |")
        add("|---|---|---|---|")
        for group in doc.findings:
            for row in group.rows:
                used = "used" if row.used else "-"
                add(f"| {md(row.label)} | {md(row.value)} | {md(group.name)} | {used} |")
        add("")
    else:
        add("No findings were given.")
        add("")
    if doc.unknowns:
        add("**Not asked, but relevant:**")
        add("")
        for u in doc.unknowns:
            tag = " (red-flag screen)" if u.screening else ""
            add(f"- **{md(u.label)}**{tag}: {md(u.question)} Needed for: {md('; '.join(u.needed_for))}.")
        add("")

    add("## All conditions, with their evidence")
    add("")
    add("*Certainty (0 to 1) is the support the findings give each hypothesis, combined across "
        "rules. It is not a probability of disease; confirm by examination.*")
    add("")
    _conclusions(add, doc.conditions, "No condition is suggested by the findings given.")

    add("## Likely causes of imbalance")
    add("")
    _conclusions(add, doc.causes, "No cause is suggested by the findings given.")

    add("## Muscles to stretch and to strengthen")
    add("")
    if doc.red_flags and doc.muscles:
        add("*Only once the red flags above have been assessed and excluded.*")
        add("")
    if doc.muscles:
        add("| Muscle | Region | Action | Indicated by |")
        add("|---|---|---|---|")
        for muscle in doc.muscles:
            reasons = md("; ".join(muscle.reasons))
            add(f"| {md(muscle.label)} | {md(muscle.region or '-')} | {muscle.action} | {reasons} |")
    else:
        add("No muscle work is indicated by the findings given.")
    add("")

    add("## Recommendations by phase")
    add("")
    if doc.recommendations:
        phase: str | None = None
        for advice in doc.recommendations:
            if advice.phase_label != phase:
                phase = advice.phase_label
                add(f"**{md(phase)}**")
                add("")
            text = f"**{md(advice.text)}**" if advice.referral else md(advice.text)
            side = f"*{md(advice.side)}* · " if advice.side else ""
            why = ""
            if advice.reasons and not advice.referral:
                why = f" *For: {md('; '.join(advice.reasons))}.*"
            avoid = f" Avoid: {md(advice.avoid)}." if advice.avoid else ""
            add(f"- {side}{text}{_refs(advice.refs)}{avoid}{why}")
        add("")
    else:
        add("No specific recommendation.")
        add("")

    add("## Reasoning graph")
    add("")
    summary = doc.graph_summary
    add(f"{_plural(summary.findings, 'finding')}, {_plural(summary.firings, 'rule firing')} and "
        f"{_plural(summary.conclusions, 'conclusion')}, in firing order (premises → rule → conclusion):")
    add("")
    for firing in doc.firings:
        target = (f" → **{md(firing.concludes)}** ({firing.contribution:+.2f})" if firing.concludes
                  else " (advice)")
        path = " *(red-flag path)*" if firing.red else ""
        add(f"- {md('; '.join(firing.premises))} → {_rule(firing.rule)}{target}{path}")
    if not doc.firings:
        add("No rule fired for the findings given.")
    add("")

    add("## How each conclusion was reached")
    add("")
    for item in doc.hows:
        _how(add, item)
    if not doc.hows:
        add("Nothing was concluded.")
        add("")

    if doc.why_nots or doc.lowered:
        add("## Why not: the nearest misses")
        add("")
        for label, rules in doc.lowered:
            add(f"- **{md(label)}**: not reached, because evidence against outweighed the support: "
                + "; ".join(_rule(r) for r in rules))
        if doc.lowered:
            add("")
        for near in doc.why_nots:
            kind = " (red flag)" if near.kind == "red_flag" else ""
            add(f"### {md(near.label)}{kind}: {md(near.summary)}")
            add("")
            for miss in near.misses:
                add(f"- {_rule(miss.rule)}: {md(miss.summary)}")
                for p in miss.premises:
                    note = f" ({md(p.note)})" if p.note else ""
                    add(f"  - *{p.status_word}*: {md(p.text)}{note}")
            add("")

    add("## What if: questions worth asking")
    add("")
    if doc.what_ifs:
        for w in doc.what_ifs:
            add(f"- **Asking about {md(w.finding)}** (if {md(w.answer)}) could change: "
                f"{md('; '.join(w.changes))}. *{md(w.question)}*")
    else:
        add("No single unanswered question would change the triage or add a condition.")
    add("")

    add("## References")
    add("")
    for ref in doc.references:
        level = f" *({ref.level.replace('_', ' ')})*" if ref.level else ""
        add(f"{ref.number}. {md(ref.citation)}{level}")
    if not doc.references:
        add("No sources cited.")
    add("")

    add("## About this report")
    add("")
    add(f"- Knowledge base: {md(doc.kb_version)}")
    add(f"- Rules fired: {doc.fired_count}")
    add(f"- Generated: {md(doc.generated)}")
    if doc.disabled:
        for rule, reason in doc.disabled:
            add(f"- Disabled rule {code(rule)}: {md(reason)}")
    else:
        add("- Disabled rules: none")
    add("")
    add(f"**Disclaimer.** {md(doc.disclaimer)} Certainty values express support for a hypothesis, "
        "not the probability of disease. Unanswered questions are treated as unknown, never as absent.")
    return "\n".join(out) + "\n"


def _conclusions(add: Add, items: tuple[ConclusionItem, ...], empty: str) -> None:
    if not items:
        add(empty)
        add("")
        return
    add("| | Certainty | Support | Evidence | Rules |")
    add("|---|---|---|---|---|")
    for c in items:
        rules = "; ".join(code(r.id) + _refs(r.refs) for r in c.rules)
        evidence = "; ".join(c.evidence) if c.evidence else "earlier conclusions"
        add(f"| **{md(c.label)}** | {c.certainty:.2f} {_bar(c.percent)} | {c.word} | {md(evidence)} "
            f"| {rules} |")
    add("")


def _how(add: Add, item: HowItem) -> None:
    urgency = f"{item.urgency.upper()}, " if item.kind == "red_flag" else ""
    add(f"### {md(item.label)} ({urgency}{item.certainty:.2f}, {item.word})")
    add("")
    for i, step in enumerate(item.steps, 1):
        add(f"{i}. {_rule(step.rule)}")
        if step.because:
            add(f"   - because: *{md(step.because)}*")
        if step.findings:
            add(f"   - given: {md('; '.join(step.findings))}")
        for used, cf in step.used:
            add(f"   - uses: {md(used.label)} (certainty {cf:.2f}; see its own section)")
        combined = ""
        if step.contribution != step.certainty_after:
            combined = f"; combined so far {step.certainty_after:.2f}"
        add(f"   - {step.rule_certainty:.2f} \N{MULTIPLICATION SIGN} {step.premise_cf:.2f} = "
            f"**{step.contribution:+.2f}**{combined}")
    add("")
