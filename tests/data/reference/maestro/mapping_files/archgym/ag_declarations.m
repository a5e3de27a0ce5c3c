// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// names with '-', '.', '#' and '>' (MAESTRO keeps the last token before '{'),
// a dimension declared twice
Constant TileK 4;
Network my-net.v2 {
	Layer conv1-7x7-s2 {
		Type: CONV
		Dimensions { K: 16, C: 8, R: 3, S: 3, Y: 12, X: 12, K: 4 }
		Dataflow {
			SpatialMap(1,1) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(4, P);
			SpatialMap(1,1) C;
		}
	}

	Layer block.2#a->b {
		Type: CONV
		Dimensions { K: 8, C: 8, R: 1, S: 1, Y: 10, X: 10, C: 3 }
		Dataflow {
			SpatialMap(TileK,TileK) K;
			TemporalMap(4,4) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
		}
	}

}
