// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// CONV and DSCONV layers with strides 1-4 (Stride { X, Y }), dataflow YXP
Network strides-YXP {
	Layer s2-r3 {
		Type: CONV
		Stride { X: 2, Y: 2 }
		Dimensions { K: 64, C: 64, R: 3, S: 3, Y: 30, X: 30 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

	Layer s3-r3 {
		Type: CONV
		Stride { X: 3, Y: 3 }
		Dimensions { K: 32, C: 16, R: 3, S: 3, Y: 29, X: 29 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

	Layer s2-r1 {
		Type: CONV
		Stride { X: 2, Y: 2 }
		Dimensions { K: 64, C: 32, R: 1, S: 1, Y: 28, X: 28 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

	Layer s4-r5 {
		Type: CONV
		Stride { X: 4, Y: 4 }
		Dimensions { K: 16, C: 8, R: 5, S: 5, Y: 33, X: 33 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

	Layer sx2-sy1 {
		Type: CONV
		Stride { X: 2, Y: 1 }
		Dimensions { K: 16, C: 16, R: 3, S: 3, Y: 20, X: 21 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

	Layer sx1-sy3 {
		Type: CONV
		Stride { X: 1, Y: 3 }
		Dimensions { K: 16, C: 16, R: 3, S: 3, Y: 25, X: 18 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

	Layer s2-r7 {
		Type: CONV
		Stride { X: 2, Y: 2 }
		Dimensions { K: 32, C: 3, R: 7, S: 7, Y: 69, X: 69 }
		Dataflow {
			TemporalMap(1,1) K;
			TemporalMap(1,1) C;
			SpatialMap(Sz(R), 1) Y;
			TemporalMap(8,8) X;
			TemporalMap(Sz(R), Sz(R)) R;
			TemporalMap(Sz(S), Sz(S)) S;
			Cluster(8, P);
			SpatialMap(Sz(S), 1) X;
		}
	}

}
