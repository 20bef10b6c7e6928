"""The CalDAV port: the user's own calendar, declined there too and read for invitations.

`client` speaks CalDAV through python-caldav; `update` declines or deletes one
event with conditional writes; `sync` reads invitations into the state db.
"""
