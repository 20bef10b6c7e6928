"""The config as the core's plain rules: the planning policy, the flag folder, `[[cancel]]`."""

from __future__ import annotations

from collections.abc import Container

from decliner.config import WEEKDAYS, Config
from decliner.core.plan.flags import CancelRule
from decliner.core.plan.timing import Policy


def policy_of(config: Config) -> Policy:
    """The planning policy from the config."""
    days = frozenset(WEEKDAYS.index(d) for d in config.followup.business_days)
    calendar = config.calendar
    change = calendar.on_withdraw if calendar is not None else "none"
    return Policy(
        grace=config.withdrawal.grace,
        min_notice=config.withdrawal.min_notice,
        followup_enabled=config.followup.enabled,
        followup_delay=config.followup.delay,
        business_hours=config.followup.hours,
        business_days=days,
        skip_if_replied=config.followup.skip_if_replied,
        zone=config.account.zone,
        holidays=PublicHolidays(config.followup.holidays)
        if config.followup.holidays
        else frozenset(),
        calendar_change="delete" if change == "delete" else "decline" if change != "none" else None,
        calendar_url=calendar.url if calendar is not None else "",
    )


class PublicHolidays:
    """`followup.holidays` ("DE", "US-CA", "GB-SCT") as a set of days, from the `holidays`
    package; imported on the first question, so a pass that queues no follow-up never
    loads it."""

    def __init__(self, code: str) -> None:
        self.country, _, self.subdivision = code.partition("-")
        self._days: Container[object] | None = None

    def __contains__(self, day: object) -> bool:
        if self._days is None:
            import holidays

            self._days = holidays.country_holidays(self.country, subdiv=self.subdivision or None)
        return day in self._days


def flag_folder(config: Config) -> str:
    """The folder whose invites count as flagged ("" = none)."""
    return config.mailbox.flag_folder


def cancel_rules(config: Config) -> list[CancelRule]:
    """The `[[cancel]]` tables as plain rules."""
    return [
        CancelRule(
            c.uid,
            c.summary,
            c.organizer,
            c.reason,
            c.to,
            c.language,
            scope=c.scope,
            role=c.role,
            company=c.company,
        )
        for c in config.cancel
    ]
