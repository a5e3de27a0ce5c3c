Network N {
	Layer NARROW_TOP {
		Type: CONV
		Stride { X: 3, Y: 3 }
		Dimensions { K: 8, C: 4, R: 5, S: 5, Y: 20, X: 20 }
		Dataflow {
			TemporalMap(2,2) K;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			SpatialMap(3,2) X;
			TemporalMap(2,2) C;
			Cluster(4,P);
			SpatialMap(1,1) K;
			TemporalMap(Sz(S),1) X;
		}
	}
}
