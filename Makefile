# Coach: `make run` coaches you (webcam, or a sample video), `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MODEL := models/pose_landmarker_full.task
SAMPLES := sample_videos/.built
DEMO_VIDEO := sample_videos/slouch.mp4
REALDATA ?= ../shared/realdata

.DEFAULT_GOAL := help

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(INSTALLED) $(MODEL) $(SAMPLES) system-deps ## Create .venv with everything: packages, pose model, sample clips

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "coach needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# An older venv holds opencv-contrib-python or opencv-python; the headless build (dev
	@# only now) would share their cv2/ folder and they would overwrite each other.
	@if $(BIN)/python -m pip show --quiet opencv-contrib-python >/dev/null 2>&1 \
	  || $(BIN)/python -m pip show --quiet opencv-python >/dev/null 2>&1; then \
	  $(BIN)/python -m pip uninstall --quiet -y opencv-contrib-python opencv-python opencv-python-headless; fi
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(MODEL): $(INSTALLED)
	$(BIN)/coach models

$(SAMPLES): $(INSTALLED) sample_videos/build.py
	$(BIN)/python sample_videos/build.py
	@touch $@

# Debian packages the tests use: Xvfb (a virtual screen for the preview window test),
# Chromium (screenshots the HTML report), DejaVu fonts (the same text everywhere) and
# strace (proves that no command opens a network socket), dbus (a private session bus for
# the tray and notification tests), desktop-file-utils (checks the start-at-login entry),
# dunst, trayer and libportaudio2 (a real notification daemon, tray host and sound library
# for `coach doctor`'s tests). benchmarks/tray_screenshots.py also needs a standalone
# StatusNotifierItem tray (haskell-gtk-sni-tray-utils haskell-status-notifier-item-utils).
# xdotool clicks through the glow nudge and asks who has the focus; xcompmgr (a compositor)
# shows its translucent form; xfonts-base has the core fonts the preview window writes in.
DEBIAN_PACKAGES := xvfb xfonts-base chromium fonts-dejavu-core strace dbus desktop-file-utils dunst trayer libportaudio2 xdotool xcompmgr
system-deps:
	@missing=""; command -v Xvfb >/dev/null 2>&1 || missing="$$missing xvfb"; \
	command -v dbus-daemon >/dev/null 2>&1 || missing="$$missing dbus"; \
	command -v dunst >/dev/null 2>&1 || missing="$$missing dunst"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -d /usr/share/fonts/truetype/dejavu ] || missing="$$missing fonts-dejavu-core"; \
	[ -f /usr/share/fonts/X11/misc/9x18B.pcf.gz ] || missing="$$missing xfonts-base"; \
	command -v strace >/dev/null 2>&1 || missing="$$missing strace"; \
	command -v desktop-file-validate >/dev/null 2>&1 || missing="$$missing desktop-file-utils"; \
	command -v trayer >/dev/null 2>&1 || missing="$$missing trayer"; \
	command -v xdotool >/dev/null 2>&1 || missing="$$missing xdotool"; \
	command -v xcompmgr >/dev/null 2>&1 || missing="$$missing xcompmgr"; \
	/sbin/ldconfig -p 2>/dev/null | grep -q libportaudio.so.2 || missing="$$missing libportaudio2"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing$$missing (for the window and report tests)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "Could not install$$missing; the tests that need them will be skipped"; \
	  else echo "Missing Debian packages:$$missing (sudo apt-get install$$missing); their tests will be skipped"; fi; \
	fi

run: setup ## Run the coach on the webcam, or on a sample video where no webcam opens
	$(BIN)/coach run --fallback-video $(DEMO_VIDEO) --realtime

test: setup ## Run the whole test suite
	$(BIN)/python -m pytest

check: $(INSTALLED) ## Lint, format check and type check (ruff + mypy)
	$(BIN)/ruff check coach testkit tests sample_videos benchmarks
	$(BIN)/ruff format --check coach testkit tests sample_videos benchmarks
	$(BIN)/mypy

bench: setup ## Time decoding, pose and the rest on the sample clips
	$(BIN)/python benchmarks/bench.py

bench-live: setup ## Always-on cost: coach run on a live scripted stream beside every frame; an 8-hour day
	$(BIN)/python benchmarks/bench_live.py

soak: setup ## A coach in the tray for 30 min with a fault every 3 min (camera, lock, sleep, stop)
	$(BIN)/python benchmarks/soak.py --minutes 30 --every 3

eval-real: $(INSTALLED) ## Figures on the real recordings in ../shared/realdata (also at 5, 2, 1 samples/s, and answering nudges), beside the peer rules
	$(BIN)/python benchmarks/evaluate_real.py $(REALDATA)

eval-real-full: $(INSTALLED) $(MODEL) ## eval-real plus the videos, the rate sweep and leave-one-person-out
	$(BIN)/python benchmarks/evaluate_real.py $(REALDATA) --full --lopo

clean: ## Remove the virtual environment and built artefacts
	rm -rf $(VENV) $(MODEL) sample_videos/*.mp4 $(SAMPLES) .pytest_cache .mypy_cache .ruff_cache

.PHONY: help setup system-deps run test check bench bench-live soak eval-real eval-real-full clean
