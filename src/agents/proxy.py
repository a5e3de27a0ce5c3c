"""Proxy models: a surrogate of one env learned from its Minari dataset, searched in place of the core.

The ArchGym workflow (Krishnan et al., ISCA 2023, "proxy cost models"), for any env
whose episodes are designs played open loop (every env the search agents support):

1. record a dataset: ``archgym collect ENV --episodes N ...`` (:mod:`agents.collect`);
2. :func:`fit` a :class:`Proxy`: scikit-learn's HistGradientBoostingRegressor from a
   *design* to its episode return.  A design is the episode's first observation
   (which workload, which stored formats...) and its actions, one column per step
   and action dimension (choice indices); an episode that ended early (an exceeded
   budget) has its unplayed steps filled with random choices, as the GA does, since
   they do not change its return.  A held-out share of the episodes measures the
   error (RMSE, and the error relative to the true return);
3. search on the proxy: :meth:`Proxy.search` scores many random designs in one
   batched ``predict``, or any agent runs on :class:`ProxyEnv`
   (``gym.make("agents/Proxy-v0", proxy=p)``), an env with the real env's spaces;
4. :meth:`Proxy.validate` plays the best designs on the real env (the real core).

The return must rank designs: use a reward mode whose return does (HWResource's
``reward_mode="plain"``: -total objective / reference for a feasible design, below
-1 for an infeasible one; SparseFormat's return is the speed-up).

``ProxyEnv`` is open loop: its first observation is a recorded one (one of the
dataset's starts); later observations are those the longest recorded episode from
that start showed, whatever the actions, and the episode lasts that many steps.
The reward is 0 until the last step, which gets the predicted return (info
``proxy_return``).  Search agents that play designs (random, GA, SA, TPE) need
nothing more; an RL policy trained on it would see observations that ignore its
actions.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

PROXY_ID = "agents/Proxy-v0"


def _space_choices(space: gym.Space) -> tuple[np.ndarray, np.ndarray]:
    """(choices per action dimension, start per dimension) of a Discrete or MultiDiscrete space."""
    if isinstance(space, gym.spaces.Discrete):
        return np.array([space.n], dtype=np.int64), np.array([space.start], dtype=np.int64)
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return np.asarray(space.nvec, dtype=np.int64), np.asarray(space.start, dtype=np.int64)
    raise ValueError(f"a proxy needs a Discrete or one-dimensional MultiDiscrete action space, got {space}")


@dataclasses.dataclass
class Proxy:
    """A trained surrogate of one env: design -> episode return (see the module docstring)."""

    env_id: str
    env_kwargs: dict
    observation_space: gym.Space
    action_space: gym.Space
    steps: int  # the longest recorded episode
    starts: np.ndarray  # (S, obs) the distinct first observations
    start_seeds: list  # a reset seed that gives each start on the real env (None: any)
    start_observations: list  # per start, the observations of its longest recorded episode
    model: object  # a fitted scikit-learn regressor
    log_target: bool = False  # the model predicts log(return)

    @property
    def choices(self) -> np.ndarray:
        return _space_choices(self.action_space)[0]

    def features(self, starts: np.ndarray, designs: np.ndarray) -> np.ndarray:
        """Model inputs: first observations (k, obs) and designs (k, steps, dims) of choice indices."""
        k = len(designs)
        return np.hstack([np.asarray(starts, dtype=np.float64).reshape(k, -1),
                          np.asarray(designs, dtype=np.float64).reshape(k, -1)])

    def predict(self, starts: np.ndarray, designs: np.ndarray) -> np.ndarray:
        """Predicted episode returns of designs (k, steps, dims) from first observations (k, obs)."""
        predicted = self.model.predict(self.features(starts, designs))
        return np.exp(predicted) if self.log_target else predicted

    def random_designs(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, steps, dims) uniform choice indices."""
        return rng.integers(0, self.choices, size=(count, self.steps, len(self.choices)))

    def search(self, count: int, keep: int, rng: np.random.Generator, start: int = 0):
        """Random search on the proxy: ``count`` designs scored in one batch; the ``keep`` best.

        Returns (designs (keep, steps, dims), predicted returns), best first.
        """
        designs = self.random_designs(count, rng)
        predicted = self.predict(np.repeat(self.starts[start][None], count, axis=0), designs)
        order = np.argsort(-predicted, kind="stable")[:keep]
        return designs[order], predicted[order]

    def actions(self, design: np.ndarray) -> list:
        start = _space_choices(self.action_space)[1]
        if isinstance(self.action_space, gym.spaces.Discrete):
            return [int(a[0] + start[0]) for a in design]
        return [a + start for a in design]

    def play(self, design: np.ndarray, start: int = 0, env: gym.Env | None = None) -> tuple[float, dict]:
        """(return, final info) of a design on the real env, from start ``start``."""
        own = env is None
        env = gym.make(self.env_id, **self.env_kwargs) if own else env
        try:
            seed = self.start_seeds[start]
            obs, _ = env.reset(seed=0 if seed is None else seed)
            if not np.array_equal(obs, self.starts[start]):
                raise ValueError("the real env did not reset to the proxy's start")
            total, info = 0.0, {}
            for action in self.actions(design):
                _, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                if terminated or truncated:
                    break
            return total, info
        finally:
            if own:
                env.close()

    def validate(self, designs: np.ndarray, start: int = 0) -> list[tuple[float, dict]]:
        """Play each design on the real env (the real core): [(return, final info)]."""
        env = gym.make(self.env_id, **self.env_kwargs)
        try:
            return [self.play(d, start, env) for d in designs]
        finally:
            env.close()


# ------------------------------------------------------------------ training
def designs_of(dataset, steps: int | None = None, seed: int = 0):
    """(first observations, designs, returns, reset seeds) of every episode of a Minari dataset.

    Designs are (episodes, steps, dims) choice indices; an episode shorter than
    ``steps`` (default: the longest) is filled with random choices.
    """
    choices, start = _space_choices(dataset.action_space)
    episodes = list(dataset.iterate_episodes())
    steps = steps or max(len(ep.actions) for ep in episodes)
    rng = np.random.default_rng(seed)
    designs = rng.integers(0, choices, size=(len(episodes), steps, len(choices)))
    for i, ep in enumerate(episodes):
        played = np.asarray(ep.actions, dtype=np.int64).reshape(len(ep.actions), -1)[:steps] - start
        designs[i, :len(played)] = played
    firsts = np.stack([np.asarray(ep.observations[0]).ravel() for ep in episodes])
    returns = np.array([float(np.sum(ep.rewards)) for ep in episodes])
    seeds = [m.get("seed") for m in dataset.storage.get_episode_metadata(range(len(episodes)))]
    return firsts, designs, returns, episodes, seeds


def error_figures(true: np.ndarray, predicted: np.ndarray) -> dict:
    """RMSE, RMSE relative to the mean |true| and the mean relative error, of predictions."""
    err = predicted - true
    rmse = float(np.sqrt(np.mean(err**2)))
    scale = float(np.mean(np.abs(true)))
    nonzero = np.abs(true) > 0
    return {"rmse": rmse, "nrmse_percent": 100.0 * rmse / scale if scale else float("nan"),
            "mean_relative_error_percent": float(100.0 * np.mean(np.abs(err[nonzero]) / np.abs(true[nonzero]))),
            "held_out": int(len(true))}


def fit(dataset, *, held_out: float = 0.2, seed: int = 0, max_iter: int = 500,
        log_target: bool = False) -> tuple[Proxy, dict]:
    """Train a :class:`Proxy` on a Minari dataset; returns it and its error on held-out episodes.

    ``held_out`` (in [0, 1)) of the episodes, drawn with ``seed``, are kept out of
    training and measure the error (:func:`error_figures`, on the returns); the
    proxy returned is the one trained on the rest.  ``log_target`` fits log(return),
    for positive returns spanning orders of magnitude (SparseFormat's speed-ups).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    if not 0.0 <= held_out < 1.0:
        raise ValueError(f"held_out must be in [0, 1), got {held_out!r}")
    firsts, designs, returns, episodes, seeds = designs_of(dataset, seed=seed)
    rng = np.random.default_rng([seed, 3])
    order = rng.permutation(len(returns))
    n_test = int(round(held_out * len(returns)))
    test, train = order[:n_test], order[n_test:]
    if len(train) < 2:
        raise ValueError(f"the dataset has {len(returns)} episodes; at least 2 must remain for training")
    if log_target and not np.all(returns > 0):
        raise ValueError("log_target needs positive returns; this dataset has returns <= 0")
    model = HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=31,
                                          early_stopping=False, random_state=seed)
    spec = dataset.spec.env_spec
    starts, index = np.unique(firsts, axis=0, return_index=True)
    longest = {}
    for i, ep in enumerate(episodes):
        key = int(np.flatnonzero((starts == firsts[i]).all(axis=1))[0])
        if key not in longest or len(ep.observations) > len(episodes[longest[key]].observations):
            longest[key] = i
    proxy = Proxy(env_id=spec.id, env_kwargs=dict(spec.kwargs),
                  observation_space=dataset.observation_space, action_space=dataset.action_space,
                  steps=designs.shape[1], starts=starts.astype(dataset.observation_space.dtype),
                  start_seeds=[None if seeds[i] is None else int(seeds[i]) for i in index],
                  start_observations=[np.asarray(episodes[longest[k]].observations) for k in range(len(starts))],
                  model=model, log_target=log_target)
    target = np.log(returns) if log_target else returns
    model.fit(proxy.features(firsts[train], designs[train]), target[train])
    figures = error_figures(returns[test], proxy.predict(firsts[test], designs[test])) if n_test else {}
    return proxy, figures


# --------------------------------------------------------------- the env
class ProxyEnv(gym.Env):
    """The real env's spaces over a :class:`Proxy` (open loop; see the module docstring).

    ``start``: the index of the proxy's start to begin from, or None to draw one per
    reset with ``np_random``.
    """

    metadata = {"render_modes": []}

    def __init__(self, proxy: Proxy, start: int | None = 0):
        if not isinstance(proxy, Proxy):
            raise ValueError(f"proxy must be an agents.proxy.Proxy, got {type(proxy).__name__}")
        if start is not None and not (isinstance(start, int) and 0 <= start < len(proxy.starts)):
            raise ValueError(f"start must be None or an integer in [0, {len(proxy.starts) - 1}], got {start!r}")
        self.proxy, self.start = proxy, start
        self.observation_space, self.action_space = proxy.observation_space, proxy.action_space
        self._choices, self._offset = _space_choices(proxy.action_space)
        self._design: list = []
        self._at = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._at = self.start if self.start is not None else int(self.np_random.integers(len(self.proxy.starts)))
        self._design = []
        return self.proxy.start_observations[self._at][0], {}

    def step(self, action):
        a = np.asarray(action, dtype=np.int64).reshape(-1) - self._offset
        if a.shape != self._choices.shape or np.any(a < 0) or np.any(a >= self._choices):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        self._design.append(a)
        observations = self.proxy.start_observations[self._at]
        obs = observations[min(len(self._design), len(observations) - 1)]
        if len(self._design) < self.proxy.steps:
            return obs, 0.0, False, False, {}
        design = np.asarray(self._design)[None]
        predicted = float(self.proxy.predict(self.proxy.starts[self._at][None], design)[0])
        return obs, predicted, True, False, {"proxy_return": predicted}


if PROXY_ID not in gym.registry:
    gym.register(id=PROXY_ID, entry_point="agents.proxy:ProxyEnv")
