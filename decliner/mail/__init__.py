"""The mail ports: where invitations come from (IMAP, Maildir) and how letters leave (SMTP)."""
