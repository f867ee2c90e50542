"""The lint checks, one small module per check family. Every module in this package is imported
here, so a new check only needs a new `Check` subclass in a new (or existing) module."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
