Network N {
Layer DW_NO_K {
Type: DSCONV
Stride { X: 1, Y: 1 }
Dimensions { C: 64, R: 3, S: 3, Y: 15, X: 15 }
Dataflow {
TemporalMap (Sz(R), 1) Y;
TemporalMap (Sz(S), 1) X;
TemporalMap (Sz(R), Sz(R)) R;
TemporalMap (Sz(S), Sz(S)) S;
SpatialMap (1,1) C;
TemporalMap (1,1) K;
}
}
}
