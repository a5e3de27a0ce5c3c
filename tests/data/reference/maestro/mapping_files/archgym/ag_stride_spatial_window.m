Network N {
	Layer STRIDE_SPATIAL_R {
		Type: CONV
		Stride { X: 2, Y: 2 }
		Dimensions { K: 16, C: 3, R: 5, S: 5, Y: 12, X: 10 }
		Dataflow {
			TemporalMap(5,5) S;
			TemporalMap(5,3) X;
			TemporalMap(5,3) Y;
			TemporalMap(1,1) K;
			SpatialMap(2,1) R;
			TemporalMap(1,1) C;
		}
	}
}
