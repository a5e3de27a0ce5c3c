#!/bin/sh
# Regenerate layer_types.csv: the real MAESTRO on its GEMM, NGCONV and TRCONV layer types (and,
# for comparison, GEMMs as 1x1 CONVs and one group of an NGCONV as a CONV).  Run by hand, never from tests/CI:
#     sh tests/data/reference/maestro/layer_types/regenerate.sh /path/to/maestro
# MAESTRO HEAD 4eb08d17 (built as ../README.md says), ConfuciuX's invocation
# (../README.md) with --num_pes=P.  One layer per mapping file; Constants as ConfuciuX writes them
# (KTileSz B, CTileSz 1, ClusterSz P).  Each output row is "case,P,B," + MAESTRO's CSV row.
set -eu
MAESTRO=${1:?usage: regenerate.sh /path/to/maestro}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT="$HERE/layer_types.csv"
: > "$OUT.tmp"

# The GEMM preset (src/archgym/costmodel/dataflows/gemm.m: MAESTRO's GEMM_Example.m throughput
# mapping) in GEMM names, and in the CONV names of a GEMM as a 1x1 CONV: N -> K, K -> C, M -> Y.
GEMM_DF='TemporalMap(KTileSz,KTileSz) N; SpatialMap(1,1) M; TemporalMap(ClusterSz,ClusterSz) K;
Cluster(ClusterSz, P); TemporalMap(KTileSz,KTileSz) N; TemporalMap(1,1) M; SpatialMap(1,1) K;'
CONV_DF='TemporalMap(KTileSz,KTileSz) K; SpatialMap(1,1) Y; TemporalMap(ClusterSz,ClusterSz) C;
Cluster(ClusterSz, P); TemporalMap(KTileSz,KTileSz) K; TemporalMap(1,1) Y; SpatialMap(1,1) C;'
# ConfuciuX's dla (../../../../../src/archgym/costmodel/dataflows/dla.m), for the CNN types.
DLA_DF='SpatialMap(KTileSz,KTileSz) K; TemporalMap(ClusterSz,ClusterSz) C; TemporalMap(Sz(R),Sz(R)) R;
TemporalMap(Sz(S),Sz(S)) S; TemporalMap(Sz(R),1) Y; TemporalMap(Sz(S),1) X; Cluster(ClusterSz, P);
SpatialMap(1,1) C; TemporalMap(Sz(R),1) Y; TemporalMap(Sz(S),1) X; TemporalMap(Sz(R),Sz(R)) R;
TemporalMap(Sz(S),Sz(S)) S;'

# run CASE P B TYPE-AND-DIMENSIONS DATAFLOW
run() {
    cat > "$WORK/layer.m" <<MAP
Constant KTileSz $3;
Constant CTileSz 1;
Constant ClusterSz $2;
Network 0 {
Layer L {
$4
Dataflow {
$5
}
}
}
MAP
    (cd "$WORK" && rm -f layer.csv && "$MAESTRO" --Mapping_file=layer.m --full_buffer=false \
        --noc_bw_cstr=81920000 --noc_hops=1 --noc_hop_latency=1 --noc_mc_support=true --num_pes="$2" \
        --num_simd_lanes=1 --l1_size_cstr=819200000 --l2_size_cstr=819200000 --print_res=false \
        --print_res_csv_file=true --print_log_file=false --print_design_space=false --msg_print_lv=0 \
        > /dev/null)
    [ -s "$OUT.header" ] 2>/dev/null || { printf 'case,P,B,'; head -n 1 "$WORK/layer.csv"; } > "$OUT.header"
    printf '%s,%s,%s,' "$1" "$2" "$3" >> "$OUT.tmp"
    sed -n 2p "$WORK/layer.csv" >> "$OUT.tmp"
}

: > "$OUT.header"
for PB in "16 4" "64 1" "128 12"; do
    set -- $PB
    P=$1 B=$2
    # BERT-base GEMMs (seq 128): q_proj, attn_scores and attn_context per head, mlp_down, pooler.
    for MNK in "128 768 768" "128 128 64" "128 64 128" "128 768 3072" "1 768 768"; do
        set -- $MNK
        run "gemm_M$1_N$2_K$3" "$P" "$B" "Type: GEMM
Dimensions { K: $3, M: $1, N: $2 }" "$GEMM_DF"
        run "gemm_M$1_N$2_K$3_as_conv" "$P" "$B" "Type: CONV
Dimensions { K: $2, C: $3, R: 1, S: 1, Y: $1, X: 1 }" "$CONV_DF"
    done
    # ResNeXt-50 grouped 3x3 convs (stages 1 and 2, stride 1): NGCONV and one group as CONV.
    for GKY in "32 4 56" "32 8 28"; do
        set -- $GKY
        run "ngconv_G$1_K$2_C$2_Y$3" "$P" "$B" "Type: NGCONV
Dimensions { G: $1, K: $2, C: $2, R: 3, S: 3, Y: $3, X: $3 }" "TemporalMap(1,1) G; $DLA_DF"
        run "ngconv_G$1_K$2_C$2_Y$3_one_group_as_conv" "$P" "$B" "Type: CONV
Dimensions { K: $2, C: $2, R: 3, S: 3, Y: $3, X: $3 }" "$DLA_DF"
    done
    # A 2x2 stride-2 transposed conv (U-Net's up-convolution, 28 -> 56).
    run "trconv_K64_C128_R2_Y56_stride2" "$P" "$B" "Type: TRCONV
Stride { X: 2, Y: 2 }
Dimensions { K: 64, C: 128, R: 2, S: 2, Y: 56, X: 56 }" "$DLA_DF"
    # Added for the native types in HWResource: ResNeXt-50's stride-2 grouped conv (stage 2,
    # 56 x 56 padded by 1: MAESTRO's input 58) and U-Net's first up-convolution.
    run "ngconv_G32_K8_C8_Y58_stride2" "$P" "$B" "Type: NGCONV
Stride { X: 2, Y: 2 }
Dimensions { G: 32, K: 8, C: 8, R: 3, S: 3, Y: 58, X: 58 }" "TemporalMap(1,1) G; $DLA_DF"
    run "trconv_K512_C1024_R2_Y56_stride2" "$P" "$B" "Type: TRCONV
Stride { X: 2, Y: 2 }
Dimensions { K: 512, C: 1024, R: 2, S: 2, Y: 56, X: 56 }" "$DLA_DF"
done
cat "$OUT.header" "$OUT.tmp" > "$OUT"
rm -f "$OUT.header" "$OUT.tmp"
echo "wrote $OUT ($(($(wc -l < "$OUT") - 1)) rows)"
