// GEMM preset (archgym): the "optimize for throughput" mapping of MAESTRO's GEMM_Example.m
// (an N tile, M spatial, the K reduction spread over a cluster of PEs), in a GEMM's names
// (M x K) x (K x N) = (M x N); archgym.costmodel renames them to the engine's as MAESTRO's
// front end does (GEMM_DIMS: M -> Y, N -> K, K -> C).  With ConfuciuX's constants:
// KTileSz (the buffer level) is the N tile, ClusterSz (the PE count) the K tile reduced
// spatially across the cluster.
Dataflow {
	TemporalMap(KTileSz,KTileSz) N;
	SpatialMap(1,1) M;
	TemporalMap(ClusterSz,ClusterSz) K;
	Cluster(ClusterSz, P);
	TemporalMap(KTileSz,KTileSz) N;
	TemporalMap(1,1) M;
	SpatialMap(1,1) K;
}
