// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// GEMM (M x K) x (K x N) under four dataflows, shapes of attention and MLP blocks
Network gemms {
	Layer qkv-proj {
		Type: GEMM
		Dimensions { M: 64, N: 96, K: 48 }
		Dataflow {
			TemporalMap(4,4) N;
			SpatialMap(2,2) M;
			TemporalMap(16,16) K;
			Cluster(16, P);
			TemporalMap(4,4) N;
			TemporalMap(2,2) M;
			SpatialMap(1,1) K;
		}
	}

	Layer attn-scores {
		Type: GEMM
		Dimensions { M: 32, N: 32, K: 16 }
		Dataflow {
			SpatialMap(1,1) M;
			SpatialMap(1,1) N;
			TemporalMap(8,8) K;
		}
	}

	Layer mlp-up {
		Type: GEMM
		Dimensions { K: 40, M: 24, N: 80 }
		Dataflow {
			TemporalMap(8,8) M;
			SpatialMap(4,4) N;
			TemporalMap(Sz(K),Sz(K)) K;
			Cluster(4, P);
			SpatialMap(1,1) N;
		}
	}

	Layer mlp-down {
		Type: GEMM
		Dimensions { N: 20, K: 72, M: 18 }
		Dataflow {
			SpatialMap(4,4) K;
			TemporalMap(1,1) M;
			TemporalMap(3,2) N;
		}
	}

	Layer odd {
		Type: GEMM
		Dimensions { M: 7, N: 13, K: 11 }
		Dataflow {
			TemporalMap(4,4) N;
			SpatialMap(2,2) M;
			TemporalMap(16,16) K;
			Cluster(16, P);
			TemporalMap(4,4) N;
			TemporalMap(2,2) M;
			SpatialMap(1,1) K;
		}
	}

	Layer wide-m {
		Type: GEMM
		Dimensions { M: 64, N: 96, K: 48 }
		Dataflow {
			TemporalMap(4,4) N;
			SpatialMap(1,1) M;
			TemporalMap(16,16) K;
		}
	}

	Layer wide-m2 {
		Type: GEMM
		Dimensions { M: 20, N: 12, K: 30 }
		Dataflow {
			SpatialMap(3,3) M;
			TemporalMap(4,4) N;
			TemporalMap(8,8) K;
		}
	}

}
