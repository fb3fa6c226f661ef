#!/usr/bin/env bash
# Wheel smoke test: builds ONE wheel of this checkout for the current python3, installs it with no
# extras into a brand-new venv (so only certifi and typing-extensions come in), starts
# release/echo_server.py (standard library only) on 127.0.0.1 and makes a real WebSocket round trip
# with the installed wheel, from a temporary working directory so that the checkout's syncws/ cannot
# be imported instead. Exits non-zero on any failure; prints one line on success.
#
#   bash release/wheel_smoke.sh              # uses python3
#   PYTHON=python3.13 bash release/wheel_smoke.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-python3}"

work="$(mktemp -d "${TMPDIR:-/tmp}/syncws-wheel-smoke.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "wheel_smoke: FAILED: $*" >&2
  exit 1
}

show_log() {
  echo "---- $1" >&2
  tail -n 40 "$1" >&2 || true
}

command -v "$python" >/dev/null || fail "no '$python' on PATH"
pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

# 1. One wheel for this interpreter (pip builds it in an isolated environment).
if ! "$python" -m pip wheel --no-deps -q -w "$work/wheelhouse" "$root" >"$work/pip-wheel.log" 2>&1; then
  show_log "$work/pip-wheel.log"
  fail "pip wheel of $root on Python $pyver"
fi
wheels=("$work"/wheelhouse/syncws-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || fail "expected one syncws wheel in $work/wheelhouse"
wheel="${wheels[0]}"

# 2. A brand-new venv with the wheel and its dependencies only: no extras, nothing from the checkout.
venv="$work/venv"
"$python" -m venv "$venv" || fail "python -m venv on Python $pyver"
if ! "$venv/bin/python" -m pip install -q "$wheel" >"$work/pip-install.log" 2>&1; then
  show_log "$work/pip-install.log"
  fail "pip install $(basename "$wheel")"
fi
installed="$("$venv/bin/python" -m pip list --format=freeze 2>/dev/null \
  | cut -d= -f1 | tr 'A-Z_' 'a-z-' | grep -v -x -E 'pip|setuptools|wheel' | sort | tr '\n' ' ')"
[ "$installed" = "certifi syncws typing-extensions " ] \
  || fail "the clean venv holds '$installed', expected only certifi, syncws, typing-extensions"

# 3. The echo server, run by the clean venv's interpreter (standard library only).
"$venv/bin/python" -I "$here/echo_server.py" "$work/port" --lifetime 120 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  [ -s "$work/port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { show_log "$work/server.log"; fail "echo server exited early"; }
  sleep 0.1
done
[ -s "$work/port" ] || fail "echo server did not start within 10 s"
url="ws://127.0.0.1:$(cat "$work/port")/"

# 4. The round trip, from an empty working directory, in isolated mode (no PYTHONPATH, no cwd).
cat >"$work/client.py" <<'PY'
import importlib.util
import os
import sys

url, venv, wheel = sys.argv[1:4]

import syncws

where = os.path.realpath(syncws.__file__)
if not where.startswith(os.path.realpath(venv) + os.sep):
    sys.exit(f"syncws was imported from {where}, not from the clean venv {venv}")

with syncws.connect(url, compress=0) as ws:
    ws.send_str("wheel")
    reply = ws.receive_str(timeout=10)
    assert reply == "wheel", f"echo answered {reply!r}, expected 'wheel'"

speedups = "yes" if importlib.util.find_spec("syncws.protocol._speedups") else "no"
print(
    f"wheel smoke OK: {wheel} on Python {sys.version.split()[0]}, syncws {syncws.__version__} "
    f"from a clean venv (certifi, typing-extensions only; C speedups: {speedups}), "
    f"'wheel' echoed over {url}"
)
PY
mkdir "$work/cwd"
if ! out="$(cd "$work/cwd" && timeout 60 "$venv/bin/python" -I "$work/client.py" "$url" "$venv" "$(basename "$wheel")" 2>&1)"; then
  echo "$out" >&2
  show_log "$work/server.log"
  fail "WebSocket round trip with $(basename "$wheel") on Python $pyver"
fi
echo "$out"
