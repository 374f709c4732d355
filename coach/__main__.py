"""Provides `python -m coach`."""

from coach.launch import main

raise SystemExit(main())
