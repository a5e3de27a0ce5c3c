"""archgym's reference agents (optional extra: ``pip install "archgym[agents]"``).

Agents consume archgym environments only through the public Gymnasium API.
They need torch and stable-baselines3, which ``import archgym`` never imports.
The algorithms (REINFORCE, GA and the RL+GA hybrid, SB3 runners, tabular
methods, baselines, GAN generators) arrive with their own issue.
"""
