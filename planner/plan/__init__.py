"""The plan: the immutable result of a run, and how it is assembled from the solver's output."""

from planner.plan.result import Certificate, PhaseResult, Plan

__all__ = ["Certificate", "PhaseResult", "Plan"]
