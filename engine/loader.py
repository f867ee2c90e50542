"""Load knowledge-base folders into one `KnowledgeBase`, collecting every problem.

The shipped `kb/` is always the first layer; each `--kb DIR` adds a layer on top. A layer may
add entries and switch off shipped rules with a stated reason, but never silently replace one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import model as m
from engine import schema
from engine.errors import InputError, KBError, Location, Problem
from engine.suggest import did_you_mean
from engine.yamlsource import LineDict, YamlSyntaxError, parse_text

_HERE = Path(__file__).resolve().parent


def shipped_kb_dir() -> Path:
    """The `kb/` folder of this checkout, or the copy packed into an installed wheel."""
    for candidate in (_HERE.parent / "kb", _HERE / "_shipped_kb"):
        if candidate.is_dir():
            return candidate
    raise InputError("the shipped knowledge base folder 'kb/' is missing from this installation")


def display_path(path: Path) -> str:
    """Paths relative to the working directory when possible, as authors typed them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass
class _Collected:
    findings: dict[str, m.Finding] = field(default_factory=dict)
    conclusions: dict[str, m.Conclusion] = field(default_factory=dict)
    muscles: dict[str, m.Muscle] = field(default_factory=dict)
    recommendations: dict[str, m.Recommendation] = field(default_factory=dict)
    sources: dict[str, m.Source] = field(default_factory=dict)
    rules: dict[str, m.Rule] = field(default_factory=dict)
    tests: list[m.CaseTest] = field(default_factory=list)
    disabled: list[m.Disabled] = field(default_factory=list)
    layers: list[m.Layer] = field(default_factory=list)
    seen: dict[str, Location] = field(default_factory=dict)


def kb_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_kb(extra: tuple[str | Path, ...] = (), *, strict: bool = True) -> m.KnowledgeBase:
    """Load shipped `kb/` plus layers; raise KBError with all problems when `strict`."""
    kb, problems = load_kb_collecting(extra)
    errors = [p for p in problems if p.severity == "error"]
    if strict and errors:
        raise KBError(errors)
    return kb


def load_kb_collecting(extra: tuple[str | Path, ...] = ()) -> tuple[m.KnowledgeBase, list[Problem]]:
    """Load everything that can be loaded and return it with every problem found."""
    from engine.references import check_references

    folders = [shipped_kb_dir()]
    for raw in extra:
        folder = Path(raw)
        if not folder.is_dir():
            raise InputError(f"knowledge-base folder '{raw}' does not exist or is not a folder",
                             key="--kb")
        folders.append(folder)
    problems: list[Problem] = []
    acc = _Collected()
    order = 0
    for layer_index, folder in enumerate(folders):
        files = kb_files(folder)
        layer = m.Layer(display_path(folder), folder.name, "")
        if not files and layer_index > 0:
            problems.append(Problem(Location(display_path(folder)), "no .yaml rule files in this "
                                    "knowledge-base folder", severity="warning", code="empty_layer"))
        for path in files:
            order, meta = _load_file(path, layer_index, acc, problems, order)
            if meta is not None:
                layer = m.Layer(display_path(folder), *meta)
        acc.layers.append(layer)
    rules = _apply_disabled(acc, problems)
    kb = m.KnowledgeBase(acc.findings, acc.conclusions, acc.muscles, acc.recommendations,
                         acc.sources, tuple(rules), tuple(acc.tests), tuple(acc.disabled),
                         tuple(acc.layers))
    problems.extend(check_references(kb))
    return kb, problems


def _load_file(path: Path, layer: int, acc: _Collected, problems: list[Problem],
               order: int) -> tuple[int, tuple[str, str] | None]:
    shown = display_path(path)
    try:
        data = parse_text(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(Location(shown), "not UTF-8 text"))
        return order, None
    except YamlSyntaxError as exc:
        problems.append(Problem(Location(shown, exc.line), f"malformed YAML: {exc.reason}"))
        return order, None
    reader = schema.Reader(shown, problems)
    if data is None:
        problems.append(Problem(Location(shown), "empty file", severity="warning", code="empty_file"))
        return order, None
    if not isinstance(data, dict):
        reader.error(Location(shown, getattr(data, "line", 1)), "a knowledge-base file must be a "
                     f"mapping with sections such as 'rules:' ({', '.join(schema.SECTIONS)})")
        return order, None
    meta = None
    for section, body in data.items():
        where = reader.at(data, section)
        if section not in schema.SECTIONS:
            reader.error(where, f"unknown section '{section}'",
                         did_you_mean(section, schema.SECTIONS) or
                         f"sections: {', '.join(schema.SECTIONS)}", section)
            continue
        if section == "knowledge_base":
            meta = _read_meta(reader, body, where)
            continue
        if section == "disable" and layer == 0:
            reader.error(where, "the shipped knowledge base cannot disable rules; delete the rule "
                         "instead", key="disable")
            continue
        entries = reader.sequence(body, where, f"section '{section}'")
        for index, entry in enumerate(entries or []):
            item_at = Location(shown, entries.line_of(index))  # type: ignore[union-attr]
            if not isinstance(entry, dict):
                reader.error(item_at, f"each item of '{section}' must be a mapping (key: value lines)")
                continue
            order = _add_entry(reader, section, entry, acc, order)
    return order, meta


def _read_meta(reader: schema.Reader, body: Any, where: Location) -> tuple[str, str] | None:
    meta = reader.mapping(body, where, "'knowledge_base'")
    if meta is None:
        return None
    reader.keys(meta, ("name", "version", "description"), ("name", "version"), "'knowledge_base'")
    return reader.text(meta, "name", "'knowledge_base'", "kb"), reader.text(
        meta, "version", "'knowledge_base'", "")


def _add_entry(reader: schema.Reader, section: str, entry: LineDict, acc: _Collected,
               order: int) -> int:
    item: Any
    if section == "findings":
        item = read = schema.read_finding(reader, entry)
        target: dict[str, Any] | None = acc.findings
    elif section in ("red_flags", "conditions", "causes"):
        item = read = schema.read_conclusion(reader, entry, section[:-1] if section != "red_flags"
                                             else "red_flag")
        target = acc.conclusions
    elif section == "muscles":
        item = read = schema.read_muscle(reader, entry)
        target = acc.muscles
    elif section == "recommendations":
        item = read = schema.read_recommendation(reader, entry)
        target = acc.recommendations
    elif section == "sources":
        item = read = schema.read_source(reader, entry)
        target = acc.sources
    elif section == "rules":
        item = read = schema.read_rule(reader, entry, order)
        order += 1
        target = acc.rules
    elif section == "tests":
        read = schema.read_case_test(reader, entry)
        if read is not None:
            acc.tests.append(read)
        return order
    else:  # disable
        read = schema.read_disable(reader, entry)
        if read is not None:
            acc.disabled.append(read)
        return order
    if item is None or target is None:
        return order
    group = "conclusion" if section in ("red_flags", "conditions", "causes") else section
    key = f"{group}:{item.id}"
    if key in acc.seen:
        reader.error(item.location, f"duplicate id '{item.id}' (already defined at {acc.seen[key]})",
                     "ids must be unique across all knowledge-base folders; use 'disable:' in a "
                     "clinic layer to switch off a shipped rule", code="duplicate_id")
        return order
    acc.seen[key] = item.location
    target[item.id] = item
    return order


def _apply_disabled(acc: _Collected, problems: list[Problem]) -> list[m.Rule]:
    off = {}
    for entry in acc.disabled:
        if entry.rule not in acc.rules:
            problems.append(Problem(entry.location, f"cannot disable unknown rule '{entry.rule}'",
                                    did_you_mean(entry.rule, acc.rules), key="rule",
                                    code="unknown_reference"))
        off[entry.rule] = entry
    return [rule for rule in acc.rules.values() if rule.id not in off]
