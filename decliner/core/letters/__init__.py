"""The messages decliner writes: wording, templates, headers, rendering, iTIP and languages."""
