"""Finding and reading the config file, with every problem reported at once.

Each problem is one line, `FILE: [section].key: what is wrong`, in the file's section
order. Field-level problems are pydantic's; rules that span keys are checked on the raw
document (`validation.py`), so they are reported even when other keys are broken.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from decliner.config import oauth2, validation
from decliner.config.paths import default_path
from decliner.config.schema import Config
from decliner.errors import ConfigError, UserError


def load(path: Path | None = None) -> Config:
    """Read and validate the config file; raise ConfigError listing every problem."""
    path = path or default_path()
    return parse(read(path), path)


def read(path: Path) -> str:
    """The config file's text, or a UserError saying why it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{path}: no such config file (write one with `decliner init {path}`)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read config file: {exc}") from None


def parse(text: str, path: Path) -> Config:
    """Validate TOML text as a config; `path` names it in errors and anchors relative paths."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    found = [*validation.cross_key_problems(raw), *oauth2.problems(raw)]
    if "source" in raw:
        found.append(("[source]", "unknown section"))
    try:
        config = Config.model_validate({**raw, "source": path})
    except ValidationError as exc:
        found += validation.field_problems(exc)
    if found:
        ordered = sorted(set(found), key=validation.file_order)
        raise ConfigError([f"{path}: {where}: {what}" for where, what in ordered])
    return config
