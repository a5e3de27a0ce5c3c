#!/usr/bin/env bash
# Regenerate this folder: MAESTRO's own mapping files (../mapping_files/*.m) run
# through the real MAESTRO under a few hardware settings.  Developer tool only:
# the project, its tests and CI never run MAESTRO; they read the CSVs below.
#
#   tests/data/reference/maestro/mapping_outputs/regenerate.sh /path/to/maestro
#
# The binary: github.com/maestro-project/maestro at 4eb08d17c87caf1ee3f3a351b10eb9b8ef70dd87,
# g++ -O2 -std=c++17 of maestro-top.cpp + cost-model/src/BASE_base-objects.cpp
# (its CSVs are byte-identical to the stock scons build).
#
# Inputs: MAESTRO's own files (../mapping_files/*.m) and archgym's small files
# for what those do not cover (../mapping_files/archgym/*.m: strides under five
# dataflows, directives narrower than their window, NGCONV, TRCONV, GEMM, names,
# repeated declarations, N in later layers only, repeated directives and a third
# SpatialMap).
#
# Repeated directives (docs/design/costmodel.md §2.5): ../mapping_files/rs_layers/
# holds Resnet50_rs.m cut into one file per layer (MAESTRO stops at the first
# layer that crashes), made below.  Random probes of the same rules:
# probe_repeats.py (run by hand, prints counts only).
#
# Output: <setting>/<mapping file stem>.csv (MAESTRO's CSV, byte for byte) for
# every run that wrote one, and runs.csv: setting, file (relative to
# ../mapping_files), exit status, flags.
set -euo pipefail
maestro=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mapping=$here/../mapping_files

# setting name -> MAESTRO flags (everything not named keeps MAESTRO's default)
declare -A SETTINGS=(
  [P16]="--num_pes=16"
  [P64]="--num_pes=64"
  [P256]="--num_pes=256"
  [P1024]="--num_pes=1024"
  [P256_bw32_hop2_off128]="--num_pes=256 --noc_bw_cstr=32 --noc_hop_latency=2 --offchip_bw_cstr=128"
)
quiet="--print_res=false --print_res_csv_file=true --print_log_file=false"

# Resnet50_rs.m, one layer per file: rs_layers/rs_<NN>_<layer>.m
rm -rf "$mapping/rs_layers" && mkdir "$mapping/rs_layers"
awk -v out="$mapping/rs_layers" '
  /^\tLayer / { n++; f = sprintf("%s/rs_%02d_%s.m", out, n, $2); print "Network Resnet50 {" > f; on = 1 }
  on { print > f }
  on && /^\t}/ { print "}" > f; close(f); on = 0 }' "$mapping/Resnet50_rs.m"

echo "setting,file,exit_status,flags" > "$here/runs.csv"
for setting in $(printf '%s\n' "${!SETTINGS[@]}" | sort); do
  mkdir -p "$here/$setting"
  for m in "$mapping"/*.m "$mapping"/archgym/*.m "$mapping"/rs_layers/*.m; do
    stem=$(basename "$m" .m)
    file=${m#"$mapping"/}
    work=$(mktemp -d)
    cp "$m" "$work/"
    status=0
    # shellcheck disable=SC2086  # the flags are words
    (cd "$work" && "$maestro" --Mapping_file="$stem.m" ${SETTINGS[$setting]} $quiet >/dev/null 2>&1) || status=$?
    csv=$work/${stem%%.*}.csv
    if [ -f "$csv" ]; then cp "$csv" "$here/$setting/$stem.csv"; fi
    echo "$setting,$file,$status,${SETTINGS[$setting]}" >> "$here/runs.csv"
    rm -rf "$work"
  done
done
