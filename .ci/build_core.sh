#!/usr/bin/env bash
# Build the compiled core (archgym._sim) straight with CMake, outside pip.
#
#   .ci/build_core.sh MODE OUTDIR
#
# MODE     werror    Release build with -Wall -Wextra -Werror (ARCHGYM_WERROR=ON)
#          sanitize  RelWithDebInfo build with ASan+UBSan (ARCHGYM_SANITIZE=ON)
# OUTDIR   the CMake build directory (created if missing)
#
# Needs, in the active Python: nanobind (CMakeLists.txt asks
# `python -m nanobind --cmake_dir`), cmake and ninja (from pip or the system).
# The build log goes to stderr; stdout gets only the path of the built
# extension module.
set -euo pipefail
exec 3>&1 1>&2

if [ $# -ne 2 ]; then
  echo "usage: $0 werror|sanitize OUTDIR" >&2
  exit 2
fi
mode=$1
outdir=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

case "$mode" in
  werror)   flags=(-DCMAKE_BUILD_TYPE=Release -DARCHGYM_WERROR=ON) ;;
  # -O1, as the sanitizers' documentation advises: -O2 took 416 s on network.cpp alone
  sanitize) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
                   -DARCHGYM_SANITIZE=ON) ;;
  *) echo "$0: unknown MODE '$mode' (expected werror or sanitize)" >&2; exit 2 ;;
esac

generator=()
if command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi

python=$(command -v python3 || command -v python)
cmake -S "$root" -B "$outdir" "${generator[@]}" "${flags[@]}" \
  -DPython_EXECUTABLE="$python"
cmake --build "$outdir" --parallel "$(nproc)"

shopt -s nullglob
built=("$outdir"/_sim*.so)
if [ ${#built[@]} -ne 1 ]; then
  echo "$0: expected exactly one _sim*.so in $outdir, found ${#built[@]}" >&2
  exit 1
fi
echo "${built[0]}" >&3
