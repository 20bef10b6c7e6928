"""`python -m decliner`: the same as the `decliner` console script."""

from decliner.cli.entry import main

main()
