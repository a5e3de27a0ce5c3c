// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// grouped convolutions (NGCONV: G groups of K outputs and C inputs each)
Network grouped {
	Layer g32-kcp {
		Type: NGCONV
		Stride { X: 1, Y: 1 }
		Dimensions { G: 32, K: 4, C: 8, R: 3, S: 3, Y: 16, X: 16 }
		Dataflow {
			TemporalMap(1,1) G;
			SpatialMap(1,1) K;
			TemporalMap(8,8) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(8, P);
			SpatialMap(1,1) C;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
		}
	}

	Layer g8-gspatial {
		Type: NGCONV
		Stride { X: 1, Y: 1 }
		Dimensions { G: 8, K: 8, C: 8, R: 3, S: 3, Y: 12, X: 12 }
		Dataflow {
			SpatialMap(1,1) G;
			TemporalMap(2,2) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
		}
	}

	Layer g4-xp {
		Type: NGCONV
		Stride { X: 1, Y: 1 }
		Dimensions { G: 4, K: 16, C: 16, R: 1, S: 1, Y: 14, X: 14 }
		Dataflow {
			TemporalMap(2,2) G;
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			TemporalMap(Sz(R),1) Y;
			SpatialMap(Sz(S),1) X;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}

	Layer g16-s2 {
		Type: NGCONV
		Stride { X: 2, Y: 2 }
		Dimensions { G: 16, K: 8, C: 8, R: 3, S: 3, Y: 17, X: 17 }
		Dataflow {
			TemporalMap(1,1) G;
			SpatialMap(1,1) K;
			TemporalMap(8,8) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(8, P);
			SpatialMap(1,1) C;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
		}
	}

	Layer g6-odd {
		Type: NGCONV
		Stride { X: 1, Y: 1 }
		Dimensions { G: 6, K: 5, C: 7, R: 3, S: 3, Y: 11, X: 13 }
		Dataflow {
			SpatialMap(1,1) G;
			TemporalMap(2,2) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
		}
	}

}
