"""A value reads the same in every output: '9 hours per day', never '9.0 hours per day'."""

from __future__ import annotations

from engine.kb import model as m
from engine.wording import answer_text, finding_phrase, show_value


def test_a_whole_number_reads_without_a_decimal_point(kb: m.KnowledgeBase) -> None:
    finding = kb.findings["sitting_hours_per_day"]
    assert finding_phrase(kb, finding.id, 9.0) == "Sitting time: 9 hours per day"
    assert finding_phrase(kb, finding.id, 9) == finding_phrase(kb, finding.id, 9.0)
    assert finding_phrase(kb, finding.id, 7.5) == "Sitting time: 7.5 hours per day"
    assert "9.0" not in answer_text(finding, 9.0)


def test_yes_and_no(kb: m.KnowledgeBase) -> None:
    assert (show_value(True), show_value(False), show_value("left")) == ("yes", "no", "left")


def test_one_of_a_unit_is_singular(kb: m.KnowledgeBase) -> None:
    weeks = next(f for f in kb.findings.values() if f.type == "number" and f.unit == "weeks")
    assert answer_text(weeks, 1) == "1 week"
    assert answer_text(weeks, 1.0) == "1 week"
    assert answer_text(weeks, 2) == "2 weeks"
    assert finding_phrase(kb, weeks.id, 1).endswith(": 1 week")


def test_no_other_module_phrases_values() -> None:
    """The one-wording rule, checked: nobody else defines these phrasing helpers."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    names = {"show_value", "answer_text", "finding_phrase", "test_phrase", "cond_phrase",
             "OP_WORDS", "COMPARE_WORDS", "describe_test", "test_words"}
    owners: dict[str, list[str]] = {}
    for path in [*root.glob("engine/**/*.py"), *root.glob("reports/**/*.py"),
                 *root.glob("clinic/**/*.py"), *root.glob("commands/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else [
                t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
            for name in targets:
                if name in names:
                    owners.setdefault(name, []).append(str(path.relative_to(root)))
    assert {name: where for name, where in owners.items() if where != ["engine/wording.py"]} == {}


def test_an_earlier_conclusion_in_the_evidence_reads_as_its_label(kb: m.KnowledgeBase) -> None:
    """Evidence lists mix findings and conclusions (a `concluded:` premise): no id, no 'None'."""
    assert finding_phrase(kb, "it_band_syndrome", None) == "Iliotibial band syndrome suggested"
