#!/usr/bin/env bash
# recordkeep's two set-up commands (see README.md):
#   ./tasks.sh demo   install what is missing, generate a demo recorder dump, import and verify it
#   ./tasks.sh test   install what is missing, then ruff and the whole test suite
#   ./tasks.sh catalog  (development) update the message catalogs from the code, compile them
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv

install_system_packages() {  # $1 = "for-tests": also what only the tests use
    local missing=()
    command -v ffprobe >/dev/null || missing+=(ffmpeg)
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    if [ "${1:-}" = for-tests ]; then
        # b3sum checks the documented audit steps; headless Chromium renders the HTML
        # dossier, with a CJK font so its Chinese is not boxes
        command -v b3sum >/dev/null || missing+=(b3sum)
        command -v chromium >/dev/null || missing+=(chromium)
        fc-list ':lang=zh' family 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "missing: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "installing ${missing[*]} with apt" >&2
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        "${missing[@]}" >/dev/null
}

install_python_packages() {
    [ -x "$VENV/bin/pip" ] || python3 -m venv --clear "$VENV"  # --clear: a half-made one from before
    # pip's notes about unused local mirrors are noise; pipefail still stops on a failed install
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
    # an editable install is not byte-compiled; compile now so no command pays for it
    # (Python still recompiles a module whose source is newer than its cache)
    "$VENV/bin/python" -m compileall -q recordkeep cli.py >/dev/null
}

setup() {
    install_system_packages "${1:-}"
    install_python_packages
    export PATH="$PWD/$VENV/bin:$PATH"
}

demo() {
    setup
    rm -rf demo
    python fixtures/make_dump.py demo/dump
    export RECORDKEEP_STORE=demo/evidence RECORDKEEP_ACTOR=clerk@station1
    recordkeep init
    set +e
    recordkeep import demo/dump
    echo "(import exit code $?)"
    set -e
    recordkeep verify
    recordkeep log verify
    python fixtures/year_2021.py demo/year-2021  # a year shaped like the 2021 report
    recordkeep --store demo/year-2021 stats --year 2021 --until 2021-11-11
    echo "demo store: demo/evidence  (try: RECORDKEEP_STORE=demo/evidence recordkeep log)"
}

run_tests() {
    setup for-tests
    ruff check .
    # one worker per CPU (pytest-xdist); each starts its own SeaweedFS and TSA on free ports
    python -m pytest -q -p no:cacheprovider -n auto "$@"
}

case "${1:-}" in
    demo) demo ;;
    test) shift; run_tests "$@" ;;
    catalog) shift; setup; python -m tests.i18n_catalog "$@" ;;
    *) echo "usage: $0 demo|test|catalog [args]" >&2; exit 2 ;;
esac
