"""Routing engine: VRPTW instances, one solver interface (PyVRP / OR-Tools), checker, day routes, plans."""

from .check import CheckReport, check_solution
from .instance import Break, RoutingInstance, RoutingResult, dimacs_instance
from .schedule import Timeline, best_break_position, timeline
from .solve import BACKENDS, solve_vrptw

__all__ = ["BACKENDS", "Break", "CheckReport", "RoutingInstance", "RoutingResult", "Timeline",
           "best_break_position", "check_solution", "dimacs_instance", "solve_vrptw", "timeline"]
