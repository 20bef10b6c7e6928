"""The test bed: every harness and helper the tests share (servers, daemon harness, worlds)."""
