// GEMM preset (archgym): the "optimize for throughput" mapping of MAESTRO's GEMM_Example.m
// (an N tile, M spatial, the K reduction spread over a cluster of PEs), written in the
// CONV names of a GEMM lowered to a 1x1 CONV (archgym.workloads.typed.lower_to_conv):
// CONV K = GEMM N, C = GEMM K, Y = GEMM M.  KTileSz (the buffer level) is the N tile,
// ClusterSz (the PE count) the K tile reduced spatially.
Dataflow {
	TemporalMap(KTileSz,KTileSz) K;
	SpatialMap(1,1) Y;
	TemporalMap(ClusterSz,ClusterSz) C;
	Cluster(ClusterSz, P);
	TemporalMap(KTileSz,KTileSz) K;
	TemporalMap(1,1) Y;
	SpatialMap(1,1) C;
}
