"""PNG screenshots of the review page's main pages, for README (`make screenshots`).

Runs `decliner demo` into a work directory, gives the sandbox a 5-minute grace and flags
its Initech interview (through `flagging.flag`, as `decliner flag` does) so the countdown
and undo show, serves the page on the sandbox and photographs each page in headless
Chromium. `make test` runs this into a temp dir and checks the files are PNGs; the
pixels are never compared (dates and times change with every run).

    python -m tests.testbed.screenshots [DIR]     # default: docs/screenshots
"""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from selenium.webdriver.common.by import By

from decliner import config as cfg
from decliner.cli import demo
from decliner.service import flagging, listing, wiring
from tests.testbed.browser import chromium
from tests.testbed.wait import wait_until
from tests.testbed.webpage import served

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1280
PAGES = ("invitations", "invitation", "threads", "attention")


def take(target: Path, work: Path) -> list[Path]:
    """The PNGs of the main pages on a fresh demo sandbox in `work`, written to `target`."""
    sandbox = work / "sandbox"
    items = list(demo.run(sandbox, followup_delay=timedelta(seconds=1), keep=True))
    assert any(isinstance(i, demo.Commands) for i in items)
    config_path = sandbox / "config.toml"
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(re.sub(r'(?m)^grace = "0"', 'grace = "5m"', text), encoding="utf-8")
    config = cfg.load(config_path)
    with wiring.open_store(config) as store:
        initech = next(
            v.event.id
            for v in listing.invites(config, store, wiring.utcnow(), include_past=False)
            if "initech" in (v.recipient_email or "")
        )
        flagging.flag(config, store, initech, reason="I have accepted another offer.")
    target.mkdir(parents=True, exist_ok=True)
    shots = []
    with served(config) as page, chromium(work / "profile") as driver:
        driver.get(f"http://{page.host}/login?ticket={page.ticket()}")
        wait_until(lambda: driver.current_url == f"http://{page.host}/", "the ticket-less URL")
        paths = {
            "invitations": "/",
            "invitation": f"/invite/{initech}",
            "threads": "/threads",
            "attention": "/attention",
        }
        for name in PAGES:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            driver.get(f"http://{page.host}{paths[name]}")
            driver.find_element(By.TAG_NAME, "main")
            if name == "invitation":
                wait_until(
                    lambda: (
                        " s left" in driver.find_element(By.CSS_SELECTOR, "[data-grace-ends]").text
                    ),
                    "the countdown",
                )
            height = int(driver.execute_script("return document.documentElement.scrollHeight"))
            metrics = {"width": WIDTH, "height": min(max(height, 600), 4000)}
            # The whole page in the viewport (a window's size includes what is not page).
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {**metrics, "deviceScaleFactor": 1, "mobile": False},
            )
            shot = target / f"web-{name}.png"
            driver.save_screenshot(str(shot))
            shots.append(shot)
    return shots


def main() -> None:
    """Write the screenshots to the directory named (default docs/screenshots)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    with tempfile.TemporaryDirectory(prefix="decliner-shots-") as work:
        for shot in take(target, Path(work)):
            print(shot)


if __name__ == "__main__":
    main()
