"""The state database: everything decliner must remember across restarts.

`db` is the mechanism (open, migrate, transactions, lock), `schema` the tables.
"""

from decliner.store.db import Store, iso_utc
from decliner.store.schema import MIGRATIONS

__all__ = ["MIGRATIONS", "Store", "iso_utc"]
