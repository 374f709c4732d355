"""Installs like a tool: the wheel, installed into a fresh venv, runs `coach` outside the checkout.

How, and why this way: the wheel is built from a copy of the sources (pyproject.toml, README.md,
coach/, and testkit/ to prove it stays out) with `pip wheel --no-deps`, so the checkout is
neither read at run time nor littered with build/ and egg-info. It goes into a fresh `python -m venv --without-pip` in a temp folder
with `pip --python VENV install --no-deps --no-index`: that venv's site-packages holds our
wheel and nothing else. Its dependencies (OpenCV, LiteRT, NumPy: ~300 MB) are not
downloaded again: one `deps.pth` line appends the test interpreter's site-packages to the
venv's path, after its own. A path in a .pth file is not itself scanned for .pth files, so
the editable install of the checkout there stays inert; the test asserts that `coach` is
imported from the venv, that the checkout is not on sys.path, and that `pip check` finds every
dependency the wheel declares. So a missing module or data file, a checkout-relative path or
an undeclared dependency fails here, in seconds, with no network beyond the build backend's
setuptools (from the index or pip's cache).

The model: an installed coach has no models/ folder; `coach models` (or the first run) builds
it into the user's data folder. From the mediapipe wheel `make setup` left in models/.cache
when there is one (the real build, offline); otherwise the checkout's built model is put where
`coach models` would have built it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import MODEL, REPO, sample_clip

pytestmark = pytest.mark.slow
NO_CAMERA = "97"


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout_s: float = 300):
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """coach's wheel, built from a copy of the sources."""
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    for package in ("coach", "testkit"):  # testkit/ beside it, as in the checkout: it must stay out
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(work / "dist"),
            str(source),
        ],
        work,
        {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = (work / "dist").glob("coach-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; the dependencies come from this interpreter's."""
    folder = tmp_path_factory.mktemp("tool") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        folder,
        {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return folder


def _outside_env(home: Path) -> dict[str, str]:
    """This test's private home, without PYTHONPATH: nothing points back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY")}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return {**env, "HOME": str(home)}


def test_the_wheel_holds_every_module_and_the_data_read_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "coach/data/movements.toml" in names  # read with importlib.resources
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "coach").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert not [
        n for n in names if n.startswith(("tests/", "testkit/", "models/", "sample_videos/"))
    ]
    assert not [n for n in names if n.endswith(("/synthetic.py", "/evaluation.py"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "coach = coach.launch:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_coach_runs_outside_the_checkout(venv, private_home, tmp_path):
    coach = venv / "bin" / "coach"
    env = _outside_env(private_home)
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import coach, sys; print(coach.__file__); print('\\n'.join(sys.path))",
        ],
        tmp_path,
        env,
    )
    assert where.returncode == 0, where.stderr
    module, *path = where.stdout.splitlines()
    assert Path(module).is_relative_to(venv), module
    assert not [p for p in path if p and Path(p).resolve() == REPO.resolve()]
    check = _run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "check"],
        tmp_path,
        env,
    )
    assert check.returncode == 0, check.stdout + check.stderr  # every declared dependency is there

    version = _run([str(coach), "--version"], tmp_path, env)
    assert version.returncode == 0 and version.stdout.startswith("coach "), version.stderr

    # No model yet: the doctor says so and what to do; the user's data folder is where it goes.
    models = private_home / ".local" / "share" / "coach" / "models"
    doctor = _run(
        [str(coach), "doctor", NO_CAMERA, "--fallback-video", str(sample_clip("neutral"))],
        tmp_path,
        env,
    )
    assert doctor.returncode == 1
    assert f"fail pose model    no pose model at {models / MODEL.name}; run `coach models`" in (
        doctor.stdout
    )

    cached = sorted((REPO / "models" / ".cache").glob("mediapipe-0.10.21-*.whl"))
    if cached:  # the real first-run build, from the wheel `make setup` downloaded
        (models / ".cache").mkdir(parents=True)
        shutil.copy(cached[0], models / ".cache")
    else:
        models.mkdir(parents=True)
        shutil.copy(MODEL, models)
    built = _run([str(coach), "models"], tmp_path, env)
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == str(models / MODEL.name)
    assert ("building the pose model" in built.stderr) == bool(cached)

    analysed = _run(
        [str(coach), "analyze", str(sample_clip("neutral")), "--json", "--max-seconds", "6"],
        tmp_path,
        env,
    )
    assert analysed.returncode == 0, analysed.stderr
    result = json.loads(analysed.stdout)
    assert result["frames"] > 0 and result["view"] == "front"
    assert result["samples"], result

    doctor = _run(
        [str(coach), "doctor", NO_CAMERA, "--fallback-video", str(sample_clip("neutral"))],
        tmp_path,
        env,
    )
    assert doctor.returncode == 0, doctor.stdout
    assert f"ok   pose model    {models / MODEL.name} loads" in doctor.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written to the working folder


def test_a_models_folder_in_site_packages_is_not_taken_for_a_checkout(venv, private_home, tmp_path):
    """Some packages ship a top-level models/ package; the coach's model never goes there."""
    purelib = next((venv / "lib").glob("python3*/site-packages"))
    (purelib / "models").mkdir(exist_ok=True)
    try:
        where = _run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "from coach.pose.model_store import default_models_dir; print(default_models_dir())",
            ],
            tmp_path,
            _outside_env(private_home),
        )
    finally:
        (purelib / "models").rmdir()
    assert where.stdout.strip() == str(private_home / ".local" / "share" / "coach" / "models")
