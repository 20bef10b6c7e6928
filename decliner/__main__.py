"""`python -m decliner`: the same as the `decliner` console script."""

from decliner.cli.main import main

main()
