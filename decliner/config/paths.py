"""Where the config file and the state db are, and how a path in the config resolves.

Plain functions over the file's location and the environment, without the schema: the
validated config uses them, and so does a quiet `run --once` that has not validated it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """`$DECLINER_CONFIG`, else `$XDG_CONFIG_HOME/decliner/config.toml`."""
    env = os.environ if env is None else env
    if env.get("DECLINER_CONFIG"):
        return Path(env["DECLINER_CONFIG"])
    import platformdirs  # only when no --config is given

    return Path(platformdirs.user_config_dir("decliner")) / "config.toml"


def resolve(source: Path, value: str) -> Path:
    """A path from the config file `source`: `~` expanded, relative to the file's folder."""
    return (source.parent / Path(value).expanduser()).resolve()


def state_path(source: Path, configured: str, env: Mapping[str, str] | None = None) -> Path:
    """The state db: `[state].path` (`configured`), else systemd's StateDirectory, else the
    user state dir."""
    env = os.environ if env is None else env
    if configured:
        return resolve(source, configured)
    if state_dir := env.get("STATE_DIRECTORY"):
        return Path(state_dir.split(":")[0]) / "decliner.db"
    import platformdirs  # only when [state].path is not given

    return Path(platformdirs.user_state_dir("decliner")) / "decliner.db"
