Network N {
	Layer REP_X_SS {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 4, C: 8, R: 1, S: 1, Y: 12, X: 10 }
		Dataflow {
			TemporalMap(1,1) R;
			TemporalMap(1,1) S;
			SpatialMap(1,1) X;
			TemporalMap(2,2) C;
			TemporalMap(1,1) K;
			SpatialMap(2,1) X;
			TemporalMap(2,2) Y;
			Cluster(4,P);
			TemporalMap(1,1) Y;
			TemporalMap(1,1) K;
			TemporalMap(2,1) X;
			SpatialMap(1,1) R;
		}
	}
}
