"""The `imbalance` command's launcher: the one top-level name the wheel installs.

The checkout keeps the layout its users know (`engine/`, `reports/`, `commands/`, `clinic/`,
`cli.py`, `kb/` at the top). Installed as they are, those generic names would sit in
site-packages where another distribution's `engine` or `cli` could overwrite them, or ours
theirs. So the wheel puts the unchanged tree under `imbalance_kb/app/` (byte for byte the code
that was tested; docs/PACKAGING.md weighs the alternatives) and this launcher puts that folder
at the front of `sys.path` only inside the `imbalance` process. In a development checkout
(editable install) there is no `app/` folder and the checkout root is already importable.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

APP = Path(__file__).resolve().parent / "app"

# experta 1.9.4 pins frozendict==1.2, which imports `collections.Mapping` and so fails on
# Python 3.10+. uv's override-dependencies (pyproject.toml) lifts the pin; plain pip cannot.
OLD_FROZENDICT = ("error: frozendict {version} is installed (experta's pin), which does not work on "
                  "Python 3.10+ (install with uv: 'uv tool install imbalance-kb', or 'uv pip install "
                  "--override' with frozendict>=2.4 and schema>=0.7; see docs/PACKAGING.md)")


def main() -> None:
    try:
        version = metadata.version("frozendict")
    except metadata.PackageNotFoundError:
        version = ""
    if version.split(".")[0] in ("0", "1"):
        print(OLD_FROZENDICT.format(version=version), file=sys.stderr)
        raise SystemExit(2)
    if APP.is_dir() and str(APP) not in sys.path:
        sys.path.insert(0, str(APP))
    from cli import main as cli_main

    cli_main()
