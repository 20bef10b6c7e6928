"""What the commands do, over the ports; functions return data, only the CLI prints.

One module per kind of work: opening the clock, state db and ports (wiring.py); reading
the mailbox and acting on it (passes.py); what `check` says of the state db
(state_db.py); finding the event a command names (lookup.py); `invites` (listing.py);
`flag` and `unflag` (flagging.py); `preview` (preview.py); `log` (thread_log.py). One
pass is runner.py, its letters letters.py, the user's calendar in a pass
own_calendar.py, the config as core's rules rules.py, and the daemon's kept-open store
and connection session.py.
"""
