"""Load knowledge-base folders into one `KnowledgeBase`, collecting every problem.

The shipped `kb/` is always the first layer; each `--kb DIR` adds a layer on top. A layer may
add entries and switch off an earlier layer's rule or checklist with a stated reason
(`disable:`), but never silently replace one: a repeated id is an error that points at both
places. Lint and `kb show`
need the definitions of switched-off rules too, so `load_layers` returns them beside the KB.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.errors import InputError, KBError, Location, Problem
from engine.kb import model as m
from engine.kb.lines import LineDict
from engine.kb.suggest import did_you_mean
from engine.record import Record, replace

if TYPE_CHECKING:  # the schema and YAML are imported where files are read: a cache hit reads none
    from engine.kb import schema

_ENGINE = Path(__file__).resolve().parent.parent  # engine/, beside the checkout's kb/
MAX_FILE_BYTES = 2_000_000  # a rule file this large is a mistake (a data dump), not rules


def shipped_kb_dir() -> Path:
    """The `kb/` folder of this checkout, or the copy packed into an installed wheel."""
    for candidate in (_ENGINE.parent / "kb", _ENGINE / "_shipped_kb"):
        if candidate.is_dir():
            return candidate
    raise InputError("the shipped knowledge base folder 'kb/' is missing from this installation")


def display_path(path: Path) -> str:
    """Paths relative to the working directory when possible, as authors typed them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Collected:
    """What the files of every layer define so far, by id, before it becomes the model."""

    def __init__(self) -> None:
        self.findings: dict[str, m.Finding] = {}
        self.conclusions: dict[str, m.Conclusion] = {}
        self.muscles: dict[str, m.Muscle] = {}
        self.recommendations: dict[str, m.Recommendation] = {}
        self.sources: dict[str, m.Source] = {}
        self.rules: dict[str, m.Rule] = {}
        self.checklists: dict[str, m.Checklist] = {}
        self.tests: list[m.CaseTest] = []
        self.disabled: list[m.Disabled] = []
        self.layers: list[m.Layer] = []
        self.seen: dict[str, Location] = {}
        self.meta_at: Location | None = None


class Loaded(Record):
    """Everything a load produced: the KB, every problem, and the definitions of the rules a
    layer switched off (keyed by rule id), which the KB itself no longer holds."""

    kb: m.KnowledgeBase
    problems: tuple[Problem, ...]
    disabled_rules: dict[str, m.Rule]
    files: tuple[str, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def kb_files(folder: Path) -> list[Path]:
    """The .yaml/.yml files under `folder`, in path order (folder by folder, as Path sorts);
    hidden files and folders are skipped, linked folders are not entered, a link to a file
    counts; a folder that cannot be listed is an InputError. os.scandir, whose entries know
    their type without a stat, and Path objects made only for the result: every start lists
    kb/, and this is 2x faster than os.walk and 14x faster than Path.rglob."""
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(path: str, parts: tuple[str, ...]) -> None:
        try:
            listing = os.scandir(path)
        except OSError as exc:  # rules that cannot be read must not go missing without a word
            raise InputError(f"cannot list the knowledge-base folder '{path}': "
                             f"{exc.strerror or exc}", key="--kb",
                             suggestion="check the folder's permissions") from None
        with listing as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, (*parts, name))
                elif name.endswith((".yaml", ".yml")) and entry.is_file():
                    found.append(((*parts, name), entry.path))

    walk(os.fspath(folder), ())
    found.sort()
    return [Path(path) for _, path in found]


def load_kb(extra: tuple[str | Path, ...] = (), *, strict: bool = True) -> m.KnowledgeBase:
    """Load shipped `kb/` plus layers; raise KBError with all problems when `strict`."""
    kb, problems = load_kb_collecting(extra)
    errors = [p for p in problems if p.severity == "error"]
    if strict and errors:
        raise KBError(errors)
    return kb


def load_kb_collecting(extra: tuple[str | Path, ...] = ()) -> tuple[m.KnowledgeBase, list[Problem]]:
    """Load everything that can be loaded and return it with every problem found."""
    loaded = load_layers((shipped_kb_dir(), *extra))
    return loaded.kb, list(loaded.problems)


def load_layers(folders: Sequence[str | Path]) -> Loaded:
    """Load `folders` in order, the first one as the base layer (normally the shipped `kb/`).

    Raises InputError only for a folder that does not exist (bad usage); every problem inside
    the files is collected and returned. The result comes from the on-disk cache
    (`engine.kb.cache`) while no file it was made from has changed.
    """
    paths: list[Path] = []
    seen: dict[Path, str] = {}
    for raw in folders:
        folder = Path(raw)
        if not folder.is_dir():
            raise InputError(f"knowledge-base folder '{raw}' does not exist or is not a folder",
                             key="--kb")
        real = folder.resolve()
        if real in seen:
            raise InputError(f"knowledge-base folder '{raw}' is given twice (also as '{seen[real]}')",
                             key="--kb", suggestion="give each folder once")
        seen[real] = str(raw)
        paths.append(folder)
    listed = [(folder, kb_files(folder)) for folder in paths]
    from engine.kb.cache import cached

    kb, problems, switched_off, shown = cached(
        paths, [path for _, files in listed for path in files], lambda: _load_listed(listed))
    return Loaded(kb, problems, switched_off, shown)


def _load_listed(listed: list[tuple[Path, list[Path]]]) -> tuple[
        m.KnowledgeBase, tuple[Problem, ...], dict[str, m.Rule], tuple[str, ...]]:
    """Read and check every listed file of every layer (what the cache keeps)."""
    from engine.kb.references import check_references

    problems: list[Problem] = []
    acc = _Collected()
    order = 0
    shown_files: list[str] = []
    for layer_index, (folder, files) in enumerate(listed):
        layer = m.Layer(display_path(folder), folder.name, "")
        acc.meta_at = None
        if not files and layer_index > 0:
            problems.append(Problem(Location(display_path(folder)), "no .yaml rule files in this "
                                    "knowledge-base folder", "rule files end in .yaml",
                                    severity="warning", code="empty_layer"))
        for path in files:
            shown_files.append(display_path(path))
            order, meta = _load_file(path, layer_index, acc, problems, order, layer.path)
            if meta is not None:
                layer = m.Layer(display_path(folder), *meta)
        acc.layers.append(layer)
    rules, switched_off = _apply_disabled(acc, problems)
    # a switched-off red-flag rule is named in every output, with the flag it concluded
    disabled_rules = tuple(
        replace(d, red_flag=switched_off[d.rule].concludes)
        if d.rule in switched_off and switched_off[d.rule].kind == "red_flag" else d
        for d in acc.disabled if d.kind == "rule")
    kb = m.KnowledgeBase(acc.findings, acc.conclusions, acc.muscles, acc.recommendations,
                         acc.sources, tuple(rules), tuple(acc.tests), disabled_rules,
                         tuple(acc.layers), checklists=acc.checklists)
    problems.extend(check_references(kb))
    return kb, tuple(problems), switched_off, tuple(shown_files)


@lru_cache(maxsize=256)
def parsed(text: str) -> Any:
    """The parsed tree of one file's text, parsed once per process.

    A process can load the same files more than once: `kb diff` loads both sides, which share
    most files; a clinic or a batch given `--kb` loads the shipped KB under each layer set; the
    test suite loads the shipped KB under hundreds of small layers, where the on-disk cache
    (one entry per layer set) misses. Parsing is most of a load, and the tree is only read
    (the schema builds model objects from it), so it is kept, keyed by the text itself:
    an edited file is new text and is parsed again. A syntax error is raised, not kept."""
    from engine.kb.yamlsource import parse_text

    return parse_text(text)


def _load_file(path: Path, layer: int, acc: _Collected, problems: list[Problem],
               order: int, layer_path: str) -> tuple[int, tuple[str, str] | None]:
    from engine.kb import schema
    from engine.kb.yamlsource import YamlSyntaxError

    shown = display_path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(Location(shown), f"file is larger than {MAX_FILE_BYTES:,} bytes; "
                                    "a rule file holds a few hundred entries at most",
                                    "split it into several files"))
            return order, None
        data = parsed(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(Location(shown), "not UTF-8 text", "save the file as UTF-8",
                                code="yaml"))
        return order, None
    except OSError as exc:
        problems.append(Problem(Location(shown), f"cannot read the file: {exc.strerror}"))
        return order, None
    except YamlSyntaxError as exc:
        problems.append(Problem(Location(shown, exc.line), exc.describe(),
                                code="yaml"))
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
            if acc.meta_at is not None:
                reader.error(where, "'knowledge_base' is given twice in one folder (also at "
                             f"{acc.meta_at})", "keep one 'knowledge_base:' section per folder",
                             "knowledge_base", "duplicate_id")
                continue
            acc.meta_at = where
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
            order = _add_entry(reader, section, cast(LineDict, entry), acc, order, layer_path)
    return order, meta


def _read_meta(reader: schema.Reader, body: Any, where: Location) -> tuple[str, str] | None:
    from engine.kb import schema

    meta = reader.mapping(body, where, "'knowledge_base'")
    if meta is None:
        return None
    reader.keys(meta, schema.META_KEYS, ("name", "version"), "'knowledge_base'")
    return reader.text(meta, "name", "'knowledge_base'", "kb"), reader.text(
        meta, "version", "'knowledge_base'", "")


def _add_entry(reader: schema.Reader, section: str, entry: LineDict, acc: _Collected,
               order: int, layer_path: str) -> int:
    from engine.kb import schema

    item: Any
    read: Any
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
    elif section == "checklists":
        item = read = schema.read_checklist(reader, entry)
        if item is not None:
            item = replace(item, layer=layer_path)
        target = acc.checklists
    elif section == "rules":
        item = read = schema.read_rule(reader, entry, order)
        if item is not None:
            item = replace(item, layer=layer_path)
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
        what = {"conclusion": "conclusion", "findings": "finding", "muscles": "muscle",
                "recommendations": "recommendation", "sources": "source", "rules": "rule",
                "checklists": "checklist"}[group]
        hint = ("ids must be unique across all knowledge-base folders; to replace a shipped rule, "
                f"switch it off with 'disable: [{{rule: {item.id}, reason: ...}}]' and add yours "
                "under a new id") if group == "rules" else (
                "ids must be unique across all knowledge-base folders; choose a new id")
        reader.error(item.location, f"duplicate id '{item.id}': a {what} with this id is already "
                     f"defined at {acc.seen[key]}", hint, "id", code="duplicate_id")
        return order
    acc.seen[key] = item.location
    target[item.id] = item
    return order


def _apply_disabled(acc: _Collected, problems: list[Problem]) -> tuple[list[m.Rule], dict[str, m.Rule]]:
    """Switch off the rules and checklists named under `disable:`; an entry can only be switched
    off by a later layer than its own, once, and must exist. Returns the rules kept and those
    switched off; switched-off checklists simply leave `acc.checklists`."""
    off: dict[tuple[str, str], m.Disabled] = {}
    for entry in acc.disabled:
        pool: dict[str, Any] = acc.rules if entry.kind == "rule" else acc.checklists
        item = pool.get(entry.rule)
        if item is None:
            problems.append(Problem(entry.location, f"cannot disable unknown {entry.kind} "
                                    f"'{entry.rule}'", did_you_mean(entry.rule, pool), key=entry.kind,
                                    code="unknown_reference"))
            continue
        key = (entry.kind, entry.rule)
        if key in off:
            problems.append(Problem(entry.location, f"{entry.kind} '{entry.rule}' is already "
                                    f"disabled at {off[key].location}", f"disable a {entry.kind} once",
                                    key=entry.kind, code="duplicate_id"))
            continue
        here = entry.location.path
        if item.layer and (here == item.layer or here.startswith(item.layer.rstrip("/") + "/")):
            problems.append(Problem(entry.location, f"{entry.kind} '{entry.rule}' is defined in this "
                                    f"same folder ({item.location}); delete it instead of disabling it",
                                    key=entry.kind, code="schema"))
            continue
        off[key] = entry
    for kind, ident in off:
        if kind == "checklist":
            del acc.checklists[ident]
    kept = [rule for rule in acc.rules.values() if ("rule", rule.id) not in off]
    return kept, {rid: acc.rules[rid] for kind, rid in off if kind == "rule"}
