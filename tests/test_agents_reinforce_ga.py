"""REINFORCE (ConfuciuX's policy), the GA baseline and ConfuciuX's REINFORCE + GA hybrid."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import agents
import archgym  # noqa: F401  (registers the environments)
from agents import ga, reinforce
from agents.base import RunResult, Session

AGENT_NAMES = ("reinforce", "ga", "reinforce_ga")


# ---------------------------------------------------------------- toy envs
class _Target(gym.Env):
    """Pick, at each of 4 steps, two choices in 0..4; the target is TARGET[t].

    Reward per step: -(distance to the target) / 8 (dense).  The final info has the
    total ``distance``; a design that uses choice 4 in the first dimension is
    infeasible (``reason``) but earns a bonus of 10, so the return prefers it.
    The optimum among feasible designs is TARGET (distance 0).
    """

    TARGET = np.array([[1, 3], [2, 0], [3, 4], [0, 2]])
    observation_space = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.MultiDiscrete([5, 5])

    def __init__(self, forbid: bool = False):
        self.forbid = forbid

    def _obs(self):
        obs = np.zeros(4, np.float32)
        if self.t < 4:
            obs[self.t] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.distance, self.bad = 0, 0, False
        return self._obs(), {}

    def step(self, action):
        a = np.asarray(action)
        d = int(np.abs(a - self.TARGET[self.t]).sum())
        self.distance += d
        self.bad = self.bad or (self.forbid and int(a[0]) == 4)
        self.t += 1
        done = self.t == 4
        reward = -d / 8.0 + (10.0 if done and self.bad else 0.0)
        info = {"distance": self.distance}
        if done and self.bad:
            info["reason"] = "choice 4 is forbidden"
        return self._obs(), reward, done, False, info


class _OneShot(gym.Env):
    """One step, MultiDiscrete([4, 4]); reward 1 for (3, 1), else -distance / 6 (sparse, like NAS-v0)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.MultiDiscrete([4, 4])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(2, np.float32), {}

    def step(self, action):
        d = int(np.abs(np.asarray(action) - [3, 1]).sum())
        return np.ones(2, np.float32), (1.0 if d == 0 else -d / 6.0), True, False, {"distance": d}


class _BoxAction(gym.Env):
    observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, True, False, {}


gym.register("Target-test-v0", entry_point=_Target)
gym.register("OneShot-test-v0", entry_point=_OneShot)
gym.register("BoxAction-test-v0", entry_point=_BoxAction)

ENV_CASES = [
    ("HWResource-ConfuciuX-v0", {}),  # the paper's shaped reward; HWResource-v0 below has the default
    ("HWResource-v0", {"workload": "alexnet", "reward_mode": "plain"}),
    ("Quant-v0", {}),
    ("NAS-v0", {}),
    ("NAS-Sequential-v0", {}),
]


# ------------------------------------------------------------ every env
@pytest.mark.parametrize("agent", AGENT_NAMES)
@pytest.mark.parametrize("env_id,env_kwargs", ENV_CASES, ids=lambda v: str(v))
def test_runs_replays_and_roundtrips(agent, env_id, env_kwargs, tmp_path):
    result = agents.train(env_id, agent, budget=9, seed=1, env_kwargs=env_kwargs)
    assert result.samples == result.budget == 9 == len(result.history)
    result.validate()
    loaded = RunResult.load_json(result.save_json(tmp_path / "run.json"))
    assert loaded.to_dict() == result.to_dict()
    loaded.validate()


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_same_seed_same_history(agent):
    kwargs = {"workload": "alexnet"}
    runs = [agents.train("HWResource-v0", agent, budget=14, seed=s, env_kwargs=kwargs,
                         score="min:total_cycles") for s in (3, 3, 4)]
    assert runs[0].history == runs[1].history
    assert runs[0].best_actions == runs[1].best_actions
    assert runs[0].history != runs[2].history


# ------------------------------------------------------------ REINFORCE
def _learner(env_id, config=None, **env_kwargs) -> reinforce.Reinforce:
    return reinforce.Reinforce(Session(env_id, env_kwargs, 10, 0), config or reinforce.Config())


def test_policy_has_confuciux_shapes_on_hwresource():
    policy = _learner("HWResource-v0").policy
    shapes = {name: tuple(p.shape) for name, p in policy.named_parameters()}
    assert shapes == {
        "dims.weight": (10, 7), "dims.bias": (10,),
        "previous.weight": (10, 2), "previous.bias": (10,),
        "progress.weight": (10, 1), "progress.bias": (10,),
        "body.0.weight": (128, 30), "body.0.bias": (128,),
        "body.2.weight": (128, 128), "body.2.bias": (128,),
        "body.4.weight": (128, 128), "body.4.bias": (128,),
        "lstm.weight_ih": (512, 128), "lstm.weight_hh": (512, 128),
        "lstm.bias_ih": (512,), "lstm.bias_hh": (512,),
        "heads.0.0.weight": (12, 128), "heads.0.0.bias": (12,),
        "heads.0.2.weight": (12, 12), "heads.0.2.bias": (12,),
        "heads.1.0.weight": (12, 128), "heads.1.0.bias": (12,),
        "heads.1.2.weight": (12, 12), "heads.1.2.bias": (12,),
    }


def test_confuciux_encoders_read_dims_previous_action_and_progress():
    policy = _learner("HWResource-v0").policy
    obs = torch.linspace(-0.9, 0.9, 11).reshape(1, 11)

    def logits(x):
        with torch.no_grad():
            return torch.cat(policy(x)[0], dim=1)

    base = logits(obs)
    for i in range(10):  # dims 0..6, progress 7, previous action 8..9 all matter
        x = obs.clone()
        x[0, i] += 0.5
        assert not torch.allclose(logits(x), base), i
    x = obs.clone()
    x[0, 10] += 0.5  # the step counter is not an input of the ConfuciuX split
    assert torch.equal(logits(x), base)


def test_flat_encoder_and_one_head_per_dimension_elsewhere():
    quant = _learner("Quant-v0").policy
    assert not quant.confuciux and tuple(quant.flat.weight.shape) == (30, 14)
    assert [tuple(h[2].weight.shape) for h in quant.heads] == [(7, 7), (7, 7)]
    nas = _learner("NAS-v0").policy
    assert [h[2].weight.shape[0] for h in nas.heads] == [3, 4, 4, 4, 2]
    seq = _learner("NAS-Sequential-v0").policy
    assert len(seq.heads) == 1 and seq.heads[0][2].weight.shape[0] == 4
    hw_flat = _learner("HWResource-v0", reinforce.Config(encoders="flat")).policy
    assert not hw_flat.confuciux and tuple(hw_flat.flat.weight.shape) == (30, 11)


class ElevenValues(gym.Env):
    """An 11-value observation that is not HWResource's (no observation_layout)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (11,), np.float32)
    action_space = gym.spaces.MultiDiscrete([3, 3])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(11, np.float32), {}

    def step(self, action):
        return np.zeros(11, np.float32), 0.0, True, False, {}


def test_confuciux_encoders_follow_the_envs_observation_layout_not_its_size():
    if "test/ElevenValues-v0" not in gym.registry:
        gym.register("test/ElevenValues-v0", entry_point=ElevenValues)
    assert reinforce.confuciux_layout(gym.make("HWResource-v0")) == \
        {"layer_dims": slice(0, 7), "progress": slice(7, 8), "previous_action": slice(8, 10)}
    assert reinforce.confuciux_layout(gym.make("test/ElevenValues-v0")) is None
    policy = _learner("test/ElevenValues-v0").policy
    assert not policy.confuciux and tuple(policy.flat.weight.shape) == (30, 11)
    with pytest.raises(ValueError, match="observation_layout names layer_dims, progress, previous_action"):
        _learner("test/ElevenValues-v0", reinforce.Config(encoders="confuciux"))


def test_lstm_state_runs_through_the_episode():
    learner = _learner("HWResource-v0")
    obs = np.zeros(11, np.float32)
    torch.manual_seed(0)
    _, _, state = learner.act(obs, {}, None)
    with torch.no_grad():
        fresh = learner.policy(torch.zeros(1, 11))[0]
        carried = learner.policy(torch.zeros(1, 11), state)[0]
    assert not torch.allclose(torch.cat(fresh, 1), torch.cat(carried, 1))


def test_sampling_is_torchs_categorical_bit_for_bit():
    # act() samples without a Categorical object per step; the draws, the log-probabilities
    # and their gradients must stay those of torch.distributions.Categorical (the runs of a
    # seed are unchanged by it).
    generator = torch.Generator().manual_seed(1)
    for n in (2, 12, 30):
        for _ in range(20):
            logits = (torch.randn(n, generator=generator) * 5).requires_grad_()
            seed = int(torch.randint(2**31, (1,), generator=generator))
            torch.manual_seed(seed)
            choice, log_prob = reinforce.sample_categorical(logits)
            (grad,) = torch.autograd.grad(log_prob, logits)
            torch.manual_seed(seed)
            dist = torch.distributions.Categorical(logits=logits, validate_args=False)
            expected = dist.sample()
            expected_log_prob = dist.log_prob(expected)
            (expected_grad,) = torch.autograd.grad(expected_log_prob, logits)
            assert choice == int(expected)
            assert torch.equal(log_prob, expected_log_prob) and torch.equal(grad, expected_grad)


def test_action_mask_is_obeyed():
    learner = _learner("NAS-Sequential-v0")
    mask = np.array([False, False, True, False])
    actions = {learner.act(np.zeros(35, np.float32), {"action_mask": mask}, None)[0] for _ in range(50)}
    assert actions == {2}


def _mean_returns(result, n):
    returns = [row["return"] for row in result.history]
    return np.mean(returns[:n]), np.mean(returns[-n:])


def test_reinforce_learns_a_dense_reward():
    result = agents.train("Target-test-v0", "reinforce", budget=300, seed=0)
    first, last = _mean_returns(result, 40)
    assert first < -1.3 and last > first + 0.4  # returns lie in [-4, 0]; random play: about -1.5


def test_reinforce_learns_a_one_step_reward_with_the_running_baseline():
    result = agents.train("OneShot-test-v0", "reinforce", budget=300, seed=0)
    first, last = _mean_returns(result, 40)
    assert last > first + 0.5 and last > 0.2
    # Standardising within a one-step episode leaves no signal: nothing is learned.
    flat = agents.train("OneShot-test-v0", "reinforce", budget=300, seed=0,
                        config={"normalize": "episode"})
    first, last = _mean_returns(flat, 40)
    assert abs(last - first) < 0.3


def test_running_baseline_centres_returns_per_step():
    base = reinforce.RunningBaseline(decay=0.5)
    assert np.array_equal(base(np.array([1.0, 2.0])), [0.0, 0.0])  # first sight: the mean itself
    adv = base(np.array([3.0, 2.0, 5.0]))
    assert adv[0] > 0 and adv[1] == 0 and adv[2] == 0
    assert np.allclose(base.mean, [2.0, 2.0, 5.0])


def test_discounted_returns():
    assert np.allclose(reinforce.discounted(np.array([1.0, 0.0, 2.0]), 0.9), [1 + 0.81 * 2, 1.8, 2.0])


def test_train_runs_the_requested_samples_and_decays_lr_after_feasible():
    session = Session("HWResource-v0", {"workload": "alexnet"}, 100, 0, score="min:total_cycles")
    learner = reinforce.train(session, reinforce.Config(lr_decay_every=5), samples=20)
    assert session.samples == 20
    scores = [row["score"] for row in session.env.history]
    first_feasible = next(i + 1 for i, s in enumerate(scores) if math.isfinite(s))
    decays = sum(1 for e in range(5, 21, 5) if e >= first_feasible)
    assert decays >= 1
    assert learner.lr == pytest.approx(1e-3 * 0.8 ** decays)
    reinforce.train(session, reinforce.Config(), samples=7)
    assert session.samples == 27


def test_tensorboard_logs(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    agents.train("HWResource-v0", "reinforce", budget=6, seed=0, env_kwargs={"workload": "alexnet"},
                 logdir=tmp_path)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"reinforce/episode_return", "reinforce/loss", "reinforce/lr"} <= set(tags)
    assert [e.step for e in events.Scalars("reinforce/episode_return")] == [1, 2, 3, 4, 5, 6]


# ------------------------------------------------------------------ GA
def test_ga_finds_the_optimum_of_a_toy_env():
    result = agents.train("Target-test-v0", "ga", budget=1500, seed=0)
    assert result.best_return == 0.0 and result.best_actions == _Target.TARGET.tolist()
    # Random search with the same budget: the optimum is one design in 5**8.
    assert max(row["return"] for row in result.history[:50]) < 0.0


def test_ga_fitness_spec_ranks_infeasible_designs_last():
    kwargs = {"forbid": True}
    by_return = agents.train("Target-test-v0", "ga", budget=800, seed=0, env_kwargs=kwargs)
    assert "reason" in by_return.best_info  # the bonus of the infeasible designs wins
    by_distance = agents.train("Target-test-v0", "ga", budget=800, seed=0, env_kwargs=kwargs,
                               score="min:distance", config={"fitness": "min:distance"})
    assert "reason" not in by_distance.best_info and by_distance.best_info["distance"] <= 1
    by_session = agents.train("Target-test-v0", "ga", budget=800, seed=0, env_kwargs=kwargs,
                              score="min:distance", config={"fitness": "session"})
    assert by_session.history == by_distance.history


def test_ga_spends_one_sample_per_child_and_keeps_parents():
    session = Session("Target-test-v0", None, 95, 0)
    played = []
    play = session.play
    session.play = lambda genes: played.append(list(genes)) or play(genes)
    ga.run(session, ga.Config())
    assert session.samples == 95 and len(played) == 95
    assert played[:50] == [[]] * 50  # the random initial population
    assert all(len(g) == 4 for g in played[50:])


# -------------------------------------------------------------- hybrid
def test_gene_moves_follow_confuciux():
    rng = np.random.default_rng(0)
    design = np.full((3, 2), 6)
    n = np.array([12, 12])
    moves = set()
    for _ in range(400):
        diff = ga._move_one_gene(design, n, 0.5, rng) - design
        assert np.count_nonzero(diff) <= 1
        moves.add(int(diff.sum()))
    assert moves == {-2, -1, 0, 1, 2}  # int(U(-0.5, 0.5) * 6)
    wide = {int((ga._move_one_gene(design, n, 1.0, rng) - design).sum()) for _ in range(2000)}
    assert wide == set(range(-5, 6))  # int(U(-1, 1) * 6) truncates toward 0
    edge = np.full((3, 2), 11)
    assert all(ga._move_one_gene(edge, n, 1.0, rng).max() <= 11 for _ in range(200))
    five = {int((ga._move_one_gene(np.full((1, 1), 2), np.array([5]), 0.5, rng) - 2).sum())
            for _ in range(400)}
    assert five == {-1, 0, 1}  # int(U(-0.5, 0.5) * 2.5)
    assert all(ga._move_one_gene(np.full((1, 1), 1), np.array([4]), 0.5, rng)[0, 0] == 1
               for _ in range(100))  # int(U(-0.5, 0.5) * 2) is always 0


def test_self_crossover_swaps_one_dimension_between_two_steps():
    rng = np.random.default_rng(1)
    design = np.arange(10).reshape(5, 2)
    for _ in range(50):
        child = ga._self_crossover(design, rng)
        assert sorted(child[:, 0]) == sorted(design[:, 0]) and sorted(child[:, 1]) == sorted(design[:, 1])
        assert np.count_nonzero(child != design) in (0, 2)


def test_hybrid_starts_from_the_rl_best_and_keeps_the_budget():
    session = Session("HWResource-v0", {"workload": "alexnet"}, 60, 2, score="min:total_cycles")
    played, rl_best = [], {}
    play = session.play

    def spy(genes):
        if not rl_best:
            rl_best.update(session.env.best, samples=session.samples)
        played.append(np.array(genes))
        return play(genes)

    session.play = spy
    ga.run_hybrid(session, ga.HybridConfig())
    assert session.samples == 60 and rl_best["samples"] == 40 == session.extras["rl_samples"]
    assert len(played) == 20
    start = np.array(rl_best["actions"])
    assert len(start) == 5  # alexnet: 5 layers
    for design in played[:19]:  # the first generation: one move, maybe one swap, of the RL best
        assert np.count_nonzero(design != start) <= 3
    assert session.env.best["score"] >= session.extras["rl_best_score"] == rl_best["score"]


def test_fine_tune_replaces_infeasible_children_by_their_parents():
    """The target is choice 4, which is forbidden: children that reach it score best by return
    but are infeasible.  Were they kept, their children would carry a second 4."""
    session = Session("Target-test-v0", {"forbid": True}, 400, 0)
    session.evaluate([[3, 3]] * 4)  # the "RL best": feasible, one move away from forbidden 4s
    played = []
    play = session.play
    session.play = lambda genes: (played.append(np.array(genes)), play(genes))[1]
    ga.fine_tune(session, ga.HybridConfig(mul=1.0, fitness="return"))
    assert session.samples == 400
    fours = [int(np.count_nonzero(d[:, 0] == 4)) for d in played]
    assert max(fours) == 1 and fours.count(1) > 20


def test_fine_tune_keeps_the_fittest_design():
    """With one parent in a population of two, every child is a one-gene move of the fittest
    design so far (the elite), never of a worse child."""
    session = Session("Target-test-v0", None, 120, 0)
    ret, _ = session.evaluate([[0, 0]] * 4)
    best = (ret, np.zeros((4, 2), dtype=int))
    play = session.play
    farthest = []

    def spy(genes):
        nonlocal best
        genes = np.array(genes)
        farthest.append(int(np.count_nonzero(genes != best[1])))
        out = play(genes)
        if out[0] > best[0]:
            best = (out[0], genes)
        return out

    session.play = spy
    ga.fine_tune(session, ga.HybridConfig(population=2, parents=1, mul=1.0, self_crossover=0.0,
                                          fitness="return"))
    assert len(farthest) == 119 and max(farthest) == 1
    assert best[0] > ret + 1.0  # and the (1+1) search improves


def test_hybrid_budget_of_one():
    result = agents.train("NAS-v0", "reinforce_ga", budget=1, seed=0)
    assert result.samples == 1
    result.validate()


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_box_actions_are_refused(agent):
    with pytest.raises(ValueError, match="Discrete or MultiDiscrete"):
        agents.train("BoxAction-test-v0", agent, budget=3)


@pytest.mark.parametrize("agent,config,match", [
    ("reinforce_ga", {"mul": 0.0}, "mul"),
    ("reinforce_ga", {"mul": 1.5}, "mul"),
    ("reinforce_ga", {"mul": float("nan")}, "mul"),
    ("reinforce_ga", {"parents": 21}, "parents"),
    ("reinforce_ga", {"rl_fraction": -0.1}, "rl_fraction"),
    ("reinforce_ga", {"fitness": "avg:x"}, "score"),
    ("ga", {"parents": 50}, "parents"),
    ("ga", {"population": 1}, "population"),
    ("ga", {"mutation_rate": 2.0}, "mutation_rate"),
    ("ga", {"crossover": "two_point"}, "crossover"),
    ("reinforce", {"encoders": "lstm"}, "encoders"),
    ("reinforce", {"normalize": "batch"}, "normalize"),
    ("reinforce", {"lr": -1e-3}, "lr"),
    ("reinforce", {"gamma": 1.5}, "gamma"),
    ("reinforce", {"hidden": 0}, "hidden"),
    ("reinforce", {"threads": "two"}, "threads"),
])
def test_bad_settings(agent, config, match):
    with pytest.raises(ValueError, match=match):
        agents.train("NAS-v0", agent, budget=3, config=config)


def test_confuciux_encoders_need_eleven_values():
    with pytest.raises(ValueError, match="11 values"):
        agents.train("Quant-v0", "reinforce", budget=2, config={"encoders": "confuciux"})


def test_train_rejects_a_bad_sample_count():
    session = Session("NAS-v0", None, 5, 0)
    with pytest.raises(ValueError, match="samples"):
        reinforce.train(session, reinforce.Config(), samples=-1)
