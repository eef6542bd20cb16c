"""Periodic visit planning (periodic VRP): which days each account is visited on, and the routes."""

from .check import PeriodicCheck, check_periodic
from .problem import (
    Combination,
    PeriodicAccount,
    PeriodicDay,
    PeriodicProblem,
    PeriodicRep,
    PeriodicRoute,
    PeriodicSolution,
    combinations_from_mask,
    every_n_weeks,
    times_a_week,
)
from .solve import solve_periodic

__all__ = ["Combination", "PeriodicAccount", "PeriodicCheck", "PeriodicDay", "PeriodicProblem", "PeriodicRep",
           "PeriodicRoute", "PeriodicSolution", "check_periodic", "combinations_from_mask", "every_n_weeks",
           "solve_periodic", "times_a_week"]
