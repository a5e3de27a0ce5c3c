"""Every registered agent on every registered archgym environment it claims to support.

For each (agent, env id) pair the agent's ``supports(env)`` accepts, a run on a
tiny budget must spend exactly its budget and its best design must replay to
the recorded return and figures.  Pairs the agent refuses must be refused with
a reason (a sentence), and ``agents.train`` must turn that into a ValueError.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
from test_all_envs import archgym_env_ids

import agents

BUDGET = 3
# Generators need enough samples to fit on before they generate; they have their own tests.
GENERATORS = {"aqgan": 40, "nas_gan": 40}


def _pairs():
    supported, refused = [], []
    for env_id in archgym_env_ids():
        env = gym.make(env_id)
        for name, spec in agents.AGENTS.items():
            reason = spec.why_not(env)
            (supported if reason is None else refused).append(pytest.param(name, env_id, reason,
                                                                           id=f"{name}-{env_id}"))
        env.close()
    return supported, refused


SUPPORTED, REFUSED = _pairs()


@pytest.mark.parametrize("agent,env_id,reason", SUPPORTED)
def test_agent_runs_and_replays(agent, env_id, reason):
    budget = GENERATORS.get(agent, BUDGET)
    result = agents.train(env_id, agent, budget=budget, seed=0)
    assert result.samples == budget and len(result.history) == budget
    result.validate()


@pytest.mark.parametrize("agent,env_id,reason", REFUSED)
def test_refusal_is_explained(agent, env_id, reason):
    assert isinstance(reason, str) and len(reason.split()) >= 3
    with pytest.raises(ValueError, match=f"cannot run on {env_id}"):
        agents.train(env_id, agent, budget=BUDGET, seed=0)


def test_every_family_has_a_learning_agent_and_a_baseline():
    claimed = {(p.values[0], p.values[1].split("-")[0]) for p in SUPPORTED}
    for family in ("HWResource", "NoCRouting", "SparseFormat", "Quant", "NAS"):
        assert ("ppo", family) in claimed and ("random", family) in claimed, family
    for family in ("HWResource", "Quant", "NAS"):
        assert ("reinforce", family) in claimed and ("reinforce_ga", family) in claimed, family
    assert ("q_learning", "NoCRouting") in claimed
