"""``python -m symbptt`` is the same as the ``symbptt`` command."""

from symbptt.cli import main

raise SystemExit(main())
