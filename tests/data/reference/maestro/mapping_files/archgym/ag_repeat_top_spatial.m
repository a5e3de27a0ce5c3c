Network N {
Layer REP_TOP_SPATIAL {
Type: CONV
Stride { X: 1, Y: 1 }
Dimensions { K: 8, C: 1, R: 1, S: 1, Y: 8, X: 8 }
Dataflow {
SpatialMap(1,1) K;
TemporalMap(Sz(R),1) Y;
TemporalMap(Sz(R),Sz(R)) R;
TemporalMap(Sz(S),1) X;
TemporalMap(Sz(S),Sz(S)) S;
SpatialMap(1,1) C;
TemporalMap(1,1) C;
}
}
}
