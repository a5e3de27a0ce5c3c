Network N {
	Layer REP_OUT_K {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 8, C: 3, R: 1, S: 1, Y: 12, X: 12 }
		Dataflow {
			TemporalMap(1,1) S;
			TemporalMap(2,2) X;
			TemporalMap(3,2) C;
			SpatialMap(1,1) R;
			TemporalMap(6,2) Y;
			TemporalMap(1,1) S;
			TemporalMap(2,2) K;
			TemporalMap(4,4) K;
		}
	}
}
