#!/usr/bin/env bash
# Every script in benchmarks/ and scripts/ runs against the installed archgym:
#   1. each one answers --help;
#   2. each --quick run listed in QUICK finishes (outputs into a temporary
#      folder); the scripts in SLOW are left out, each with its reason;
#   3. nothing was written into the repository.
# Usage, after `pip install ".[test]"`: bash .ci/check_scripts.sh
# A script in neither list, or any failure, fails the check.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The quick runs CI makes (each under a minute on the CI machine).
declare -A QUICK=(
  [benchmarks/bench_costmodel.py]="--quick --no-plot"
  [benchmarks/maestro_mapping_files.py]="--quick --out OUT/maestro_mapping_files.csv"
  [benchmarks/bench_maestro_cli.py]="--quick"
  [benchmarks/bench_noc.py]="--quick --no-plot"
  [benchmarks/bench_noc_cubes.py]="--quick --out OUT"
  [benchmarks/bench_sparse_core.py]="--quick --no-plot"
  [benchmarks/bench_sparse_paper.py]="--quick --no-plot"
  [benchmarks/calibrate_sparse_sw.py]="--quick --json OUT/sw_conversion.json"
  [benchmarks/fuzz_sparse_cli.py]="--quick"
  [benchmarks/bench_proxy.py]="--quick"
  [benchmarks/bench_quant.py]="--quick --no-plot"
  [benchmarks/bench_nas.py]="--quick --no-plot"
  [benchmarks/bench_aqgan.py]="--quick --no-plot"
  [benchmarks/bench_nas_gan.py]="--quick --no-plot"
  [benchmarks/repro_nocs19.py]="--quick"
  [benchmarks/repro_confuciux.py]="--quick"
  [benchmarks/bench_sb3_curves.py]="--quick"
  [benchmarks/rank_returns.py]="--quick"
  [benchmarks/bench_noc_start.py]="--quick"
  [benchmarks/bench_noc_adaptive.py]="--quick --out OUT"
  [scripts/build_nas_table.py]="--quick --out OUT/nas_table.csv"
  [scripts/train_quant_models.py]="--quick"
  [scripts/make_fashion_subset.py]="--quick --out OUT/fashion_mnist_subset.npz"
  [scripts/noc_identity.py]="--quick --out OUT"
)
# Scripts whose --quick run is not made here, each with its reason, as
#   [benchmarks/NAME.py]="why"
# (--help still runs).  None today: every --quick takes under a minute.
declare -A SLOW=()

work=$(mktemp -d "${TMPDIR:-/tmp}/archgym-scripts.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ beside the scripts
export MPLBACKEND=Agg

# What git sees, ignored files included: it must not change.
repo_state() { git status --porcelain --ignored --untracked-files=all; }
before=$(repo_state)

failed=()
shopt -s nullglob
scripts=(benchmarks/*.py scripts/*.py)
shopt -u nullglob
for script in "${scripts[@]}"; do
  name=$(basename "$script" .py)
  [ "$name" = _common ] && continue
  if [ -z "${QUICK[$script]+x}" ] && [ -z "${SLOW[$script]+x}" ]; then
    echo "FAILED: $script is in neither QUICK nor SLOW of $0: add it to one" >&2
    failed+=("$script (unlisted)")
    continue
  fi
  if ! python "$script" --help >"$work/$name.help" 2>&1; then
    cat "$work/$name.help" >&2
    echo "FAILED: python $script --help" >&2
    failed+=("$script --help")
    continue
  fi
  echo "ok    python $script --help"
  if [ -n "${SLOW[$script]+x}" ]; then
    echo "skip  python $script --quick: ${SLOW[$script]}"
    continue
  fi
  out="$work/$name"
  mkdir -p "$out"
  # shellcheck disable=SC2206  # the options are words
  args=(${QUICK[$script]//OUT/$out})
  case " ${args[*]} " in *" --out "*) ;; *) args+=(--out "$out") ;; esac
  t0=$SECONDS
  if python "$script" "${args[@]}" >"$out.log" 2>&1; then
    echo "ok    python $script ${args[*]}  ($((SECONDS - t0)) s)"
  else
    tail -n 40 "$out.log" >&2
    echo "FAILED: python $script ${args[*]} (exit status above, $((SECONDS - t0)) s)" >&2
    failed+=("$script ${args[*]}")
  fi
done

after=$(repo_state)
if [ "$before" != "$after" ]; then
  echo "FAILED: the scripts wrote into the repository:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  failed+=("files written into the repository")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'check_scripts: %d failure(s):\n' "${#failed[@]}" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "check_scripts: every script answers --help; ${#QUICK[@]} quick runs passed"
