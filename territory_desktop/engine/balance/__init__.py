"""The balancing engine: contiguous, balanced, compact territories from arrays (no files, no Qt).

Main entry points: :func:`balance_territories` (from scratch), :func:`rebalance_plan` (disruption cap),
:func:`assign_orphans`; :func:`assign_reps` (reps to territories) and
:func:`balance_accounts` (account-type territories, no contiguity). A build ends with the anytime
search of :mod:`.improve` on the chosen :class:`Objective` (compact, diameter, travel).
"""

from .accounts import balance_accounts
from .objectives import Objective
from .problem import BalanceProblem, check_feasible, validate
from .reps import RepMatch, assign_reps
from .solve import BalanceMode, BalanceResult, assign_orphans, balance_territories, rebalance_plan

__all__ = ["BalanceMode", "BalanceProblem", "BalanceResult", "Objective", "RepMatch", "assign_orphans", "assign_reps",
           "balance_accounts", "balance_territories", "check_feasible", "rebalance_plan", "validate"]
