"""Provides `resolve_model`: the pose model a command runs, checked or built once."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from coach.safe.printable import literal


def resolve_model(path: Path | None, console: Console, rebuild: bool = False) -> Path:
    """The pose model: the given file checked, or the built-in one (built once)."""
    from coach.pose import model_store

    if path is not None:
        return model_store.validate_model(path.expanduser())
    models_dir = model_store.default_models_dir()
    if rebuild:
        (models_dir / model_store.DEFAULT_MODEL_NAME).unlink(missing_ok=True)
    from coach.progress import terminal_progress

    return model_store.ensure_default_model(
        models_dir,
        log=lambda m: console.print(f"[dim]{literal(m)}[/dim]"),
        progress=terminal_progress(console),
    )
