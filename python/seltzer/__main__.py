"""``python -m seltzer``: the command line."""

from seltzer.cli import main

raise SystemExit(main())
