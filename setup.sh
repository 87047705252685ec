#!/usr/bin/env bash
# Set greenflops up from a fresh clone and run the main job:
#   creates .venv with the pinned requirements, then runs `snakemake --cores all`.
# Options: --no-run  only build the environment (test.sh uses this).
# Environment: PYTHON (default python3, must be 3.11+).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup.sh: $PYTHON is missing or older than Python 3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian ships venv separately; install it when we may, else say what to do.
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "setup.sh: '$PYTHON -m venv' failed; install it (Debian: sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

# uv installs the same pinned wheels as pip, several GB of them, several times faster (it
# unpacks in parallel). It reads none of pip's configuration: the indexes, find-links and
# constraints that pip is configured with (pip.conf, PIP_* variables) are handed to it.
UV_VERSION=0.13.9
uv_install() {
  local out
  if ! out=$(.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    "uv==$UV_VERSION" 2>&1); then
    echo "$out" >&2
    return 1
  fi
  local args=() key value
  while IFS='=' read -r key value; do
    value=${value#\'}
    value=${value%\'}
    case "${key##*.}" in
      index-url) args+=(--index-url "$value") ;;
      extra-index-url) for url in $value; do args+=(--extra-index-url "$url"); done ;;
      find-links) for url in $value; do args+=(--find-links "$url"); done ;;
      constraint) for file in $value; do args+=(--constraint "$file"); done ;;
    esac
  done < <(.venv/bin/python -m pip config list 2>/dev/null)
  # every index is searched for the best version, as pip does (uv's default stops at the first)
  .venv/bin/uv pip install --quiet --python .venv/bin/python --index-strategy unsafe-best-match \
    "${args[@]}" -r requirements.txt
}

# Every installed module compiled to bytecode now, once (about 12 s), as pip does when it
# installs and uv does not: otherwise each Snakemake job compiles its imports again wherever
# bytecode cannot be written back (PYTHONDONTWRITEBYTECODE set, a read-only environment), which
# made the default run almost twice as long. A file that does not compile (a package's Python 2
# test data) is only left uncompiled.
compile_bytecode() {
  .venv/bin/python -c 'import compileall, sysconfig
for path in sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")}):
    compileall.compile_dir(path, quiet=2, workers=0)' >/dev/null 2>&1 || true
}

# Requirements change rarely: skip installing when the installed set already matches the file
# (and was compiled: the stamp's second word).
stamp=.venv/.requirements.sha256
want="$(sha256sum requirements.txt | cut -d' ' -f1) compiled"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! uv_install; then
    echo "setup.sh: uv could not install the requirements; installing them with pip" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  fi
  compile_bytecode
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--no-run" ]; then
  exit 0
fi
echo "setup.sh: environment ready; running the main job (snakemake --cores all)"
.venv/bin/snakemake --cores all
echo "setup.sh: done. Enter the environment with: source .venv/bin/activate"
