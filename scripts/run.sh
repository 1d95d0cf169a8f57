#!/usr/bin/env bash
# Installs missing packages, builds, and runs corrald in the foreground on
# 127.0.0.1:7411 (override with CORRAL_LISTEN). Extra arguments go to
# corrald, for example `scripts/run.sh --config corral.json`.
set -euo pipefail
source "$(dirname "$0")/common.sh"

corral_install_packages
corral_build
exec "$corral_build/corrald" --listen "${CORRAL_LISTEN:-127.0.0.1:7411}" "$@"
