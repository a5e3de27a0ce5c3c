Network N {
Layer IDLE_SUBCLUSTERS {
Type: CONV
Stride { X: 1, Y: 1 }
Dimensions { K: 16, C: 1, R: 1, S: 1, Y: 12, X: 12 }
Dataflow {
TemporalMap(1,1) R;
SpatialMap(2,2) K;
TemporalMap(12,2) X;
TemporalMap(3,1) Y;
TemporalMap(1,1) S;
SpatialMap(2,1) C;
Cluster(4,P);
SpatialMap(1,1) Y;
TemporalMap(1,1) R;
TemporalMap(1,1) S;
}
}
}
