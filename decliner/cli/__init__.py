"""The command line: click commands, their output, `check`, `demo` and `init`."""
