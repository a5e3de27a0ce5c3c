Network N {
	Layer REP_Y_SS {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 8, C: 1, R: 2, S: 2, Y: 15, X: 15 }
		Dataflow {
			TemporalMap(2,1) X;
			TemporalMap(2,2) S;
			TemporalMap(2,2) R;
			TemporalMap(3,3) C;
			TemporalMap(4,3) K;
			SpatialMap(8,3) Y;
			SpatialMap(2,1) Y;
		}
	}
}
