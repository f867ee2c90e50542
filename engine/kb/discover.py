"""Find the knowledge-base layer that defines an id nobody loaded: the `--kb` hint.

Assessing a case that uses a clinic's own finding without `--kb` used to suggest a similar
shipped finding, which sends the author the wrong way. Before the did-you-mean, we look for a
rule-file folder near the case and the working directory that defines the id; if one does, the
message says which folder to add with `--kb`. Only the error path pays for this walk; it is
bounded in depth and in files, skips hidden folders and virtual environments, and reads files as
text (a quick line match) without loading them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import Location
from engine.kb import model as m

MAX_DEPTH = 3  # folders below each starting point
MAX_FILES = 2000
MAX_BYTES = 2_000_000
SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages"}


@dataclass(frozen=True)
class Found:
    layer: str  # the folder to pass with --kb, as the user would type it
    location: Location  # where the id is defined


def layer_defining(ident: str, starts: list[Path], loaded: list[Path]) -> Found | None:
    """The first layer folder under `starts` (not one of `loaded`) whose files define `ident`."""
    pattern = re.compile(rf"^[ \t]*-?[ \t]*\{{?[ \t]*id:[ \t]*['\"]?{re.escape(ident)}['\"]?"
                         r"[ \t]*([,}].*|#.*)?$", re.MULTILINE)  # `- id: x` or `- {id: x, ...}`
    skip = {p.resolve() for p in loaded}
    seen = 0
    for start in dict.fromkeys(p.resolve() for p in starts if p.is_dir()):
        for root, dirs, files in os.walk(start):
            here = Path(root)
            depth = len(here.relative_to(start).parts)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP
                             and depth < MAX_DEPTH and (here / d).resolve() not in skip)
            for name in sorted(files):
                if not name.endswith((".yaml", ".yml")):
                    continue
                seen += 1
                if seen > MAX_FILES:
                    return None
                path = here / name
                try:
                    if path.stat().st_size > MAX_BYTES:
                        continue
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                match = pattern.search(text)
                if match is None or not _is_kb_file(text):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                return Found(_shown(_layer_root(path.parent, start)),
                             Location(_shown(path), line))
    return None


def _is_kb_file(text: str) -> bool:
    return bool(re.search(r"^(findings|red_flags|conditions|causes|muscles|recommendations|"
                          r"rules|sources|checklists):", text, re.MULTILINE))


def _layer_root(folder: Path, start: Path) -> Path:
    """The folder holding the layer's `knowledge_base:` header, else the file's own folder."""
    for candidate in (folder, *folder.parents):
        if candidate == start.parent:
            break
        for path in candidate.glob("*.y*ml"):
            try:
                if re.search(r"^knowledge_base:", path.read_text(encoding="utf-8"), re.MULTILINE):
                    return candidate
            except (OSError, UnicodeDecodeError):
                continue
    return folder


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def layer_hint(ident: str, kb: m.KnowledgeBase, near: Path | None = None) -> str:
    """'add --kb FOLDER' when a folder near `near` (a case file's folder) or the working
    directory defines `ident` and is not loaded; '' otherwise."""
    from engine.kb.loader import shipped_kb_dir

    starts = [Path.cwd()]
    if near is not None and near.is_dir():
        starts[:0] = [near, near.resolve().parent]
    loaded = [shipped_kb_dir(), *(Path(layer.path) for layer in kb.layers)]
    found = layer_defining(ident, starts, loaded)
    if found is None:
        return ""
    return (f"'{ident}' is defined in the layer '{found.layer}' ({found.location}), which is not "
            f"loaded: add '--kb {found.layer}', or name it in imbalance.toml")
