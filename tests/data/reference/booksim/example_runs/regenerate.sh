#!/usr/bin/env bash
# The real BookSim2 on its own example configurations that archgym runs, unchanged
# (../examples/torus88, mesh88_lat, singleconfig, flatflyconfig, fattree_config, cmeshconfig and
# ../examples/anynet/anynet_config, the last from its folder, where its network_file is).  Never run by tests or CI.
# Usage, from anywhere: bash regenerate.sh /path/to/booksim
# Writes <example>.out (BookSim's whole standard output) next to this script.
set -euo pipefail
booksim=${1:?usage: regenerate.sh /path/to/booksim}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../examples"
for example in torus88 mesh88_lat singleconfig flatflyconfig fattree_config cmeshconfig; do
  # BookSim exits with status 255 after a completed run (main returns -1)
  "$booksim" "$example" > "$here/$example.out" || [ $? -eq 255 ]
done
# dragonflyconfig with 1,000-cycle sample periods (its own 10,000 take over an hour)
"$booksim" dragonflyconfig sample_period=1000 > "$here/dragonflyconfig_sample_period_1000.out" || [ $? -eq 255 ]
(cd anynet && "$booksim" anynet_config > "$here/anynet_config.out") || [ $? -eq 255 ]
