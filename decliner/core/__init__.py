"""The pure core: parsing, planning, letters and calendar edits over plain data.

No sockets, database, clock or environment: `now` and the config's values are passed in.
"""
