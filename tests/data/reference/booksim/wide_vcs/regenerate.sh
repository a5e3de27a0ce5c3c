#!/usr/bin/env bash
# The real BookSim2 on the 8x8 mesh of ../booksim_base.cfg with 16 VCs (80 output
# VCs per router: archgym's routers keep their VC masks in two 64-bit words).
# Never run by tests or CI.  Usage, from anywhere: bash regenerate.sh /path/to/booksim
# Writes mesh_16vcs_<rate>.out (BookSim's whole standard output) next to this script.
set -euo pipefail
booksim=${1:?usage: regenerate.sh /path/to/booksim}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for rate in 0.1 0.3 0.4; do
  # BookSim exits with status 255 after a completed run (main returns -1)
  "$booksim" "$here/../booksim_base.cfg" num_vcs=16 injection_rate=$rate \
    > "$here/mesh_16vcs_$rate.out" || [ $? -eq 255 ]
done
