#!/usr/bin/env bash
# One set-up for the README's quick start and for CI: a virtualenv in .venv with
# symbptt, its test tools and its linter (the `dev` extra: pytest, hypothesis, ruff),
# and TeX from Debian's packages where this machine can install them (root or
# password-less sudo with apt-get). Safe to run again.
#
#   bash scripts/setup.sh            # .venv with symbptt[dev], TeX if possible
#   SYMBPTT_NO_TEX=1 bash scripts/setup.sh   # skip TeX
set -euo pipefail
cd "$(dirname "$0")/.."

TEX_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-fonts-recommended texlive-pictures latexmk poppler-utils"

have_tex() { command -v pdflatex >/dev/null && command -v latexmk >/dev/null && command -v pdftoppm >/dev/null; }

install_tex() {
  if [ "${SYMBPTT_NO_TEX:-}" = 1 ] || have_tex; then return 0; fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "setup: TeX not found and cannot install it here; to get PDFs, install: $TEX_PACKAGES" >&2
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "setup: TeX not found and apt-get is missing; to get PDFs, install a TeX Live with pdflatex and latexmk" >&2
    return 0
  fi
  echo "setup: installing TeX from Debian's packages (a few minutes) ..." >&2
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $TEX_PACKAGES >/dev/null
}

install_tex

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
echo "setup: ready (.venv/bin/symbptt)" >&2
