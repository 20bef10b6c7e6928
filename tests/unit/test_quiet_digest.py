"""What a seal knows a config by: the same bytes at the same place give the same digest;
another byte, another place or other rules (a config module rewritten) another."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from decliner.config import paths
from decliner.service.quiet_pass import digest


def test_the_digest_follows_the_bytes_the_place_and_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(Path(paths.__file__).parent, rules)  # copy2 keeps sizes and mtimes
    text = '[account]\nemail = "jane@example.com"\n'
    here, there = tmp_path / "a" / "config.toml", tmp_path / "b" / "config.toml"
    first = digest(text, here, rules)
    assert digest(text, here, rules) == first
    assert digest(text + "# edited\n", here, rules) != first
    assert digest(text, there, rules) != first
    schema = rules / "schema.py"
    stat = schema.stat()
    os.utime(schema, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert digest(text, here, rules) != first
