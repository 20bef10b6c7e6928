"""`make screenshots` works: its code runs on a fresh demo sandbox and writes one PNG per
main page (the pixels are never compared: dates change with every run)."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.testbed import screenshots
from tests.testbed.browser import require_browser


def test_the_screenshot_target_writes_a_png_of_each_page(tmp_path: Path) -> None:
    """Each main page is photographed at the set width into its own PNG file."""
    require_browser()
    shots = screenshots.take(tmp_path / "shots", tmp_path / "work")
    assert [p.name for p in shots] == [f"web-{name}.png" for name in screenshots.PAGES]
    for shot in shots:
        head = shot.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", shot
        width, height = struct.unpack(">II", head[16:24])
        assert width == screenshots.WIDTH
        assert height >= 600
