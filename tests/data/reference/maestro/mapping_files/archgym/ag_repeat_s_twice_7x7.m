Network N {
	Layer REP_S_7X7 {
		Type: CONV
		Stride { X: 2, Y: 2 }
		Dimensions { K: 64, C: 3, R: 7, S: 7, Y: 224, X: 224 }
		Dataflow {
			TemporalMap(2,2) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			SpatialMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(3,P);
			SpatialMap(1,1) X;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}
}
