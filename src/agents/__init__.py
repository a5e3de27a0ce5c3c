"""archgym's reference agents (optional extra: ``pip install "archgym[agents]"``).

Agents consume archgym environments only through the public Gymnasium API.
Every agent has the same interface (``agents.base``): it gets an env id (or a
made env), a budget of samples (complete episodes, i.e. designs evaluated) and
a seed, and :func:`train` returns a :class:`~agents.base.RunResult` that can be
saved as JSON/CSV and replayed on the env::

    import agents
    result = agents.train("HWResource-v0", "reinforce_ga", budget=500, seed=0,
                          score="min:total_cycles")
    result.best_info["total_cycles"]; result.validate()

``import agents`` is light: an agent's module (and torch, SB3, optuna) is
imported only when that agent runs.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
import typing
from pathlib import Path

import archgym  # noqa: F401  (registers the environments the agents are trained on)
from agents.base import BudgetExhausted, Interrupted, Recorder, RunResult, Session, parse_score

__all__ = ["AGENTS", "AgentSpec", "BudgetExhausted", "Interrupted", "Recorder", "RunResult", "Session",
           "agent_config", "get", "parse_score", "train"]


@dataclasses.dataclass(frozen=True)
class AgentSpec:
    """Where an agent lives: ``module.run(session, module.Config(...))``.

    ``module.supports(env)`` returns None when the agent can run on ``env``,
    else a sentence saying why not (e.g. "needs a Discrete action space").
    ``learns``: the agent trains a model and writes TensorBoard logs to a logdir.
    """

    name: str
    module: str
    run: str
    config: str
    summary: str
    supports: str = "supports"
    learns: bool = False

    def load(self):
        mod = importlib.import_module(self.module)
        return getattr(mod, self.run), getattr(mod, self.config)

    def why_not(self, env) -> str | None:
        """None if this agent runs on ``env`` (a made env), else the reason it does not."""
        return getattr(importlib.import_module(self.module), self.supports)(env)


def _spec(name, module, run, config, summary, supports="supports", learns=False):
    return name, AgentSpec(name, module, run, config, summary, supports, learns)


AGENTS: dict[str, AgentSpec] = dict([
    # --- learning agents (ConfuciuX)
    _spec("reinforce", "agents.reinforce", "run", "Config",
          "REINFORCE with ConfuciuX's LSTM policy, one categorical head per action dimension",
          learns=True),
    _spec("ga", "agents.ga", "run", "Config", "genetic algorithm over MultiDiscrete designs"),
    _spec("reinforce_ga", "agents.ga", "run_hybrid", "HybridConfig",
          "ConfuciuX: REINFORCE for 2/3 of the budget, then GA fine-tuning", "supports_hybrid",
          learns=True),
    # --- stable-baselines3
    _spec("ppo", "agents.sb3", "run_ppo", "PPOConfig", "stable-baselines3 PPO", learns=True),
    _spec("a2c", "agents.sb3", "run_a2c", "A2CConfig", "stable-baselines3 A2C", learns=True),
    _spec("dqn", "agents.sb3", "run_dqn", "DQNConfig",
          "stable-baselines3 DQN (MultiDiscrete flattened to Discrete)", "supports_dqn",
          learns=True),
    _spec("sac", "agents.continuous", "run_sac", "SACConfig",
          "stable-baselines3 SAC, continuous actions mapped to the choices (ConfuciuX's baseline)",
          learns=True),
    _spec("td3", "agents.continuous", "run_td3", "TD3Config",
          "stable-baselines3 TD3, continuous actions mapped to the choices (ConfuciuX's baseline)",
          learns=True),
    _spec("ddpg", "agents.continuous", "run_ddpg", "DDPGConfig",
          "stable-baselines3 DDPG, continuous actions mapped to the choices (ConfuciuX's baseline)",
          learns=True),
    _spec("maskable_ppo", "agents.sb3", "run_maskable_ppo", "MaskablePPOConfig",
          "sb3-contrib MaskablePPO on envs that expose info['action_mask']", "supports_maskable",
          learns=True),
    # --- tabular (NOCS'19)
    _spec("q_learning", "agents.tabular", "run_q_learning", "Config", "tabular Q-learning"),
    _spec("sarsa", "agents.tabular", "run_sarsa", "Config", "tabular SARSA"),
    _spec("expected_sarsa", "agents.tabular", "run_expected_sarsa", "Config",
          "tabular Expected SARSA"),
    # --- baselines
    _spec("random", "agents.baselines", "run_random", "RandomConfig", "random search"),
    _spec("sa", "agents.baselines", "run_sa", "SAConfig", "simulated annealing"),
    _spec("tpe", "agents.baselines", "run_tpe", "TPEConfig", "TPE (Bayesian optimisation) via optuna"),
    _spec("gp_bo", "agents.baselines", "run_gp_bo", "GPConfig",
          "Gaussian-process Bayesian optimisation via optuna's GPSampler"),
    # --- generators (issue 7)
    _spec("aqgan", "agents.aqgan", "run", "Config",
          "AQGAN: conditional GAN of bit configurations, conditioned on target accuracy"),
    _spec("nas_gan", "agents.nas_gan", "run", "Config",
          "conditional NAS GAN: architectures conditioned on platform constraints"),
])


def get(name: str) -> AgentSpec:
    try:
        return AGENTS[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r}; allowed: {', '.join(AGENTS)}") from None


def _coerce(value, default, hint, name: str):
    """A config value given as text (CLI, YAML) converted to the field's type."""
    if not isinstance(value, str):
        return value
    kind = type(default) if default is not None else str
    try:
        if kind is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if kind in (int, float):
            return kind(value)
        if kind is tuple:
            return tuple(int(v) for v in value.split(",") if v)
    except ValueError:
        raise ValueError(f"config {name}={value!r}: expected {hint}") from None
    return value


def agent_config(agent: str, overrides: dict | None = None):
    """The agent's ``Config`` with ``overrides`` applied (unknown keys are an error)."""
    _, config_cls = get(agent).load()
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"agent {agent!r} has no setting {', '.join(unknown)}; "
                         f"allowed: {', '.join(fields)}")
    defaults = config_cls()
    hints = typing.get_type_hints(config_cls)
    values = {k: _coerce(v, getattr(defaults, k), hints.get(k, "a value"), k) for k, v in overrides.items()}
    return dataclasses.replace(defaults, **values)


def train(env, agent: str, budget: int, seed: int = 0, *, env_kwargs: dict | None = None,
          config: dict | None = None, score: str = "return", logdir: str | Path | None = None,
          progress: bool = False, on_episode: typing.Callable[[dict], None] | None = None,
          wrap: typing.Callable | None = None) -> RunResult:
    """Run ``agent`` on ``env`` (an id or a made env) for ``budget`` samples.

    ``config`` overrides the agent's defaults (see ``agents.agent_config``);
    ``score`` chooses how the reported best design is ranked; ``logdir``
    receives the learning agents' TensorBoard logs; ``progress`` shows a bar;
    ``on_episode(row)`` gets each sample's history row as it ends.  Ctrl-C
    (KeyboardInterrupt) after at least one sample raises
    :class:`~agents.base.Interrupted` carrying the run so far.
    ``wrap(env)`` wraps the session's env (``agents.collect.Recording().wrap`` records
    every episode the run plays, to save as a Minari dataset).
    """
    spec = get(agent)
    run, _ = spec.load()
    cfg = agent_config(agent, config)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=budget, desc=f"{agent} on {getattr(env, 'spec', None) and env.spec.id or env}",
                   unit="sample")

    def episode_ended(row):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best=f"{row['best_score']:.6g}", refresh=False)
        if on_episode is not None:
            on_episode(row)

    session = Session(env, env_kwargs, budget, seed, score, logdir, episode_ended, wrap)
    reason = spec.why_not(session.env)
    if reason is not None:
        session.env.close()
        raise ValueError(f"agent {agent!r} cannot run on {session.env_id}: {reason}")
    start = time.perf_counter()
    try:
        run(session, cfg)
    except BudgetExhausted:
        pass  # an agent may simply run until the session refuses another episode
    except KeyboardInterrupt:
        if session.env.best is None:
            raise  # not one sample: nothing to keep
        raise Interrupted(RunResult.from_session(session, agent, dataclasses.asdict(cfg),
                                                 time.perf_counter() - start, interrupted=True)) from None
    finally:
        if bar is not None:
            bar.close()
        session.env.close()
    return RunResult.from_session(session, agent, dataclasses.asdict(cfg), time.perf_counter() - start)
