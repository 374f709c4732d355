"""Measures what `pip install coach` costs: a fresh venv without pip, the wheel and its dependencies.

Usage: python benchmarks/install_size.py [--keep]. Builds the wheel from this checkout, installs it
with this interpreter's pip into a temporary `python -m venv --without-pip`, and prints the
venv's disk use (du, MiB) with the largest packages (about a minute and a half, most of it pip).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def size_mb(path: Path) -> float:
    """Disk use under `path` in MiB, as `du -sm` counts it (the figure issue 22 quoted)."""
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def main() -> int:
    """Build, install, measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the venv and print its path")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coach-install-"))
    pip = [sys.executable, "-m", "pip"]
    source = work / "src"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(REPO / "coach", source / "coach", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(work), str(source)], check=True)
    (wheel,) = work.glob("coach-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)], check=True
    )
    purelib = next((venv / "lib").glob("python3*/site-packages"))
    by_package: dict[str, float] = defaultdict(float)
    for entry in purelib.iterdir():
        # numpy.libs, opencv_python.libs ... belong to their package
        name = entry.name.split(".")[0].split("-")[0].lower()
        by_package[name] += size_mb(entry)
    print(f"venv without pip: {size_mb(venv):.0f} MB ({venv if args.keep else 'removed'})")
    for name, mb in sorted(by_package.items(), key=lambda item: -item[1])[:15]:
        print(f"  {mb:4.0f} MB  {name}")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
