"""The audit engine: units of work, strength tuning on validation rows, and parallel backends."""

from fairlatent.engine.parallel import run_all
from fairlatent.engine.plan import AuditPlan, Unit, audit_plan, plan_units
from fairlatent.engine.tuning import Candidate, choose, objective
from fairlatent.engine.units import StrategyRun, run_unit

__all__ = [
    "AuditPlan",
    "Candidate",
    "StrategyRun",
    "Unit",
    "audit_plan",
    "choose",
    "objective",
    "plan_units",
    "run_all",
    "run_unit",
]
