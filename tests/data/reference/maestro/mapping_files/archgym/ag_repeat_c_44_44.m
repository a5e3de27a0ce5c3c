Network N {
	Layer REP_C_44_44 {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 16, C: 8, R: 3, S: 3, Y: 8, X: 8 }
		Dataflow {
			SpatialMap(1,1) K;
			TemporalMap(3,1) Y;
			TemporalMap(3,1) X;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(4,4) C;
			TemporalMap(4,4) C;
		}
	}
}
