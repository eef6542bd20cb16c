"""Review flow, snapshots, comments and the people of a project: states and table columns (pure domain).

A scenario moves ``draft -> proposed -> approved -> published``; ``send-back`` returns it to draft. While
proposed, approved or published it is *frozen*: its plan and territories refuse every change
(:attr:`Plan.frozen`). Each change of state is one row of ``Project.reviews``; the last row of a
scenario is its state (none: draft).
"""

from __future__ import annotations

REVIEW_STATES = ("draft", "proposed", "approved", "published")
#: states in which a scenario refuses edits
FROZEN_STATES = ("proposed", "approved", "published")
#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "propose": (("draft",), "proposed"),
    "approve": (("proposed",), "approved"),
    "publish": (("approved",), "published"),
    "send-back": (("proposed", "approved", "published"), "draft"),
}

#: one row per state change: ``ts`` UTC DATETIME text; ``from_date``/``snapshot_id`` for a publication
REVIEW_COLUMNS = ["scenario_id", "status", "user", "ts", "note", "from_date", "snapshot_id"]
#: a published scenario as it was; ``territories``, ``assignments``, ``account_assignments`` are JSON
SNAPSHOT_COLUMNS = ["snapshot_id", "scenario_id", "created", "user", "note", "territories", "assignments",
                    "account_assignments"]
#: ``entity_type`` territory/account/scenario; ``mentions`` JSON list of user/rep ids; ``source`` desk/field
COMMENT_COLUMNS = ["comment_id", "entity_type", "entity_id", "scenario_id", "author", "created", "text",
                   "mentions", "resolved", "resolved_by", "resolved_at", "source"]
COMMENT_ENTITIES = ("territory", "account", "scenario")
USER_COLUMNS = ["user_id", "name", "email", "role"]
