"""archgym: Gymnasium environments for ML-assisted computer-architecture design.

Importing archgym registers its environments with Gymnasium; it needs only
numpy, gymnasium and the compiled core ``archgym._sim`` (never torch).
"""

__version__ = "0.1.0"
