"""archgym: Gymnasium environments for ML-assisted computer-architecture design.

Importing archgym registers its environments with Gymnasium; it needs only
numpy, gymnasium and the compiled core ``archgym._sim`` (never torch)::

    import gymnasium as gym
    import archgym
    env = gym.make("HWResource-v0")
"""

import gymnasium

__version__ = "0.1.0"

_HW = "archgym.envs.hw_resource"

#: ConfuciuX's models (workload name -> id fragment).
HW_MODELS = {
    "mobilenet_v2": "MobileNetV2", "mnasnet": "MnasNet", "shufflenet_v2": "ShuffleNetV2",
    "resnet50": "ResNet50", "resnext50_32x4d": "ResNeXt50", "wide_resnet50": "WideResNet50",
    "resnet18": "ResNet18", "vgg16": "VGG16", "alexnet": "AlexNet", "googlenet": "GoogLeNet",
    "densenet": "DenseNet", "squeezenet": "SqueezeNet",
}
#: Today's models with MAESTRO's layer types (archgym.workloads.typed): workload -> (id
#: fragment, dataflow).  Transformers on the GEMM preset; CNNs on dla; every layer of
#: its MAESTRO type, with MAESTRO's stride (stride_aware="maestro").
HW_TYPED_MODELS = {
    "typed/bert_base": ("BERT", "gemm"), "typed/gpt2_small": ("GPT2", "gemm"),
    "typed/vit_b16": ("ViT", "gemm"), "typed/resnext50_32x4d": ("ResNeXt50-Grouped", "dla"),
    "typed/unet": ("UNet", "dla"),
}


def _register_hw(env_id: str, **kwargs) -> None:
    gymnasium.register(id=env_id, entry_point=f"{_HW}:HWResourceEnv",
                       vector_entry_point=f"{_HW}:HWResourceVectorEnv", kwargs=kwargs)


def _register_all() -> None:
    # The default: MobileNet-V2, dla, latency, area budget (ConfuciuX's main setting).
    _register_hw("HWResource-v0")
    for workload, name in HW_MODELS.items():
        _register_hw(f"HWResource-{name}-v0", workload=workload)
    for workload, (name, dataflow) in HW_TYPED_MODELS.items():
        _register_hw(f"HWResource-{name}-v0", workload=workload, dataflow=dataflow,
                     stride_aware="maestro")
    _register_hw("HWResource-Energy-v0", objective="energy")
    _register_hw("HWResource-EDP-v0", objective="edp")
    _register_hw("HWResource-Power-v0", constraint="power")
    _register_hw("HWResource-DataflowChoice-v0", dataflow="choose")
    # The paper's shaped reward (the default "plain" reward ranks designs by their objective).
    _register_hw("HWResource-ConfuciuX-v0", reward_mode="confuciux")
    # --- NoCRouting registrations (archgym.envs.noc_routing) ---
    # The NOCS'19 contextual bandit (8x8 mesh, shuffle, rate sweep) over a
    # table measured on first use; a variant whose pattern varies per episode;
    # persistent networks with phase-changing traffic, network-wide or per router.
    _noc = "archgym.envs.noc_routing"
    gymnasium.register(id="NoCRouting-v0", entry_point=f"{_noc}:NoCRoutingEnv")
    # The paper's own regime (Kao et al., NOCS 2019): its 6 rates, each point a fixed
    # 20,000-cycle run from an empty network, no warm-up, uncapped latency.
    gymnasium.register(id="NoCRouting-NOCS19-v0", entry_point=f"{_noc}:NoCRoutingEnv",
                       kwargs={"rates": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), "horizon": 20_000})
    gymnasium.register(id="NoCRouting-MultiPattern-v0", entry_point=f"{_noc}:NoCRoutingEnv",
                       kwargs={"traffic": ("uniform", "transpose", "shuffle", "bitrev")})
    gymnasium.register(id="NoCRouting-Persistent-v0", entry_point=f"{_noc}:NoCRoutingPersistentEnv")
    gymnasium.register(id="NoCRouting-PerRouter-v0", entry_point=f"{_noc}:NoCRoutingPersistentEnv",
                       kwargs={"per_router": True})
    # --- NoCAdaptive registrations (archgym.envs.noc_adaptive) ---
    # Minimal / non-minimal routing per router (granularity="group": per group) of a
    # dragonfly (topology="flatfly": a flattened butterfly) under phase-changing traffic;
    # gym.make_vec steps copies in parallel processes.
    _nad = "archgym.envs.noc_adaptive"
    gymnasium.register(id="NoCAdaptive-v0", entry_point=f"{_nad}:NoCAdaptiveEnv",
                       vector_entry_point=f"{_nad}:make_vector")
    # --- SparseFormat registrations (archgym.envs.sparse_format) ---
    _sf = "archgym.envs.sparse_format"
    gymnasium.register(id="SparseFormat-v0", entry_point=f"{_sf}:SparseFormatEnv")
    gymnasium.register(id="SparseFormat-Pruned-v0", entry_point=f"{_sf}:SparseFormatEnv",
                       kwargs={"suite": "pruned"})
    gymnasium.register(id="SparseFormat-Scientific-v0", entry_point=f"{_sf}:SparseFormatEnv",
                       kwargs={"suite": "scientific"})
    gymnasium.register(id="SparseFormat-RandomStored-v0", entry_point=f"{_sf}:SparseFormatEnv",
                       kwargs={"stored_a": "random", "stored_b": "random"})
    gymnasium.register(id="SparseFormat-Network-v0", entry_point=f"{_sf}:SparseFormatNetworkEnv")
    gymnasium.register(id="SparseFormat-Network-2of4-v0", entry_point=f"{_sf}:SparseFormatNetworkEnv",
                       kwargs={"network": "mlp_digits_2of4"})

    # --- Quant registrations (archgym.envs.quant) ---
    # HAQ-style per-layer bits (sequential) and the whole bit vector at once
    # (one-shot, for AQGAN), on the digits CNN (default), Fashion-MNIST LeNet or DS-CNN;
    # Fashion-MNIST ids raise a clear error at make time without the Debian
    # package dataset-fashion-mnist.
    _q = "archgym.envs.quant"
    for _suffix, _kw in (("", {}), ("-Energy", {"objective": "energy", "accelerator": "bitfused"}),
                         ("-Size", {"objective": "size"}), ("-BitFused", {"accelerator": "bitfused"}),
                         ("-Cloud", {"preset": "cloud"}), ("-Terminate", {"over_budget": "terminate"}),
                         ("-FashionMNIST", {"model": "fashion_lenet"})):
        gymnasium.register(id=f"Quant{_suffix}-v0", entry_point=f"{_q}:QuantEnv", kwargs=_kw)
    gymnasium.register(id="Quant-OneShot-v0", entry_point=f"{_q}:QuantOneShotEnv")
    gymnasium.register(id="Quant-OneShot-FashionMNIST-v0", entry_point=f"{_q}:QuantOneShotEnv",
                       kwargs={"model": "fashion_lenet"})
    # The 12-layer depthwise-separable Fashion-MNIST CNN (AQGAN on a deeper, efficient-style model).
    gymnasium.register(id="Quant-FashionDSCNN-v0", entry_point=f"{_q}:QuantEnv", kwargs={"model": "fashion_dscnn"})
    gymnasium.register(id="Quant-OneShot-FashionDSCNN-v0", entry_point=f"{_q}:QuantOneShotEnv",
                       kwargs={"model": "fashion_dscnn"})
    # --- NAS registrations (archgym.envs.nas) ---
    # Digits MLP space, tabular, edge platform, latency budget = the space's median;
    # the CNN spaces (digits, Fashion-MNIST); real (diabetes) and synthetic (Friedman #1) regression; live
    # training; one component per step; a budget drawn per episode (conditional NAS).
    _nas = "archgym.envs.nas"
    gymnasium.register(id="NAS-v0", entry_point=f"{_nas}:NASEnv")
    gymnasium.register(id="NAS-CNN-v0", entry_point=f"{_nas}:NASEnv", kwargs={"space": "digits-cnn"})
    gymnasium.register(id="NAS-Fashion-v0", entry_point=f"{_nas}:NASEnv", kwargs={"space": "fashion-cnn"})
    gymnasium.register(id="NAS-Regression-v0", entry_point=f"{_nas}:NASEnv", kwargs={"space": "diabetes-mlp"})
    gymnasium.register(id="NAS-Friedman1-v0", entry_point=f"{_nas}:NASEnv", kwargs={"space": "friedman1-mlp"})
    gymnasium.register(id="NAS-Live-v0", entry_point=f"{_nas}:NASEnv", kwargs={"mode": "live"})
    gymnasium.register(id="NAS-Sequential-v0", entry_point=f"{_nas}:NASSequentialEnv")
    gymnasium.register(id="NAS-Conditional-v0", entry_point=f"{_nas}:NASEnv", kwargs={"budget": "random"})


if "HWResource-v0" not in gymnasium.registry:
    _register_all()
