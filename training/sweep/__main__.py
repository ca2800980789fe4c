"""`python -m training.sweep`: see the package's docstring."""

from training.sweep import main

raise SystemExit(main())
