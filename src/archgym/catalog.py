"""The catalogue of every env family's workloads, under one naming scheme.

A workload is named ``family/name``: ``/`` the only separator between parts,
``_`` inside a part, the first part its family::

    from archgym.catalog import workload_names
    workload_names()          # 'confuciux/alexnet', ..., 'nas/digits_mlp', ..., 'quant/digits_cnn'
    workload_names("sparse")  # 'spgemm/networkx/davis_southern_women', ..., 'spmv/synthetic/uniform_64x4096_0.01'

Each env's argument (see :data:`KINDS`) takes these names.  The packages of the
kinds are imported when :func:`workload_names` is called, never at ``import archgym``.
"""

from __future__ import annotations

#: The kinds of workload the envs take, and the env argument that takes a name of each kind.
KINDS = {
    "dnn": "HWResource-*: workload (a layer table: confuciux/<model>, corrected/<model>, typed/<model>)",
    "sparse": "SparseFormat-*: suite, one name or a sequence (<op>/<matrix family>/<matrix>)",
    "sparse_network": "SparseFormat-Network-*: network (pruned/<network>)",
    "nas": "NAS-*: space (nas/<search space>)",
    "quant": "Quant-*: model (quant/<model>)",
}


def workload_names(kind: str | None = None) -> list[str]:
    """Sorted names (``family/name``) of the shipped workloads of every kind, or of one.

    ``kind`` is one of :data:`KINDS` or None (all).  Sparse matrices whose
    source is missing here (networkx, scipy's test data) are left out; synthetic
    matrices and pruning levels also take parameters not listed.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown workload kind {kind!r}; allowed: None, {', '.join(KINDS)}")
    from archgym import nas, quant, workloads
    from archgym.sparse import OPS, matrices

    listed = {
        "dnn": lambda: [uri.removeprefix(workloads.URI_PREFIX) for uri in workloads.list_workloads()],
        "sparse": lambda: [f"{op}/{matrix}" for op in OPS for matrix in matrices.list_matrices()],
        "sparse_network": lambda: [f"{matrices.NETWORK_FAMILY}/{network}" for network in matrices.NETWORKS],
        "nas": lambda: list(nas.WORKLOAD_NAMES),
        "quant": lambda: list(quant.WORKLOAD_NAMES),
    }
    return sorted(name for k in (KINDS if kind is None else [kind]) for name in listed[k]())
