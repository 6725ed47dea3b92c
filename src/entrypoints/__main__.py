"""`python -m entrypoints` runs the whole platform (the container image's command)."""

from entrypoints.cli import main

raise SystemExit(main())
