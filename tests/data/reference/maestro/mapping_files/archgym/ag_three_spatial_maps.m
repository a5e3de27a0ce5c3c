Network N {
	Layer THREE_SPATIAL {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 8, C: 8, R: 1, S: 1, Y: 8, X: 8 }
		Dataflow {
			SpatialMap(1,1) K;
			SpatialMap(1,1) C;
			SpatialMap(1,1) Y;
			TemporalMap(1,1) X;
			TemporalMap(1,1) R;
			TemporalMap(1,1) S;
		}
	}
}
