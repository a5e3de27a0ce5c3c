"""HWResource: per-layer PE and buffer assignment under an area or power budget."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from archgym import costmodel as cm
from archgym import workloads
from archgym.envs._common import (ReplayPickle, check_action, check_name, check_render_mode, check_running,
                                  exceeds, figure_rgb, infeasible_reward)

#: ConfuciuX's 12 PE levels and 12 buffer (K-tile) levels.
PE_LEVELS = np.array([1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128], dtype=np.int64)
TILE_LEVELS = np.arange(1, 13, dtype=np.int64)
#: Dataflows an agent may choose per layer with ``dataflow="choose"``.
CHOOSABLE = ("dla", "shi", "eye")
#: Dataflows a whole environment may use by name: the choosable ones and the GEMM preset.
NAMED_DATAFLOWS = (*CHOOSABLE, "gemm")
OBJECTIVES = ("latency", "energy", "edp")
CONSTRAINTS = ("area", "power")
#: "plain" (the default) ranks designs by their objective; "confuciux" is the paper's shaped
#: reward (HWResource-ConfuciuX-v0).
REWARD_MODES = ("plain", "confuciux")
#: The parts of the observation by name (see HWResourceEnv's "Observation Space"), published to
#: agents as ``env.observation_layout``: the layer's 7 dims, its index, the previous action, the step.
OBSERVATION_LAYOUT = {"layer_dims": slice(0, 7), "progress": slice(7, 8), "previous_action": slice(8, 10),
                      "step": slice(10, 11)}
OBS_SIZE = OBSERVATION_LAYOUT["step"].stop
#: The dataflow constants an action binds: tile level, PE count, 1 (ConfuciuX).
CONSTANTS = cm.CONFUCIUX_CONSTANTS
_INT_COLUMNS = {"cycles": cm.INT_FIELDS.index("runtime"), "l1_size": cm.INT_FIELDS.index("l1_size"),
                "l2_size": cm.INT_FIELDS.index("l2_size"), "macs": cm.INT_FIELDS.index("macs")}
_FLOAT_COLUMNS = {k: cm.FLOAT_FIELDS.index(k) for k in ("energy", "area", "power")}
#: The figures a row with repeat r counts r times (r identical layers, same action).
_REPEATED = ("cycles", "macs", "energy", "area", "power")


# --------------------------------------------------------------------- set-up
@dataclass
class _Setup:
    """Everything fixed for an environment: the workload on the core, the budget."""

    workload: workloads.Workload
    layers: dict[str, np.ndarray]  # the cost model's layer fields (cm.LAYER_FIELDS) per layer
    features: np.ndarray  # (L, 7) K, C, Y, X, R, S, T over their model max, in [-1, 1]
    depthwise: np.ndarray  # (L,) bool
    dataflow_names: tuple[str, ...]  # the choices; depthwise layers always use dpt
    dataflows: list[cm.Dataflow]  # dataflow_names + ("dpt",) + the choices over groups
    grouped: np.ndarray  # (L,) bool: NGCONV rows, on the choices' group-by-group variants
    objective: str
    constraint: str
    preset: str
    compat: bool
    hardware: cm.Hardware
    budget: float = 0.0
    min_total: float = 0.0
    max_total: float = 0.0
    reference: float = 1.0  # plain mode: sum over layers of the worst objective

    @property
    def num_layers(self) -> int:
        return len(self.depthwise)

    def evaluate(self, layer, pe_level, tile_level, df_choice) -> cm.BatchResult:
        """The cost model's results for layer indices and action levels (int arrays)."""
        rows = self._rows.take(layer)
        pes = PE_LEVELS[pe_level]
        rows.df_index[:] = np.where(self.depthwise[layer], rows.df_index,
                                    df_choice + self._df_offset[layer])
        rows.hardware[:, self._num_pes] = rows.constants[:, self._cluster] = pes
        rows.constants[:, self._tile] = TILE_LEVELS[tile_level]
        return self._evaluator.run(rows)

    def figures(self, res: cm.BatchResult, layer) -> dict[str, np.ndarray]:
        """The physical figures and the objective of evaluated rows (of layers ``layer``)."""
        out = {name: res.ints[:, i] for name, i in _INT_COLUMNS.items()}
        out.update({name: res.floats[:, i] for name, i in _FLOAT_COLUMNS.items()})
        return self._counted(out, self.workload.repeat[layer])

    def _counted(self, out: dict, repeat):
        """Add the objective; for a row standing for ``repeat`` identical layers given the
        same action, count its objective, cycles, MACs, energy, area and power that often."""
        out["objective"] = objective_value(self.objective, out["cycles"], out["energy"]) * repeat
        for name in _REPEATED:
            out[name] = out[name] * repeat
        return out

    def evaluate_one(self, layer: int, pe_level: int, tile_level: int, df_choice: int) -> dict:
        """One row, as Python numbers: the single environment's fast path.

        Same result as :meth:`evaluate` and :meth:`figures` on one row, through
        the layer's prepared row, changed in place.
        """
        row = self._one[layer]
        if not self.depthwise[layer]:
            row.df_index[0] = df_choice + self._df_offset[layer]
        row.hardware[0, self._num_pes] = row.constants[0, self._cluster] = PE_LEVELS[pe_level]
        row.constants[0, self._tile] = TILE_LEVELS[tile_level]
        res = self._evaluator.run(row)
        iv, fv = res.ints[0].tolist(), res.floats[0].tolist()
        out = {name: iv[i] for name, i in _INT_COLUMNS.items()}
        out.update({name: fv[i] for name, i in _FLOAT_COLUMNS.items()})
        return self._counted(out, int(self.workload.repeat[layer]))

    def __post_init__(self):
        self._evaluator = cm.BatchEvaluator(self.dataflows, self.preset, self.compat)
        # The dataflow of a row is dataflows[choice + offset]: NGCONV rows take the choice's
        # group-by-group variant, after dpt.  One prepared row per layer (depthwise layers
        # on dpt); an action sets the PE count, the tile and the dataflow of a copy.
        n_df = len(self.dataflow_names)
        self._df_offset = np.where(self.grouped, n_df + 1, 0)
        self._rows = self._evaluator.prepare(
            self.layers, self.hardware,
            cm.confuciux_constants(pes=PE_LEVELS[0], tile=TILE_LEVELS[0]),
            df_index=np.where(self.depthwise, n_df, self._df_offset))
        self._one = [self._rows.take([i]) for i in range(self.num_layers)]  # evaluate_one's rows
        self._num_pes = cm.HARDWARE_FIELDS.index("num_pes")
        self._tile, self._cluster = (self._evaluator.constants.index(c)
                                     for c in ("KTileSz", "ClusterSz"))


def objective_value(objective: str, cycles, energy):
    """Per-layer objective (lower is better): cycles, energy or their product (EDP)."""
    if objective == "latency":
        return cycles * 1.0
    if objective == "energy":
        return energy
    return cycles * energy


def group_by_group(df: cm.Dataflow) -> cm.Dataflow:
    """The dataflow for an NGCONV layer: ``TemporalMap(1,1) G`` ahead of its directives,
    one group after another, as MAESTRO's own NGCONV mappings (ResNeXt50_*.m) write it
    (unchanged if it maps G already)."""
    if any(d.var == "G" for level in df.levels for d in level):
        return df
    top = (cm.Directive("T", "G", 1, 1), *df.levels[0])
    return cm.Dataflow((top, *df.levels[1:]), df.clusters, df.name, df.params)


def _resolve_dataflows(dataflow) -> tuple[tuple[str, ...], list[cm.Dataflow]]:
    """The choices' names, and the dataflows: the choices, dpt, the choices group by group."""
    if isinstance(dataflow, cm.Dataflow):  # its constants must be among CONSTANTS
        names, choices = (dataflow.name or "custom",), [dataflow.with_params(CONSTANTS)]
    elif dataflow == "choose":
        names, choices = CHOOSABLE, [cm.DATAFLOWS[n] for n in CHOOSABLE]
    elif dataflow in NAMED_DATAFLOWS:
        names, choices = (dataflow,), [cm.DATAFLOWS[dataflow]]
    else:
        raise ValueError(f"unknown dataflow {dataflow!r}; allowed: {', '.join(NAMED_DATAFLOWS)}, "
                         "'choose' (per layer) or an archgym.costmodel.Dataflow")
    return names, [*choices, cm.DATAFLOWS["dpt"], *map(group_by_group, choices)]


def _layer_fields(w: workloads.Workload, stride_aware) -> dict[str, np.ndarray]:
    """A workload's layers as the cost model's named layer fields (:data:`cm.LAYER_FIELDS`).

    Every row keeps its MAESTRO type (``w.type``); an NGCONV row is given as G = groups
    groups of K / G outputs and C / G inputs (MAESTRO's per-group K, C).
    With ``stride_aware=True``, a strided layer is modelled as the stride-1 layer with the
    same output size: Y_eff = (Y + 2 pad - R) // stride + R (likewise X), which
    makes MACs and output sizes exact and the input tile that of the output.  With
    ``stride_aware="maestro"`` the layer is MAESTRO's: input Y + 2 pad (MAESTRO has no
    padding) and ``stride_y = stride_x = stride`` (the engine's Stride, design §20.1).
    """
    dims = dict(zip(workloads.DIMS, w.layers.T))  # K, C, Y, X, R, S and T (2 = depthwise)
    del dims["T"]  # the same as type DSCONV
    grouped = w.type == "NGCONV"
    for per_group in ("K", "C"):
        dims[per_group] = np.where(grouped, dims[per_group] // w.groups, dims[per_group])
    fields = {"type": np.array([cm.LAYER_TYPES.index(t) for t in w.type], dtype=np.int64),
              "G": np.where(grouped, w.groups, cm.LAYER_DEFAULTS["G"])}
    if stride_aware == "maestro":
        for size in ("Y", "X"):
            dims[size] = dims[size] + 2 * w.pad
        fields.update(stride_y=w.stride, stride_x=w.stride)
    elif stride_aware:
        for size, window in (("Y", "R"), ("X", "S")):
            dims[size] = (dims[size] + 2 * w.pad - dims[window]) // w.stride + dims[window]
    return {**fields, **dims}


def make_setup(workload="mobilenet_v2", dataflow="dla", objective="latency", constraint="area",
               mul=0.5, preset="maestro2021", compat=True, stride_aware=False,
               hardware: cm.Hardware | None = None, need_reference=False) -> _Setup:
    """Validate the arguments and build the fixed part of an environment."""
    if isinstance(workload, str):
        w = workloads.load(workload)
    elif isinstance(workload, workloads.Workload):
        w = workload
    else:
        raise ValueError("workload must be a name (see archgym.workloads.list_workloads()) "
                         f"or a Workload, got {type(workload).__name__}")
    for name, value, allowed in (("objective", objective, OBJECTIVES),
                                 ("constraint", constraint, CONSTRAINTS),
                                 ("preset", preset, tuple(cm.PRESETS))):
        check_name(name, value, allowed)
    if isinstance(mul, bool) or not isinstance(mul, numbers.Real) or not 0.0 <= float(mul) <= 1.0:
        raise ValueError(f"mul must be a number in [0, 1], got {mul!r}")
    if not (isinstance(stride_aware, (bool, np.bool_)) or stride_aware == "maestro"):
        raise ValueError(f"stride_aware must be False, True or 'maestro', got {stride_aware!r}")
    if hardware is not None and not isinstance(hardware, cm.Hardware):
        raise ValueError(f"hardware must be an archgym.costmodel.Hardware or None (ConfuciuX's NoC "
                         f"settings), got {type(hardware).__name__} {hardware!r}")
    names, dfs = _resolve_dataflows(dataflow)
    dims = w.layers.astype(np.float64)
    setup = _Setup(workload=w, layers=_layer_fields(w, stride_aware),
                   features=(2.0 * dims / dims.max(axis=0) - 1.0).astype(np.float32),
                   depthwise=w.layers[:, 6] == 2, dataflow_names=names, dataflows=dfs,
                   grouped=w.type == "NGCONV",
                   objective=objective, constraint=constraint, preset=preset,
                   compat=bool(compat), hardware=hardware or cm.Hardware())

    # Budget = min + mul (max - min) over the two corner assignments (ConfuciuX),
    # for the dataflow choice that makes each corner extreme.
    L, n_df = setup.num_layers, len(names)
    layer = np.repeat(np.arange(L), n_df)
    choice = np.tile(np.arange(n_df), L)
    lo = setup.figures(setup.evaluate(layer, 0 * layer, 0 * layer, choice), layer)[constraint]
    hi = setup.figures(setup.evaluate(layer, 0 * layer + 11, 0 * layer + 11, choice), layer)[constraint]
    setup.min_total = float(lo.reshape(L, n_df).min(axis=1).sum())
    setup.max_total = float(hi.reshape(L, n_df).max(axis=1).sum())
    setup.budget = setup.min_total + float(mul) * (setup.max_total - setup.min_total)
    if need_reference:
        # Worst objective of every layer over all actions: feasible plain rewards lie in [-1, 0).
        grid = np.array(np.meshgrid(np.arange(L), np.arange(12), np.arange(12), np.arange(n_df),
                                    indexing="ij")).reshape(4, -1)
        worst = setup.figures(setup.evaluate(*grid), grid[0])["objective"].reshape(L, -1).max(axis=1)
        setup.reference = float(worst.sum())
    return setup


# ------------------------------------------------------------- ConfuciuX's penalty
def overshoot_penalty(reward_sum, used, budget):
    """ConfuciuX's penalty when the budget is exceeded: -(earlier rewards) * overshoot."""
    return -reward_sum * (used - budget) / budget


# ----------------------------------------------------------------- single env
class HWResourceEnv(ReplayPickle, gym.Env):
    """Assign PEs and a buffer (K-tile) size to each layer of a DNN under a budget.

    ## Description
    ConfuciuX (Kao, Jeong and Krishna, MICRO 2020, arXiv:2009.02010): each layer
    of a DNN runs on its own sub-accelerator with a dataflow style (NVDLA-like
    ``dla``, ShiDianNao-like ``shi``, Eyeriss-like ``eye``; depthwise layers
    always use ``dpt``).  The agent picks, layer by layer, the number of PEs and
    the K-tile ("buffer") level; the MAESTRO-style cost model
    (:mod:`archgym.costmodel`, reproducing MAESTRO exactly) gives each layer's
    cycles, energy, area and power.  The area (or power) summed over layers must
    stay within a budget (exceeding it by more than a relative 1e-9, which
    absorbs float rounding: the corner designs that define it are feasible).

    ## Action Space
    ``MultiDiscrete([12, 12])``: index into the PE levels
    (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128) and the tile levels 1..12.
    With ``dataflow="choose"``, ``MultiDiscrete([12, 12, 3])``: the third
    component picks dla, shi or eye for the layer.

    ## Observation Space
    ``Box(-1, 1, (11,), float32)``: the layer's K, C, Y, X, R, S, T over their
    maximum in the model, the layer index / #layers, the previous PE count / 128
    and previous tile / 12 (these 10 mapped from [0, 1] to [-1, 1]), and the
    step / #layers in [0, 1].  By default the layer shown is the one the next
    action assigns; ``obs_lag=True`` shows the layer just assigned, as the
    original does.  After the last layer the 7 dims and the index are -1.
    The attribute ``observation_layout`` names these parts (slices of the
    observation): ``layer_dims`` (0:7), ``progress`` (7:8, the layer index),
    ``previous_action`` (8:10) and ``step`` (10:11).

    ## Rewards
    ``reward_mode="plain"`` (default): 0 until the last layer, then
    -total / reference, where total is the design's objective (summed over
    layers) and reference sums each layer's worst objective over all actions,
    so a feasible design scores in [-1, 0) and the episode return orders
    feasible designs exactly as their objective does; exceeding the budget
    ends the episode with -1 - (used - budget) / budget, below every feasible
    design.
    ``reward_mode="confuciux"`` (the paper's shaped reward,
    ``HWResource-ConfuciuX-v0``): with raw_t = -objective_t,
    r_t = raw_t - min(raw_1..raw_t) >= 0 (the minimum runs over the episode).
    If the budget is exceeded the step's reward is
    -(sum of earlier rewards) * (used - budget) / budget and the episode ends.
    Its return does not rank designs (a design with a few very slow layers
    collects large rewards on the others): keep the design with the best
    ``info["objective"]``, not the best return.  Higher is better in both.

    ## Starting State
    The first layer (in model order, or a random order with ``shuffle=True``),
    previous action 0.

    ## Episode End
    Terminates after the last layer or when the budget is exceeded
    (``info["reason"] == "budget exceeded"``).  Never truncates.

    ## Arguments
    ``workload`` (name like ``"mobilenet_v2"``, ``"corrected/resnet50"``,
    ``"typed/bert_base"`` or a :class:`archgym.workloads.Workload`; a row with
    repeat r counts r times, as r layers given the same action), ``dataflow`` (dla,
    shi, eye, gemm, choose or a :class:`~archgym.costmodel.Dataflow`; NGCONV rows run
    it group by group, ``TemporalMap(1,1) G`` first), ``objective`` (latency, energy, edp:
    summed over layers, edp per layer), ``constraint`` (area, power), ``mul``
    (budget = min + mul (max - min), default 0.5), ``reward_mode``,
    ``obs_lag``, ``shuffle``, ``preset`` (maestro2021, maestro2020), ``compat``
    (MAESTRO's reporting quirks, default True), ``stride_aware`` (for tables with
    stride and padding: False ignores them, True evaluates the stride-1 layer with
    the same output size, "maestro" MAESTRO's Stride on the padded input, as the
    typed variants do), ``hardware`` (a :class:`~archgym.costmodel.Hardware`;
    default ConfuciuX's NoC settings), ``render_mode`` ("ansi": a table of the
    assigned layers; "rgb_array": bars of every layer's PEs and tile, drawn
    with matplotlib).

    ``info`` has the layer's cycles, energy, area, power, l1_size, l2_size,
    macs, the running totals (``total_*``), ``budget``, ``used``,
    ``objective`` (the design's objective so far: total cycles, energy or
    summed per-layer EDP) and ``objective_sense`` ("min"); at the end of an
    episode ``per_layer`` lists every assigned layer's figures and
    ``feasible`` says whether the design kept within the budget.

    ## Version History
    * v0 (revised): the default reward is "plain", whose return ranks feasible
      designs by their objective (ConfuciuX's shaped reward ranked 201 random
      feasible MobileNet-V2 designs against their total cycles with Spearman
      -0.17; benchmarks/rank_returns.py); the shaped reward is
      ``reward_mode="confuciux"`` and the id HWResource-ConfuciuX-v0.  Adds
      ``info["objective_sense"]``, the "rgb_array" render mode and pickling.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    #: The observation's parts by name (slices): layer_dims, progress, previous_action, step.
    observation_layout = OBSERVATION_LAYOUT

    def __init__(self, workload="mobilenet_v2", dataflow="dla", objective="latency",
                 constraint="area", mul=0.5, reward_mode="plain", obs_lag=False,
                 shuffle=False, preset="maestro2021", compat=True, stride_aware=False,
                 hardware: cm.Hardware | None = None, render_mode: str | None = None):
        check_name("reward_mode", reward_mode, REWARD_MODES)
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.setup = make_setup(workload, dataflow, objective, constraint, mul, preset, compat,
                                stride_aware, hardware, need_reference=reward_mode == "plain")
        self.reward_mode, self.obs_lag, self.shuffle = reward_mode, bool(obs_lag), bool(shuffle)
        self.render_mode = render_mode
        n_df = len(self.setup.dataflow_names)
        self._nvec = np.array([12, 12] + ([n_df] if n_df > 1 else []), dtype=np.int64)
        self.action_space = spaces.MultiDiscrete(self._nvec)
        self.observation_space = spaces.Box(-1.0, 1.0, (OBS_SIZE,), dtype=np.float32)
        self._order = np.arange(self.setup.num_layers)
        self._t, self._per_layer, self._used, self._total = 0, [], 0.0, 0.0

    # The per-episode state is a handful of numbers.
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._record_reset(options)
        L = self.setup.num_layers
        self._order = self.np_random.permutation(L) if self.shuffle else np.arange(L)
        self._t, self._prev = 0, (0, 0)
        self._raw_min, self._reward_sum, self._used, self._total = np.inf, 0.0, 0.0, 0.0
        self._totals = {"cycles": 0, "energy": 0.0, "area": 0.0, "power": 0.0}
        self._per_layer: list[dict] = []
        self._done = False
        return self._obs(self._order[0]), {"budget": self.setup.budget}

    def step(self, action):
        check_running(self._done)
        a = check_action(action, self._nvec)
        self._record_step(action)
        s, layer = self.setup, int(self._order[self._t])
        choice = a[2] if len(a) == 3 else 0
        figures = s.evaluate_one(layer, a[0], a[1], choice)
        objective = figures.pop("objective")
        info = {"layer": layer, "pes": int(PE_LEVELS[a[0]]), "tile": int(TILE_LEVELS[a[1]]),
                "dataflow": "dpt" if s.depthwise[layer] else s.dataflow_names[choice], **figures}
        cost = info[s.constraint]
        self._per_layer.append(info.copy())
        for key in self._totals:
            self._totals[key] += info[key]
        self._used += cost
        self._total += objective
        self._t += 1
        self._prev = (info["pes"], info["tile"])
        over = exceeds(self._used, s.budget)
        last = self._t == s.num_layers
        if self.reward_mode == "confuciux":
            raw = -objective
            self._raw_min = min(self._raw_min, raw)
            reward = overshoot_penalty(self._reward_sum, self._used, s.budget) if over \
                else raw - self._raw_min
        elif over:
            reward = infeasible_reward(self._used, s.budget)
        else:
            reward = -self._total / s.reference if last else 0.0
        self._reward_sum += reward
        self._done = over or last
        info.update({f"total_{k}": v for k, v in self._totals.items()},
                    objective=self._total, objective_sense="min", budget=s.budget, used=self._used)
        if over:
            info["reason"] = "budget exceeded"
        if self._done:
            info.update(per_layer=self._per_layer, feasible=not over)
        shown = layer if self.obs_lag else (None if last or over else int(self._order[self._t]))
        return self._obs(shown), float(reward), self._done, False, info

    def _obs(self, layer) -> np.ndarray:
        L, part = self.setup.num_layers, self.observation_layout
        obs = np.full(OBS_SIZE, -1.0, dtype=np.float32)
        if layer is not None:
            obs[part["layer_dims"]] = self.setup.features[layer]
            obs[part["progress"]] = 2.0 * layer / L - 1.0
        obs[part["previous_action"]] = (2.0 * self._prev[0] / 128 - 1.0, 2.0 * self._prev[1] / 12 - 1.0)
        obs[part["step"]] = self._t / L
        return obs

    def render(self):
        if self.render_mode == "rgb_array":
            return figure_rgb(self._draw)
        if self.render_mode != "ansi":
            return None
        s = self.setup
        lines = [f"{s.workload.name}: {s.objective} under {s.constraint} budget "
                 f"{s.budget:.4g} (used {self._used:.4g})",
                 f"{'layer':>5} {'dataflow':>8} {'PEs':>4} {'tile':>4} {'cycles':>12} {s.constraint:>12}"]
        for r in self._per_layer:
            lines.append(f"{r['layer']:>5} {r['dataflow']:>8} {r['pes']:>4} {r['tile']:>4} "
                         f"{r['cycles']:>12} {r[s.constraint]:>12.4g}")
        return "\n".join(lines)

    def _draw(self, fig) -> None:
        """Per-layer allocation bars: PE level (labelled with the PE count) and tile level of every assigned layer."""
        s, L = self.setup, self.setup.num_layers
        pes, tiles = np.zeros(L), np.zeros(L)
        for r in self._per_layer:
            pes[r["layer"]] = np.searchsorted(PE_LEVELS, r["pes"]) + 1
            tiles[r["layer"]] = r["tile"]
        colour = np.where(s.depthwise, "tab:orange", "tab:blue")  # depthwise layers run dpt
        top, bottom = fig.subplots(2, 1, sharex=True)
        top.bar(np.arange(L), pes, color=colour)
        top.set_ylim(0, len(PE_LEVELS))
        top.set_yticks(np.arange(1, len(PE_LEVELS) + 1, 2), [str(p) for p in PE_LEVELS[::2]])
        top.set_ylabel("PEs")
        bottom.bar(np.arange(L), tiles, color=colour)
        bottom.set_ylim(0, TILE_LEVELS[-1])
        bottom.set_ylabel("tile level")
        bottom.set_xlabel("layer (orange: depthwise, dpt)")
        fig.suptitle(f"{s.workload.name}, {len(self._per_layer)}/{L} layers: {s.constraint} "
                     f"{self._used:.4g} of {s.budget:.4g}, total {s.objective} {self._total:.4g}",
                     fontsize=9)


# ----------------------------------------------------------------- vector env
class HWResourceVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`HWResourceEnv` stepped in one core call.

    Same arguments, spaces and rewards as the single environment; sub-environments
    reset themselves on the step after they end (Gymnasium's NEXT_STEP autoreset).
    ``info`` holds arrays: cycles, energy, area, power, l1_size, l2_size, used,
    objective (the design's so far), and ``reason`` where the budget was exceeded.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}
    observation_layout = OBSERVATION_LAYOUT

    def __init__(self, num_envs: int = 1, workload="mobilenet_v2", dataflow="dla",
                 objective="latency", constraint="area", mul=0.5, reward_mode="plain",
                 obs_lag=False, shuffle=False, preset="maestro2021", compat=True,
                 stride_aware=False, hardware: cm.Hardware | None = None, render_mode=None):
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        check_render_mode(render_mode, self.metadata["render_modes"])
        template = HWResourceEnv(workload, dataflow, objective, constraint, mul, reward_mode,
                                 obs_lag, shuffle, preset, compat, stride_aware, hardware)
        self.setup, self.reward_mode = template.setup, reward_mode
        self.obs_lag, self.shuffle = template.obs_lag, template.shuffle
        self._nvec = template._nvec
        self.num_envs = num_envs
        self.single_action_space = template.action_space
        self.single_observation_space = template.observation_space
        self.action_space = spaces.MultiDiscrete(np.tile(self._nvec, (num_envs, 1)))
        self.observation_space = spaces.Box(-1.0, 1.0, (num_envs, OBS_SIZE), dtype=np.float32)
        self.render_mode = render_mode
        n, L = num_envs, self.setup.num_layers
        self._order = np.tile(np.arange(L), (n, 1))
        self._t = np.zeros(n, dtype=np.int64)
        self._prev = np.zeros((n, 2), dtype=np.int64)
        self._raw_min = np.full(n, np.inf)
        self._reward_sum, self._used, self._total = np.zeros(n), np.zeros(n), np.zeros(n)
        self._needs_reset = np.zeros(n, dtype=bool)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._reset(np.ones(self.num_envs, dtype=bool))
        return self._obs(np.zeros(self.num_envs, dtype=bool)), {"budget": np.full(self.num_envs, self.setup.budget)}

    def _reset(self, mask: np.ndarray) -> None:
        L = self.setup.num_layers
        for i in np.flatnonzero(mask):
            self._order[i] = self.np_random.permutation(L) if self.shuffle else np.arange(L)
        self._t[mask], self._prev[mask] = 0, 0
        self._raw_min[mask] = np.inf
        self._reward_sum[mask] = self._used[mask] = self._total[mask] = 0.0
        self._needs_reset[mask] = False

    def step(self, actions):
        s, n = self.setup, self.num_envs
        acts = np.asarray(actions)
        if acts.shape != (n, self._nvec.shape[0]):
            raise ValueError(f"actions must have shape {(n, self._nvec.shape[0])}, got {acts.shape}")
        acts = np.array([check_action(a, self._nvec) for a in acts], dtype=np.int64)
        resetting = self._needs_reset.copy()
        self._reset(resetting)
        live = ~resetting
        rows = np.arange(n)
        layer = self._order[rows, np.minimum(self._t, s.num_layers - 1)]
        choice = acts[:, 2] if acts.shape[1] == 3 else np.zeros(n, dtype=np.int64)
        figures = s.figures(s.evaluate(layer, acts[:, 0], acts[:, 1], choice), layer)
        objective, cost = figures.pop("objective"), figures[s.constraint]
        self._used = np.where(live, self._used + cost, self._used)
        self._total = np.where(live, self._total + objective, self._total)
        self._t += live
        self._prev = np.where(live[:, None], np.stack([PE_LEVELS[acts[:, 0]], TILE_LEVELS[acts[:, 1]]], 1),
                              self._prev)
        over = live & exceeds(self._used, s.budget)
        last = live & (self._t == s.num_layers)
        if self.reward_mode == "confuciux":
            raw = -objective
            self._raw_min = np.where(live, np.minimum(self._raw_min, raw), self._raw_min)
            reward = np.where(over, overshoot_penalty(self._reward_sum, self._used, s.budget),
                              raw - self._raw_min)
        else:
            reward = np.where(over, infeasible_reward(self._used, s.budget),
                              np.where(last, -self._total / s.reference, 0.0))
        reward = np.where(live, reward, 0.0)
        self._reward_sum += reward
        terminated = over | last
        self._needs_reset = terminated
        info = {k: np.where(live, v, 0) for k, v in figures.items()}
        info["used"] = self._used.copy()
        info["objective"] = self._total.copy()
        if over.any():
            info["reason"] = np.where(over, "budget exceeded", "")
            info["_reason"] = over
        return self._obs(terminated), reward.astype(np.float64), terminated, np.zeros(n, dtype=bool), info

    def _obs(self, ended: np.ndarray) -> np.ndarray:
        s, n, L = self.setup, self.num_envs, self.setup.num_layers
        rows = np.arange(n)
        if self.obs_lag:
            shown = self._order[rows, np.maximum(self._t - 1, 0)]
            blank = np.zeros(n, dtype=bool)
        else:
            shown = self._order[rows, np.minimum(self._t, L - 1)]
            blank = ended
        part = self.observation_layout
        obs = np.empty((n, OBS_SIZE), dtype=np.float32)
        obs[:, part["layer_dims"]] = s.features[shown]
        obs[:, part["progress"]] = (2.0 * shown / L - 1.0)[:, None]
        obs[blank, part["layer_dims"]] = obs[blank, part["progress"]] = -1.0
        obs[:, part["previous_action"]] = np.stack([2.0 * self._prev[:, 0] / 128 - 1.0,
                                                   2.0 * self._prev[:, 1] / 12 - 1.0], axis=1)
        obs[:, part["step"]] = (self._t / L)[:, None]
        return obs
