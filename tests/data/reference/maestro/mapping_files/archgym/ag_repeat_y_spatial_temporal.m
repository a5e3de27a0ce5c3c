Network N {
	Layer REP_Y_ST {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 16, C: 1, R: 1, S: 1, Y: 12, X: 10 }
		Dataflow {
			TemporalMap(2,1) C;
			TemporalMap(1,1) S;
			TemporalMap(6,3) X;
			SpatialMap(1,1) Y;
			TemporalMap(1,1) R;
			TemporalMap(4,1) K;
			TemporalMap(9,2) Y;
		}
	}
}
