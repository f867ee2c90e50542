"""The imbalance engine. `__version__` is the tool's version (pyproject.toml's; a test keeps the
two equal), read where importing importlib.metadata would cost more than the work itself."""

__version__ = "0.1.0"
