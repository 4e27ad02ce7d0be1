"""The staff's lists: applications, trainings, reductions, change requests, plans and free
places, each scoped to the actor and filtered and paginated in SQL (one query for a page, one
for its count; never a query per row)."""

from workflow.queues.applications import (
    VIEW_EXTRA,
    VIEW_ROLES,
    VIEW_STATUSES,
    AppFilter,
    AppRow,
    View,
    all_applications,
    application,
    application_ids,
    applications,
    toggle_selection,
)
from workflow.queues.changes import ChangeRow, change_request, change_requests
from workflow.queues.common import EXPORT_MAX, Page
from workflow.queues.reductions import (
    REVIEW_LEVEL,
    ReductionRow,
    reduction,
    reduction_of_training,
    reductions_to_review,
)
from workflow.queues.reference import (
    FreePlace,
    PlanRow,
    batches,
    free_places,
    national_bases,
    plans,
    scope_label,
    sites_of,
    specialties,
)
from workflow.queues.trainings import (
    TrainingFilter,
    TrainingRow,
    all_trainings,
    training,
    trainings,
)

__all__ = [
    "EXPORT_MAX",
    "REVIEW_LEVEL",
    "VIEW_EXTRA",
    "VIEW_ROLES",
    "VIEW_STATUSES",
    "AppFilter",
    "AppRow",
    "ChangeRow",
    "FreePlace",
    "Page",
    "PlanRow",
    "ReductionRow",
    "TrainingFilter",
    "TrainingRow",
    "View",
    "all_applications",
    "all_trainings",
    "application",
    "application_ids",
    "applications",
    "batches",
    "change_request",
    "change_requests",
    "free_places",
    "national_bases",
    "plans",
    "reduction",
    "reduction_of_training",
    "reductions_to_review",
    "scope_label",
    "sites_of",
    "specialties",
    "toggle_selection",
    "training",
    "trainings",
]
