Network N {
	Layer REP_X_S_TS {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 64, C: 64, R: 1, S: 1, Y: 56, X: 56 }
		Dataflow {
			TemporalMap(2,2) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			SpatialMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(3,P);
			SpatialMap(1,1) X;
			SpatialMap(1,1) S;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}
	Layer REP_X_TS_S {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 64, C: 64, R: 1, S: 1, Y: 56, X: 56 }
		Dataflow {
			TemporalMap(2,2) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			SpatialMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(3,P);
			SpatialMap(1,1) X;
			TemporalMap(Sz(S),Sz(S)) S;
			SpatialMap(1,1) S;
		}
	}
	Layer REP_TS_X_S {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 64, C: 64, R: 1, S: 1, Y: 56, X: 56 }
		Dataflow {
			TemporalMap(2,2) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			SpatialMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(3,P);
			TemporalMap(1,1) S;
			SpatialMap(1,1) X;
			SpatialMap(1,1) S;
		}
	}
	Layer REP_TOP_R {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 32, C: 16, R: 1, S: 1, Y: 12, X: 12 }
		Dataflow {
			SpatialMap(1,1) K;
			TemporalMap(1,1) R;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(3,1) Y;
			TemporalMap(3,1) X;
		}
	}
	Layer REP_INNER_K {
		Type: CONV
		Stride { X: 1, Y: 1 }
		Dimensions { K: 32, C: 16, R: 1, S: 1, Y: 12, X: 12 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(4,4) C;
			SpatialMap(1,1) Y;
			TemporalMap(1,1) X;
			Cluster(3,P);
			TemporalMap(1,1) K;
			SpatialMap(1,1) C;
			TemporalMap(1,1) K;
		}
	}
}
