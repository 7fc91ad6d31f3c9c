# Shared by .ci/run and .ci/install.d/*.sh (sourced, not run). The machine may be shared: another apt-get can hold
# the dpkg lock, so every call waits for it (up to 10 minutes) instead of failing at once.
apt_opts=(-o DPkg::Lock::Timeout=600)
apt_update() { apt-get "${apt_opts[@]}" update -q >/dev/null; }
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -q --no-install-recommends "$@" >/dev/null
}
# The Python tools (oelint-adv, BitBake's fetchers) live in a virtual environment made from Debian's own Python:
# Debian 12's /usr/bin/python3 is EXTERNALLY-MANAGED (pip refuses to touch it), and another Python first on PATH
# (pyenv) must not decide what the tests run with. .ci/test puts this directory first on PATH.
ci_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venv"
