// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// depthwise layers with strides
Network dw {
	Layer dw-s2 {
		Type: DSCONV
		Stride { X: 2, Y: 2 }
		Dimensions { C: 64, R: 3, S: 3, Y: 30, X: 30 }
		Dataflow {
			SpatialMap(1,1) C;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}

	Layer dw-s1 {
		Type: DSCONV
		Stride { X: 1, Y: 1 }
		Dimensions { C: 96, R: 3, S: 3, Y: 16, X: 16 }
		Dataflow {
			SpatialMap(1,1) C;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}

	Layer dw-s2-r5 {
		Type: DSCONV
		Stride { X: 2, Y: 2 }
		Dimensions { C: 32, R: 5, S: 5, Y: 27, X: 27 }
		Dataflow {
			SpatialMap(1,1) C;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
		}
	}

}
