// archgym test input: run through the real MAESTRO by ../../mapping_outputs/regenerate.sh
// the batch dimension N in later layers of a file whose first layer has none:
// with N mapped in a dataflow of several levels: MAESTRO fails ("Dimension N not found")
Network mixed-batch {
	Layer first {
		Type: CONV
		Dimensions { K: 8, C: 8, R: 3, S: 3, Y: 10, X: 10 }
		Dataflow {
			SpatialMap(1,1) K;
			TemporalMap(1,1) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
		}
	}

	Layer clustered {
		Type: CONV
		Dimensions { N: 3, K: 16, C: 4, R: 1, S: 1, Y: 8, X: 8 }
		Dataflow {
			TemporalMap(1,1) N;
			SpatialMap(1,1) K;
			TemporalMap(2,2) C;
			TemporalMap(Sz(R),Sz(R)) R;
			TemporalMap(Sz(S),Sz(S)) S;
			TemporalMap(Sz(R),1) Y;
			TemporalMap(Sz(S),1) X;
			Cluster(4, P);
			SpatialMap(1,1) C;
		}
	}
}
