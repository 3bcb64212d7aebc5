"""Words from the data that the pages show: item states and kinds, batch states, roles,
what enrichers suggest and how near a duplicate is.

Templates show them with ``term(value)`` (svidok.web.i18n), which translates a word the
catalogue has and shows any other as it is; listing them here with ``N_`` is what puts them
in the catalogue (scripts/update_catalogue.py).
"""

from __future__ import annotations

from svidok.web.i18n import N_

ITEM_STATES = (N_("pending"), N_("stored"), N_("failed"), N_("skipped"))
ITEM_KINDS = (N_("file"), N_("folder"), N_("media"), N_("page"), N_("chat"), N_("message"),
              N_("email"), N_("attachment"), N_("document"))
BATCH_STATES = (N_("running"), N_("finished"), N_("interrupted"))
ROLES = (N_("admin"), N_("analyst"), N_("documenter"), N_("viewer"))
# What the enrichers found, and what became of it.
MENTION_KINDS = (N_("place"), N_("date"), N_("name"), N_("violation"), N_("language"))
MENTION_STATES = (N_("suggested"), N_("confirmed"), N_("rejected"))
DUPLICATE_GRADES = (N_("duplicate"), N_("near-duplicate"), N_("maybe"), N_("different"))
ARTIFACT_ROLES = (N_("text"), N_("ocr"), N_("thumbnail"), N_("keyframe"))
