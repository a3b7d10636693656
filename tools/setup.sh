#!/usr/bin/env bash
# Install everything edge needs on a Debian 12 machine (idempotent): system packages, then a virtualenv
# in .venv with the package, its test extra, the deployment tooling and the staff console.
# Run as root or with sudo rights.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc          # the venv, and C extensions with no wheel
  mosquitto mosquitto-clients                    # the broker (tests and demo run their own instances)
  victoria-metrics influxdb                      # time-series servers the collector is tested against
  debootstrap openssl systemd tmux               # deployment tests, TLS certificates, unit checks
  chromium                                       # the report's PDF; the console's browser tests (Playwright drives it)
  poppler-utils                                  # pdfinfo, pdftotext, pdftoppm: the report's PDF in tests and docs
  qemu-user-static binfmt-support                # the deployment test on an arm64 root (the Pi's architecture)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,deploy,console]"
# The MFRC522 library itself, without RPi.GPIO/spidev (Pi-only): the tests and the demo run it against our
# register-level chip simulator through stand-ins for those two modules. On a Pi, `pip install .[pi]` instead.
.venv/bin/python -m pip install -q --no-deps "mfrc522==0.0.7"
echo "setup: ready ($(.venv/bin/edge --version))"
