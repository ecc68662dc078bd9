# Installs the Debian packages a script needs, so that it does its own set-up where it can. Sourced, not run.
# sparkzoo_install_packages PACKAGE...: apt-get as root, else through passwordless sudo; otherwise prints the one
# command to run and exits 1. Without apt-get (not Debian/Ubuntu) it names the packages and exits 1.
sparkzoo_install_packages() {
  [ $# -gt 0 ] || return 0
  local cmd=(apt-get install -y --no-install-recommends "$@")
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "this needs the Debian packages $* (no apt-get here): install their equivalents, then run this again" >&2
    exit 1
  fi
  local as=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      as=(sudo -n)
    else
      echo "missing Debian packages $*: run 'sudo ${cmd[*]}', then run this again" >&2
      exit 1
    fi
  fi
  echo "== installing $* (${as[*]:+${as[*]} }${cmd[*]})"
  # env: sudo drops the caller's environment. The package lists may be missing or stale on a fresh machine:
  # refresh them once if the install fails.
  if ! "${as[@]}" env DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >/dev/null; then
    "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as[@]}" env DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >/dev/null
  fi
}
