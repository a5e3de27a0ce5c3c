"""Quant: HAQ-style mixed-precision quantization under a hardware budget, accuracy measured on real data."""

from __future__ import annotations

import functools
import math
import numbers
from collections import OrderedDict
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym import quant as q
from archgym.quant.data import FASHION_SHIPPED_TEST
from archgym.envs._common import (ReplayPickle, check_action, check_name, check_render_mode, check_running,
                                  exceeds, infeasible_reward)

#: Bits an action picks: index i -> i + 2 (2..8, HAQ's range up to the core's largest integer bits).
MIN_BITS, MAX_BITS = 2, q.MAX_INT_BITS
NUM_LEVELS = MAX_BITS - MIN_BITS + 1
OVER_BUDGET = ("wall", "terminate")
ACCELERATORS = ("bitserial", "bitfused")
#: Static per-layer features (see the docstring) and the dynamic ones of the sequential env.
STATIC_FEATURES = 11
OBS_SIZE = STATIC_FEATURES + 3
#: Default number of held-out images the reward is measured on (None: the whole split);
#: for Fashion-MNIST the test images shipped with the package.
DEFAULT_EVAL_IMAGES = {"digits_cnn": None, "fashion_lenet": FASHION_SHIPPED_TEST, "fashion_dscnn": FASHION_SHIPPED_TEST}
_ACCURACY_CACHE = 4096


def _objective_key(objective: str) -> str:
    return {"latency": "latency_s", "energy": "energy_j", "size": "size_bytes"}[objective]


@dataclass
class _Setup:
    """Everything fixed for an environment (shared between instances with the same arguments)."""

    model: q.QuantModel
    hw: q.HardwareCost
    objective: str
    images: np.ndarray
    labels: np.ndarray
    float_accuracy: float  # percent, on the evaluation images
    cost_w8a8: float
    budget: float
    budget_fraction: float
    fixed: tuple[int, ...]  # layers held at 8 bits
    features: np.ndarray  # (L, STATIC_FEATURES) float32 in [0, 1]
    _cache: OrderedDict = field(default_factory=OrderedDict)

    @property
    def num_layers(self) -> int:
        return self.model.num_layers

    def cost(self, wbits, abits) -> float:
        """The objective's value (seconds, joules or bytes) of one configuration."""
        return float(self.hw.objective(self.objective, wbits, abits)[0])

    def accuracy(self, wbits: tuple, abits: tuple) -> float:
        """Accuracy (percent) on the evaluation images, memoised (the core is deterministic)."""
        key = (wbits, abits)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        correct = self.model.correct(np.array(wbits), np.array(abits), images=self.images, labels=self.labels)
        acc = 100.0 * float(correct[0]) / len(self.labels)
        self._cache[key] = acc
        if len(self._cache) > _ACCURACY_CACHE:
            self._cache.popitem(last=False)
        return acc

    def action_wall(self, wbits: list[int], abits: list[int]) -> tuple[list[int], list[int]]:
        """HAQ's action wall: lower bits until the budget holds.

        Rounds over the layers in order: the layer's weight bits drop by one (if
        above 2), then its activation bits (if above 2), checking the budget
        after each change; fixed layers are skipped.  Always ends: the
        all-2-bit design fits (checked when the environment is built).
        """
        w, a = list(wbits), list(abits)
        while exceeds(self.cost(w, a), self.budget):
            for l in range(self.num_layers):
                if l in self.fixed:
                    continue
                for bits in (w, a):
                    if bits[l] > MIN_BITS:
                        bits[l] -= 1
                        if not exceeds(self.cost(w, a), self.budget):
                            return w, a
        return w, a


def _features(model: q.QuantModel, hw: q.HardwareCost, objective: str) -> np.ndarray:
    L = model.num_layers
    g = model.geometry
    f = np.zeros((L, STATIC_FEATURES), dtype=np.float64)
    for l, spec in enumerate(model.layers):
        f[l, q.KINDS.index(spec.kind)] = 1.0
        f[l, 3] = spec.in_channels
        f[l, 4] = spec.out_channels
        f[l, 5] = spec.kernel
        f[l, 6] = spec.stride
        f[l, 7] = math.log2(1.0 + model.num_weights[l])
        f[l, 8] = g["in_h"][l] * g["in_w"][l]
        f[l, 9] = l / max(L - 1, 1)
    for col in (3, 4, 5, 6, 7, 8):
        f[:, col] /= f[:, col].max()
    eight = np.full((1, L), 8)
    per = hw.per_layer(eight, eight)
    share = {"latency": per["cycles"][0].astype(np.float64), "energy": per["energy_pj"][0],
             "size": per["size_bits"][0].astype(np.float64)}[objective]
    f[:, 10] = share / share.sum() if share.sum() > 0 else 0.0
    return f.astype(np.float32)


@functools.lru_cache(maxsize=32)
def make_setup(model="digits_cnn", objective="latency", accelerator="bitserial", preset="edge",
               budget=0.6, eval_images=-1, calibration="mse", fix_first_last=False) -> _Setup:
    """Validate the arguments and build (or reuse) the fixed part of an environment."""
    model = q.WORKLOAD_NAMES.get(model, model)  # the unified name "quant/digits_cnn" is "digits_cnn"
    for name, value, allowed in (("model", model, q.MODELS), ("objective", objective, q.OBJECTIVES),
                                 ("accelerator", accelerator, ACCELERATORS), ("preset", preset, q.PRESETS)):
        check_name(name, value, allowed)
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not 0.0 < float(budget) <= 1.0:
        raise ValueError(f"budget must be a fraction of the W8A8 cost in (0, 1], got {budget!r}")
    m = q.load_model(model, calibration)
    size = q.split_size(m.dataset, "test")
    if eval_images == -1:
        eval_images = DEFAULT_EVAL_IMAGES.get(model)
    if eval_images is not None and (isinstance(eval_images, bool) or not isinstance(eval_images, numbers.Integral)
                                    or not 1 <= eval_images <= size):
        raise ValueError(f"eval_images must be None (the whole held-out split) or an integer in "
                         f"1..{size}, got {eval_images!r}")
    # Fashion-MNIST beyond the shipped test images raises DatasetNotInstalledError (the Debian package).
    images, labels = q.load_split(m.dataset, "test", eval_images)
    hw = q.HardwareCost(m, preset=preset, design=accelerator)
    L = m.num_layers
    fixed = (0, L - 1) if fix_first_last else ()
    floats = np.full(L, q.FLOAT_BITS)
    float_acc = 100.0 * float(m.correct(floats, floats, images=images, labels=labels)[0]) / len(labels)
    eight = [8] * L
    cost8 = float(hw.objective(objective, eight, eight)[0])
    setup = _Setup(model=m, hw=hw, objective=objective, images=images, labels=labels,
                   float_accuracy=float_acc, cost_w8a8=cost8, budget=float(budget) * cost8,
                   budget_fraction=float(budget), fixed=fixed, features=_features(m, hw, objective))
    low = [8 if l in fixed else MIN_BITS for l in range(L)]
    least = setup.cost(low, low)
    if exceeds(least, setup.budget):
        raise ValueError(f"budget {budget} x the W8A8 {objective} cannot be met: the cheapest design "
                         f"(2-bit layers) needs {least / cost8:.3f} x; raise the budget")
    return setup


class QuantEnv(ReplayPickle, gym.Env):
    """Choose weight and activation bits layer by layer under a hardware budget.

    ## Description
    HAQ (Wang, Liu, Lin, Lin and Han, "HAQ: Hardware-Aware Automated
    Quantization with Mixed Precision", CVPR 2019, arXiv:1811.08886): an agent
    walks through the quantizable layers of a trained CNN and picks each
    layer's weight and activation bits; the resulting mixed-precision model is
    evaluated by integer inference (the compiled core, :mod:`archgym.quant`:
    symmetric per-channel weights, calibrated unsigned activations, int32
    accumulators, docs/quant.md) on a held-out split of real images, and its
    latency, energy or size by an analytic bit-flexible accelerator model
    (bit-serial BISMO-like or bit-fused BitFusion-like, on a MAESTRO-style
    dataflow with a DRAM roofline; labelled analytic, not measured).  The
    budget is a fraction of the uniform 8-bit (W8A8) cost.  Post-training
    quantization: no fine-tuning between episodes.

    ## Action Space
    ``MultiDiscrete([7, 7])``: (weight bits - 2, activation bits - 2) for the
    current layer, bits in 2..8.  The activation bits are those of the layer's
    input (layer 0: the image).

    ## Observation Space
    ``Box(0, 1, (14,), float32)``: the current layer's type (one-hot conv,
    depthwise conv, linear), input channels, output channels, kernel size,
    stride, log2(1 + #weights), input feature-map size (H*W) (each over its
    maximum in the model), index / (L - 1), the layer's share of the W8A8
    cost; then the previous action's weight and activation bits as
    (bits - 2) / 6 (0 at the start), and the budget slack: (budget - lower
    bound) / budget clipped to [0, 1], where the lower bound is the cost of
    the bits chosen so far with every later layer at 2 bits.  After the last
    layer the 11 layer features are 0.

    ## Rewards
    0 on every step but the last.  At the end the design's bits (after the
    action wall) are evaluated and the reward is
    ``reward_scale * (accuracy - float_accuracy)``, both in percent on the
    evaluation images (HAQ's 0.1 (acc - acc_fp); higher is better, 0 for no
    loss).  With ``over_budget="terminate"``, a step after which the budget
    can no longer be met (the lower bound exceeds it) ends the episode with
    ``-reward_scale * float_accuracy - 1 - (lower bound - budget) / budget``,
    below every feasible reward, and ``info["reason"] = "budget exceeded"``.

    ## Starting State
    The first layer, previous action 0.  Nothing is random: ``reset(seed)``
    only seeds ``np_random`` (unused).

    ## Episode End
    Terminates after the last layer (or, with ``over_budget="terminate"``,
    when the budget cannot be met).  Never truncates.

    ## Arguments
    ``model`` (``"digits_cnn"``: the default CNN on scikit-learn's digits;
    ``"fashion_lenet"``: LeNet-style on Fashion-MNIST, whose calibration
    images and first 2,000 test images ship with the package; more test
    images need the Debian package dataset-fashion-mnist;
    ``"fashion_dscnn"``: a 12-layer depthwise-separable CNN on Fashion-MNIST,
    the same images),
    ``objective`` (latency, energy, size),
    ``accelerator`` (bitserial, bitfused), ``preset`` (edge, cloud),
    ``budget`` (fraction of the W8A8 cost, default 0.6), ``over_budget``
    ("wall": HAQ's action wall at the end of the episode, lowering bits layer
    by layer until the design fits, default; "terminate": the penalty above),
    ``reward_scale`` (0.1), ``eval_images`` (how many held-out images the
    reward uses; default all 540 for digits, the first 2,000 of the 10,000
    Fashion-MNIST test images; None = all), ``calibration`` ("mse": per-layer
    clip minimising the quantization error, "max"), ``fix_first_last`` (keep
    the first and last layers at 8 bits as HAQ does; default False),
    ``render_mode`` ("ansi").

    ``info`` at the end: ``accuracy`` and ``float_accuracy`` (percent),
    ``cost`` (the budgeted figure in its unit: s, J or bytes), ``cost_figure``
    (its name: latency, energy or size), ``budget``,
    ``cost_w8a8``, ``wbits``/``abits`` (evaluated, after the wall),
    ``chosen_wbits``/``chosen_abits`` (the agent's), ``latency_s``,
    ``cycles``, ``energy_j``, ``size_bytes``, ``eval_images``, and
    ``objective`` (the accuracy at the budget, percent; None for a design
    ended over the budget), ``objective_sense`` ("max") and ``feasible``.
    On other steps: ``layer``, ``w``, ``a``, ``lower_bound``, ``budget``.

    ## Version History
    * v0 (revised): ``info["objective"]`` is the design's figure of merit
      (the accuracy) and the budgeted figure's name moved to
      ``info["cost_figure"]``; ``objective_sense`` and ``feasible`` added;
      the env pickles; Fashion-MNIST ships with the package.
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, model="digits_cnn", objective="latency", accelerator="bitserial", preset="edge",
                 budget=0.6, over_budget="wall", reward_scale=0.1, eval_images=-1, calibration="mse",
                 fix_first_last=False, render_mode=None):
        check_name("over_budget", over_budget, OVER_BUDGET)
        if isinstance(reward_scale, bool) or not isinstance(reward_scale, numbers.Real) or \
                not math.isfinite(reward_scale) or reward_scale <= 0:
            raise ValueError(f"reward_scale must be a positive number, got {reward_scale!r}")
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.setup = make_setup(model, objective, accelerator, preset, budget, eval_images, calibration,
                                bool(fix_first_last))
        self.over_budget, self.reward_scale = over_budget, float(reward_scale)
        self.render_mode = render_mode
        self._nvec = np.array([NUM_LEVELS, NUM_LEVELS], dtype=np.int64)
        self.action_space = spaces.MultiDiscrete(self._nvec)
        self.observation_space = spaces.Box(0.0, 1.0, (OBS_SIZE,), dtype=np.float32)
        self._w: list[int] = []
        self._a: list[int] = []
        self._done = True
        self._last_info: dict = {}

    # ------------------------------------------------------------ helpers
    def _bits(self, action) -> tuple[int, int]:
        wi, ai = check_action(action, self._nvec)
        return wi + MIN_BITS, ai + MIN_BITS

    def _lower_bound(self) -> float:
        L, t, s = self.setup.num_layers, len(self._w), self.setup
        rest = [8 if l in s.fixed else MIN_BITS for l in range(t, L)]
        return s.cost(self._w + rest, self._a + rest)

    def _obs(self) -> np.ndarray:
        s, t = self.setup, len(self._w)
        obs = np.zeros(OBS_SIZE, dtype=np.float32)
        if t < s.num_layers:
            obs[:STATIC_FEATURES] = s.features[t]
        if t:
            obs[STATIC_FEATURES] = (self._w[-1] - MIN_BITS) / (MAX_BITS - MIN_BITS)
            obs[STATIC_FEATURES + 1] = (self._a[-1] - MIN_BITS) / (MAX_BITS - MIN_BITS)
        obs[STATIC_FEATURES + 2] = min(1.0, max(0.0, (s.budget - self._lower_bound()) / s.budget))
        return obs

    def penalty(self, used):
        """The reward of a design whose cost (or lower bound) ``used`` is over the budget.

        Below every feasible reward (those are >= -reward_scale * float_accuracy); elementwise on arrays.
        """
        s = self.setup
        return infeasible_reward(used, s.budget, floor=-self.reward_scale * s.float_accuracy - 1.0)

    def final_info(self, wbits, abits) -> tuple[float, dict]:
        """Evaluate a complete bit assignment (action wall in "wall" mode): (reward, info)."""
        s = self.setup
        chosen_w, chosen_a = list(wbits), list(abits)
        w, a = s.action_wall(chosen_w, chosen_a) if self.over_budget == "wall" else (chosen_w, chosen_a)
        acc = s.accuracy(tuple(w), tuple(a))
        figures = s.hw.evaluate(w, a)
        info = {"accuracy": acc, "float_accuracy": s.float_accuracy, "cost": s.cost(w, a), "budget": s.budget,
                "cost_w8a8": s.cost_w8a8, "cost_figure": s.objective, "objective": acc, "objective_sense": "max",
                "feasible": True, "wbits": w, "abits": a,
                "chosen_wbits": chosen_w, "chosen_abits": chosen_a, "latency_s": figures["latency_s"],
                "cycles": figures["cycles"], "energy_j": figures["energy_j"],
                "size_bytes": figures["size_bytes"], "eval_images": int(len(s.labels))}
        return self.reward_scale * (acc - s.float_accuracy), info

    # ------------------------------------------------------------ gym API
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._record_reset(options)
        self._w, self._a = [], []
        self._done = False
        self._last_info = {}
        s = self.setup
        return self._obs(), {"budget": s.budget, "cost_w8a8": s.cost_w8a8, "float_accuracy": s.float_accuracy}

    def step(self, action):
        check_running(self._done)
        w, a = self._bits(action)
        self._record_step(action)
        s, layer = self.setup, len(self._w)
        if layer in s.fixed:
            w, a = MAX_BITS, MAX_BITS
        self._w.append(w)
        self._a.append(a)
        last = len(self._w) == s.num_layers
        bound = self._lower_bound()
        if self.over_budget == "terminate" and exceeds(bound, s.budget):
            self._done = True
            info = {"layer": layer, "w": w, "a": a, "lower_bound": bound, "budget": s.budget,
                    "reason": "budget exceeded", "wbits": list(self._w), "abits": list(self._a),
                    "float_accuracy": s.float_accuracy, "objective": None, "objective_sense": "max",
                    "feasible": False}
            self._last_info = info
            return self._obs(), float(self.penalty(bound)), True, False, info
        if not last:
            return self._obs(), 0.0, False, False, {"layer": layer, "w": w, "a": a, "lower_bound": bound,
                                                    "budget": s.budget}
        self._done = True
        reward, info = self.final_info(self._w, self._a)
        info.update(layer=layer, w=w, a=a)
        self._last_info = info
        return self._obs(), float(reward), True, False, info

    def render(self):
        if self.render_mode != "ansi":
            return None
        s = self.setup
        w = self._last_info.get("wbits", self._w)
        a = self._last_info.get("abits", self._a)
        lines = [f"{s.model.name}: {s.objective} budget {s.budget:.4g} ({s.budget_fraction:g} x W8A8 "
                 f"{s.cost_w8a8:.4g}) on {s.hw.design}/{s.hw.preset.name}",
                 f"{'layer':>5} {'kind':>7} {'w':>2} {'a':>2}"]
        for l in range(len(w)):
            lines.append(f"{l:>5} {s.model.layers[l].kind:>7} {w[l]:>2} {a[l]:>2}")
        if "accuracy" in self._last_info:
            i = self._last_info
            lines.append(f"accuracy {i['accuracy']:.2f}% (float {i['float_accuracy']:.2f}%), "
                         f"cost {i['cost']:.4g} <= budget {i['budget']:.4g}")
        return "\n".join(lines)


class QuantOneShotEnv(QuantEnv):
    """The whole bit vector in one step (the form the AQGAN generator proposes).

    ## Description
    Same model, data, cost model and reward as :class:`QuantEnv` (HAQ-style
    post-training mixed precision; AQGAN, Kao et al., arXiv:2006.03968,
    generates such whole configurations), but one action assigns every layer.

    ## Action Space
    ``MultiDiscrete([7] * 2L)``: interleaved (w_0 - 2, a_0 - 2, w_1 - 2,
    a_1 - 2, ...), bits in 2..8 (L = 5 for digits_cnn and fashion_lenet, 12 for fashion_dscnn).

    ## Observation Space
    ``Box(0, 1, (11 L + 1,), float32)``: the 11 static features of every
    layer (as in :class:`QuantEnv`), then the budget fraction.  Constant.

    ## Rewards
    ``reward_scale * (accuracy - float_accuracy)`` (percent) of the design
    after the action wall; with ``over_budget="terminate"`` an over-budget
    design gets ``-reward_scale * float_accuracy - 1 - (cost - budget) / budget``
    and ``info["reason"] = "budget exceeded"``.

    ## Starting State
    The constant observation.

    ## Episode End
    Every episode is one step (terminated).

    ## Arguments
    As :class:`QuantEnv`.  ``decode(action)`` gives the (wbits, abits) an
    action stands for; ``evaluate_batch(actions)`` scores many actions (rows)
    in one core call without stepping: (rewards, accuracies, costs).

    ## Version History
    * v0: initial version.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        L = self.setup.num_layers
        self._nvec = np.full(2 * L, NUM_LEVELS, dtype=np.int64)
        self.action_space = spaces.MultiDiscrete(self._nvec)
        self.observation_space = spaces.Box(0.0, 1.0, (STATIC_FEATURES * L + 1,), dtype=np.float32)
        self._const_obs = np.concatenate([self.setup.features.ravel(),
                                          [self.setup.budget_fraction]]).astype(np.float32)

    def _obs(self) -> np.ndarray:
        return self._const_obs.copy()

    def decode(self, action) -> tuple[list[int], list[int]]:
        """(wbits, abits) of an action (validated)."""
        v = check_action(action, self._nvec)
        w = [x + MIN_BITS for x in v[0::2]]
        a = [x + MIN_BITS for x in v[1::2]]
        for l in self.setup.fixed:
            w[l] = a[l] = MAX_BITS
        return w, a

    def step(self, action):
        check_running(self._done)
        w, a = self.decode(action)
        self._record_step(action)
        s = self.setup
        self._done = True
        if self.over_budget == "terminate":
            cost = s.cost(w, a)
            if exceeds(cost, s.budget):
                info = {"reason": "budget exceeded", "cost": cost, "budget": s.budget, "wbits": w, "abits": a,
                        "float_accuracy": s.float_accuracy, "objective": None, "objective_sense": "max",
                        "feasible": False}
                self._last_info = info
                return self._obs(), float(self.penalty(cost)), True, False, info
        reward, info = self.final_info(w, a)
        self._last_info = info
        return self._obs(), float(reward), True, False, info

    def evaluate_batch(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rewards, accuracies %, costs) of m actions (rows), accuracy of all rows in one core call."""
        acts = np.atleast_2d(np.asarray(actions))
        pairs = [self.decode(row) for row in acts]
        s = self.setup
        walled = [s.action_wall(w, a) if self.over_budget == "wall" else (w, a) for w, a in pairs]
        ws = np.array([w for w, _ in walled], dtype=np.int64)
        as_ = np.array([a for _, a in walled], dtype=np.int64)
        costs = s.hw.objective(s.objective, ws, as_)
        correct = s.model.correct(ws, as_, images=s.images, labels=s.labels)
        acc = 100.0 * correct / len(s.labels)
        rewards = self.reward_scale * (acc - s.float_accuracy)
        if self.over_budget == "terminate":
            rewards = np.where(exceeds(costs, s.budget), self.penalty(costs), rewards)
        return rewards, acc, costs
