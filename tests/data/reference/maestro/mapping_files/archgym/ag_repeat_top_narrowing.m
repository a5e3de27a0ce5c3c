Network N {
	Layer REP_TOP_NARROW {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 4, C: 8, R: 1, S: 1, Y: 8, X: 10 }
		Dataflow {
			TemporalMap(1,1) S;
			TemporalMap(4,4) C;
			TemporalMap(2,1) K;
			SpatialMap(1,1) X;
			TemporalMap(6,3) Y;
			TemporalMap(2,2) C;
			TemporalMap(1,1) R;
			Cluster(4,P);
			SpatialMap(1,1) R;
			TemporalMap(10,3) X;
		}
	}
}
