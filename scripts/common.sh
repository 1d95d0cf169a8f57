# Shared steps of run.sh and test.sh: install what the build needs from
# Debian's packages, then configure and build in build/. Sourced, not run.

corral_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corral_build="${CORRAL_BUILD_DIR:-$corral_root/build}"

corral_packages=(
  cmake ninja-build g++ pkg-config
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
  libboost-program-options1.81-dev
  libspdlog-dev
  procps netcat-openbsd
)

# Installs the packages that are missing; does nothing when all are there.
corral_install_packages() {
  local missing=()
  local package
  for package in "${corral_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
        grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

# Configures (once) and builds every target.
corral_build() {
  if [ ! -f "$corral_build/CMakeCache.txt" ]; then
    cmake -S "$corral_root" -B "$corral_build" -G Ninja \
      -DCMAKE_BUILD_TYPE="${CORRAL_BUILD_TYPE:-RelWithDebInfo}"
  fi
  cmake --build "$corral_build" --parallel "$(nproc)"
}
