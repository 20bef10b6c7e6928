"""The config as the core's plain rules: the planning policy, the flag folder, `[[cancel]]`."""

from __future__ import annotations

from decliner.config import WEEKDAYS, Config
from decliner.core.flags import CancelRule
from decliner.core.plan import Policy


def policy_of(config: Config) -> Policy:
    """The planning policy from the config."""
    days = frozenset(WEEKDAYS.index(d) for d in config.followup.business_days)
    return Policy(
        grace=config.withdrawal.grace,
        min_notice=config.withdrawal.min_notice,
        followup_enabled=config.followup.enabled,
        followup_delay=config.followup.delay,
        business_hours=config.followup.hours,
        business_days=days,
        skip_if_replied=config.followup.skip_if_replied,
        zone=config.account.zone,
    )


def flag_folder(config: Config) -> str:
    """The folder whose invites count as flagged ("" = none)."""
    return config.mailbox.flag_folder


def cancel_rules(config: Config) -> list[CancelRule]:
    """The `[[cancel]]` tables as plain rules."""
    return [CancelRule(c.uid, c.summary, c.organizer, c.reason, c.to) for c in config.cancel]
