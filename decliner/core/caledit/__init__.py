"""Declining or deleting an event in the user's own copy, line by line so the rest stays byte for byte."""
