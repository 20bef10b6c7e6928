"""From what is known of each interview to the actions of a pass: events, flags, recipients, statuses."""
