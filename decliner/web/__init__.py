"""The review page (SPEC 21): `decliner web` serves invitations, letters, undo and threads
to the user's own browser on the loopback, guarded by a secret, CSRF tokens and the Host."""
