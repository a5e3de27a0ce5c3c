// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// transposed convolutions (TRCONV)
Network up-sampling {
	Layer up1 {
		Type: TRCONV
		Dimensions { K: 64, C: 128, R: 2, S: 2, Y: 14, X: 14 }
		Dataflow {
			SpatialMap(1,1) K;
			TemporalMap(16,16) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(16, P);
			SpatialMap(1,1) C;
		}
	}

	Layer up2 {
		Type: TRCONV
		Dimensions { K: 32, C: 64, R: 3, S: 3, Y: 28, X: 28 }
		Dataflow {
			TemporalMap(1,1) C;
			TemporalMap(4,4) K;
			SpatialMap(4,4) Y';
			TemporalMap(Sz(S),Sz(S)) X';
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			Cluster(4, P);
			TemporalMap(1,1) C;
			SpatialMap(1,1) Y';
			SpatialMap(1,1) X';
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}

	Layer up3-s2 {
		Type: TRCONV
		Stride { X: 2, Y: 2 }
		Dimensions { K: 16, C: 32, R: 4, S: 4, Y: 30, X: 30 }
		Dataflow {
			SpatialMap(1,1) K;
			TemporalMap(16,16) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(16, P);
			SpatialMap(1,1) C;
		}
	}

	Layer up4 {
		Type: TRCONV
		Dimensions { K: 8, C: 16, R: 2, S: 2, Y: 9, X: 13 }
		Dataflow {
			TemporalMap(1,1) C;
			TemporalMap(4,4) K;
			SpatialMap(4,4) Y';
			TemporalMap(Sz(S),Sz(S)) X';
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			Cluster(4, P);
			TemporalMap(1,1) C;
			SpatialMap(1,1) Y';
			SpatialMap(1,1) X';
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}

}
