#!/usr/bin/env bash
# Installs missing packages, builds, and runs the whole suite with ctest.
# Extra arguments go to ctest, for example `scripts/test.sh -R protocol`.
set -euo pipefail
source "$(dirname "$0")/common.sh"

corral_install_packages
corral_build
cd "$corral_build"
ctest --output-on-failure --timeout 600 "$@"
