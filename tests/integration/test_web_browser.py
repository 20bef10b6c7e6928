"""The review page in a real browser (headless Chromium) over the real test bed (Dovecot,
aiosmtpd): list, open, flag, watch the countdown, undo before the grace ends (nothing is
sent), flag again, and after a pass see the letter gone out and its thread; driven from
the keyboard, with axe-core checking labels, names and contrast on every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from decliner.config import Config
from tests.testbed import axe
from tests.testbed.browser import chromium, require_browser
from tests.testbed.wait import wait_until
from tests.testbed.webpage import Served, served
from tests.testbed.world import Clock, World, outbox, run_pass

pytestmark = pytest.mark.servers


def shown(driver: webdriver.Chrome, selector: str) -> str:
    """The text of the element at `selector`; "" while a form's answer replaces the page
    (the element just found may belong to the page going away), so a wait polls again."""
    try:
        return str(driver.find_element(By.CSS_SELECTOR, selector).text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def text(driver: webdriver.Chrome) -> str:
    return shown(driver, "main")


def assert_accessible(driver: webdriver.Chrome) -> None:
    found = axe.violations(driver)
    assert found == [], f"{driver.current_url}: {found}"


def tab_to(driver: webdriver.Chrome, element: WebElement, limit: int = 60) -> None:
    """Press Tab (from where the focus is, or the top of a page just loaded) until
    `element` has the focus: the page is usable from the keyboard."""
    for _ in range(limit):
        webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element == element:
            return
    raise AssertionError(f"Tab never reached {element.tag_name} {element.text!r}")


def flag_from_the_keyboard(driver: webdriver.Chrome, reason: str) -> None:
    field = driver.find_element(By.ID, "reason")
    tab_to(driver, field)
    webdriver.ActionChains(driver).send_keys(reason).perform()
    button = driver.find_element(By.CSS_SELECTOR, "form.flag button")
    tab_to(driver, button)
    webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait_until(lambda: "Flagged." in text(driver), "the page to say the event is flagged")


def unstamped(message: str) -> str:
    """A previewed message without what each rendering makes anew (Date, Message-ID)."""
    lines = message.strip().splitlines()
    return "\n".join(line for line in lines if not line.startswith(("Date: ", "Message-ID: ")))


def countdown(driver: webdriver.Chrome) -> str:
    return shown(driver, "[data-grace-ends]")


def withdrawal_state(config: Config) -> str | None:
    return next((r.state for r in outbox(config) if r.kind == "withdrawal"), None)


def test_review_flag_undo_flag_and_the_thread(world: World, tmp_path: Path) -> None:
    """The whole review in the browser, keyboard only for the actions, over Dovecot and SMTP."""
    require_browser()
    config = world.config(grace="5m")
    world.invite("web-browser@google.com", flagged=False)
    run_pass(config, Clock(datetime.now(UTC)))
    with served(config) as page, chromium(tmp_path / "profile") as driver:
        driver.get(f"http://{page.host}/login?ticket={page.ticket()}")
        wait_until(lambda: driver.current_url == f"http://{page.host}/", "the ticket-less URL")
        assert world.sam.address in text(driver)
        assert_accessible(driver)

        link = driver.find_element(By.CSS_SELECTOR, "tbody th a")
        tab_to(driver, link)
        webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
        wait_until(lambda: "/invite/" in driver.current_url, "the invitation to open")
        # textContent, not .text: Selenium turns the letter's no-break spaces into spaces.
        letter = str(
            driver.find_element(By.CSS_SELECTOR, "pre.letter").get_attribute("textContent")
        )
        assert f"To: Sam <{world.sam.address}>" in letter
        assert "DECLINED" in letter
        event = driver.current_url.rsplit("/", 1)[1]
        previewed = world.cli("preview", event)
        assert previewed.exit_code == 0, previewed.output
        assert unstamped(letter) == unstamped(previewed.stdout)  # as `preview` renders it
        assert f"Sam <{world.sam.address}> (from the organizer)" in text(driver)
        assert_accessible(driver)

        flag_from_the_keyboard(driver, "I have accepted another offer.")
        wait_until(lambda: " s left" in countdown(driver), "the countdown to run")
        first = countdown(driver)
        wait_until(lambda: countdown(driver) != first, "the countdown to move")
        assert re.fullmatch(r"[45] min \d\d s left", countdown(driver)), countdown(driver)
        run_pass(config, Clock(datetime.now(UTC)))  # the daemon schedules it in its grace
        assert withdrawal_state(config) == "scheduled"
        invite_url = driver.current_url.split("?")[0]
        driver.get(f"http://{page.host}/")  # the list shows it going out, with a way to undo
        wait_until(lambda: " s left" in countdown(driver), "the list's countdown")
        assert_accessible(driver)
        driver.get(invite_url)
        assert_accessible(driver)

        undo = driver.find_element(By.CSS_SELECTOR, "button.undo")
        tab_to(driver, undo)
        webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
        wait_until(
            lambda: "Unflagged: nothing will be sent." in text(driver), "the undo to be confirmed"
        )
        assert driver.find_elements(By.CSS_SELECTOR, "[data-grace-ends]") == []
        run_pass(config, Clock(datetime.now(UTC) + timedelta(minutes=6)))
        assert withdrawal_state(config) == "cancelled"
        assert world.sent_by_jane() == []

        flag_from_the_keyboard(driver, "I have accepted another offer.")
        wait_until(lambda: " s left" in countdown(driver), "the countdown to run again")
        run_pass(config, Clock(datetime.now(UTC) + timedelta(minutes=6)))
        assert withdrawal_state(config) == "sent"
        sent = world.sent_by_jane()
        assert len(sent) == 1
        assert b"I have accepted another offer." in sent[0]

        driver.get(f"http://{page.host}/threads")
        thread = text(driver)
        assert "withdrawal" in thread
        assert "sent" in thread
        assert f"to Sam <{world.sam.address}>" in thread or world.sam.address in thread
        assert_accessible(driver)
        driver.get(f"http://{page.host}/attention")
        assert_accessible(driver)
        driver.get(f"http://{page.host}/")
        assert "withdrawn" in text(driver)


def test_every_form_field_has_a_label(world: World, tmp_path: Path) -> None:
    """Each input and select of the invitation page is named by a <label for=...>."""
    require_browser()
    config = world.config(grace="5m")
    world.invite("web-labels@google.com", flagged=False)
    run_pass(config, Clock(datetime.now(UTC)))
    with served(config) as page, chromium(tmp_path / "profile") as driver:
        _open_first_invitation(driver, page)
        fields = driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select")
        assert len(fields) == 5
        for field in fields:
            labels = driver.find_elements(
                By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']"
            )
            assert len(labels) == 1, field.get_attribute("name")
            assert labels[0].text.strip()


def _open_first_invitation(driver: webdriver.Chrome, page: Served) -> None:
    driver.get(f"http://{page.host}/login?ticket={page.ticket()}")
    wait_until(lambda: driver.current_url == f"http://{page.host}/", "the ticket-less URL")
    driver.find_element(By.CSS_SELECTOR, "tbody th a").click()
    wait_until(lambda: "/invite/" in driver.current_url, "the invitation to open")
