"""Publishing scorecards and the black list (挂黑榜) that follows from them.

Publishing stores the period's figures as a snapshot (never recomputed; once per period:
the unique constraint scorecard_once_per_period is the guard) and, in the same
transaction, applies the community's active black-list rules: each rule the scorecard
breaks becomes a reason of one proposed entry. A provider has at most one live entry
(proposed or listed; the partial unique blacklist_one_live_entry), so a provider already
proposed or listed gets no second one.

Then people decide: community staff confirm an entry with evidence (the provider's staff
are notified) or dismiss it; the provider's staff may respond; staff remove a listed
entry with a reason, on the record.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from community.models import Community, Membership, Organization
from property_mgmt.models import BlacklistEntry, BlacklistRule, Scorecard
from property_mgmt.selectors.scorecards import ScorecardFigures, scorecard_compute
from property_mgmt.selectors.surveys import is_community_staff, is_property_staff
from property_mgmt.services.common import field_error

Status = BlacklistEntry.Status
Metric = BlacklistRule.Metric
Comparison = BlacklistRule.Comparison

#: Which status may follow which; removed and dismissed entries stay closed (a provider
#: failing again gets a new entry from the next scorecard).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PROPOSED: frozenset({Status.LISTED, Status.DISMISSED}),
    Status.LISTED: frozenset({Status.REMOVED}),
    Status.DISMISSED: frozenset(),
    Status.REMOVED: frozenset(),
}

#: Rates are stored as fractions and shown as percentages on the board.
PERCENT_METRICS = frozenset({Metric.ON_TIME_RATE, Metric.REOPEN_RATE, Metric.COLLECTION_RATE})

REASON_BELOW = gettext_lazy("%(metric)s %(value)s, below %(threshold)s")
REASON_ABOVE = gettext_lazy("%(metric)s %(value)s, above %(threshold)s")


def _shown(metric: str, value: Decimal) -> str:
    if metric in PERCENT_METRICS:
        return f"{(value * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def broken_rules(figures: ScorecardFigures | Scorecard, rules: list[BlacklistRule]) -> list[str]:
    """The reason lines of the rules the figures break, in the site's language (stored
    text: the board shows it as written). A figure with no data (no answers, no
    grievances, no bills) breaks nothing: there is nothing to judge."""
    reasons = []
    with translation.override(settings.LANGUAGE_CODE):
        for rule in rules:
            value = getattr(figures, rule.metric)
            if value is None:
                continue
            below = rule.comparison == Comparison.BELOW
            if (value < rule.threshold) if below else (value > rule.threshold):
                template = REASON_BELOW if below else REASON_ABOVE
                reasons.append(
                    str(template)
                    % {
                        "metric": str(Metric(rule.metric).label),
                        "value": _shown(rule.metric, value),
                        "threshold": _shown(rule.metric, rule.threshold),
                    }
                )
    return reasons


def blacklist_rule_set(
    *,
    actor: Any,
    community: Community,
    metric: str,
    comparison: str,
    threshold: Decimal,
    is_active: bool = True,
) -> BlacklistRule:
    """Create or change the community's rule for a metric and direction."""
    if not is_community_staff(actor, community.pk):
        raise PermissionDenied(_("Only community staff may change the black-list rules."))
    if metric not in Metric.values or comparison not in Comparison.values:
        raise ValidationError(_("Choose a metric and a direction."), code="rule")
    threshold = Decimal(threshold)
    if threshold < 0:
        raise ValidationError(_("The threshold cannot be negative."), code="threshold")
    with transaction.atomic(durable=True):
        rule = (
            BlacklistRule.objects.select_for_update()
            .filter(community=community, metric=metric, comparison=comparison)
            .first()
        )
        if rule is None:
            rule = BlacklistRule(community=community, metric=metric, comparison=comparison)
        rule.threshold = threshold
        rule.is_active = is_active
        rule._history_user = actor  # type: ignore[attr-defined]
        rule.save()
    return rule


@transaction.atomic(savepoint=False)
def _propose(*, scorecard: Scorecard, now: dt.datetime) -> BlacklistEntry | None:
    """Apply the community's active rules to a new scorecard (inside its transaction)."""
    rules = list(
        BlacklistRule.objects.filter(community_id=scorecard.community_id, is_active=True).order_by(
            "metric", "comparison", "pk"
        )
    )
    reasons = broken_rules(scorecard, rules)
    if not reasons:
        return None
    live = (Status.PROPOSED, Status.LISTED)
    key = {"community_id": scorecard.community_id, "provider_id": scorecard.provider_id}
    if BlacklistEntry.objects.filter(status__in=live, **key).exists():
        return None  # already proposed or listed: one live entry per provider
    entry = BlacklistEntry(
        **key,
        scorecard=scorecard,
        status=Status.PROPOSED,
        reasons="\n".join(reasons),
        proposed_at=now,
    )
    try:
        # A savepoint: a concurrent publish (another period) proposing the same provider
        # may win the partial unique index; then this proposal simply is not needed.
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        if BlacklistEntry.objects.filter(status__in=live, **key).exists():
            return None
        raise
    return entry


def scorecard_publish(
    *,
    actor: Any,
    community: Community,
    provider: Organization,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime,
) -> Scorecard:
    """Store the provider's scorecard for the period, then apply the black-list rules."""
    if not is_community_staff(actor, community.pk):
        raise PermissionDenied(_("Only community staff may publish a scorecard."))
    if period_end < period_start:
        raise ValidationError(_("The period ends before it starts."), code="period")
    key = {
        "community": community,
        "provider": provider,
        "period_start": period_start,
        "period_end": period_end,
    }
    already = _("A scorecard of this provider for this period is already published.")
    if Scorecard.objects.filter(**key).exists():
        raise ValidationError(already, code="published")
    figures = scorecard_compute(
        community=community,
        provider=provider,
        period_start=period_start,
        period_end=period_end,
        now=now,
    )
    try:
        with transaction.atomic(durable=True):
            scorecard = Scorecard.objects.create(
                **key,
                households=figures.households,
                satisfaction=figures.satisfaction,
                survey_answers=figures.survey_answers,
                on_time_rate=figures.on_time_rate,
                reopen_rate=figures.reopen_rate,
                complaints=figures.complaints,
                complaints_per_1000=figures.complaints_per_1000,
                collection_rate=figures.collection_rate,
                published_at=now,
                published_by=actor,
            )
            _propose(scorecard=scorecard, now=now)
    except IntegrityError:
        # Two publishers at once: the unique constraint let one through.
        if Scorecard.objects.filter(**key).exists():
            raise ValidationError(already, code="published") from None
        raise
    return scorecard


# --- deciding on an entry ---------------------------------------------------------------


def _lock(entry: BlacklistEntry) -> BlacklistEntry:
    return (
        BlacklistEntry.objects.select_for_update(of=("self",))
        .select_related("provider")
        .get(pk=entry.pk)
    )


def _move(
    entry: BlacklistEntry, new: str, *, actor: Any, now: dt.datetime, **fields: Any
) -> BlacklistEntry:
    """Move a locked entry along the map (compare-and-set) and record who did it."""
    old = entry.status
    if new not in TRANSITIONS[old]:
        raise ValidationError(
            _("This entry is %(status)s and cannot be changed that way.")
            % {"status": Status(old).label},
            code="status",
        )
    if BlacklistEntry.objects.filter(pk=entry.pk, status=old).update(status=new, **fields) != 1:
        raise ValidationError(
            _("Someone else changed this entry meanwhile. Reload and try again."),
            code="conflict",
        )
    entry.status = new
    for name, value in fields.items():
        setattr(entry, name, value)
    _history(entry, actor=actor, now=now)
    return entry


def _history(entry: BlacklistEntry, *, actor: Any, now: dt.datetime) -> None:
    # update() skips simple-history's signal: record the change and who made it.
    BlacklistEntry.history.bulk_history_create(
        [entry], update=True, default_user=actor, default_date=now
    )


def _provider_staff(provider_id: int) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organization_id=provider_id,
            memberships__role=Membership.Role.PROPERTY_STAFF,
        )
        .distinct()
        .order_by("pk")
    )


def blacklist_confirm(
    *, entry: BlacklistEntry, actor: Any, evidence: str, now: dt.datetime
) -> BlacklistEntry:
    """Staff put a proposed provider on the black list, with evidence; its staff are told."""
    from accounts.notifications import notify

    if not is_community_staff(actor, entry.community_id):
        raise PermissionDenied(_("Only community staff may confirm a black-list entry."))
    evidence = evidence.strip()
    if not evidence:
        raise field_error(
            "evidence",
            _("Give the evidence for putting the provider on the black list."),
            "evidence",
        )
    with transaction.atomic(durable=True):
        entry = _lock(entry)
        entry = _move(
            entry,
            Status.LISTED,
            actor=actor,
            now=now,
            evidence=evidence,
            listed_at=now,
            listed_by=actor,
        )
        # The inbox rows are written now, in this transaction; notify sends SMS and e-mail
        # after commit (as the grievances app tells its receivers).
        with translation.override(settings.LANGUAGE_CODE):
            notify(
                users=_provider_staff(entry.provider_id),
                subject=_("%(provider)s was put on the community's black list")
                % {"provider": entry.provider.name},
                body=entry.reasons,
                kind="property.blacklist_listed",
                ref=f"blacklist-entry:{entry.pk}:listed",
            )
    return entry


def blacklist_dismiss(
    *, entry: BlacklistEntry, actor: Any, reason: str, now: dt.datetime
) -> BlacklistEntry:
    """Staff decide a proposed entry does not warrant the black list."""
    if not is_community_staff(actor, entry.community_id):
        raise PermissionDenied(_("Only community staff may dismiss a black-list entry."))
    with transaction.atomic(durable=True):
        entry = _lock(entry)
        return _move(
            entry,
            Status.DISMISSED,
            actor=actor,
            now=now,
            closed_at=now,
            closed_by=actor,
            close_reason=reason.strip(),
        )


def blacklist_respond(
    *, entry: BlacklistEntry, actor: Any, response: str, now: dt.datetime
) -> BlacklistEntry:
    """The listed provider's staff answer the listing (shown on the public board)."""
    if not is_property_staff(actor, entry.provider_id):
        raise PermissionDenied(_("Only the provider's own staff may respond."))
    response = response.strip()
    if not response:
        raise field_error("response", _("Write a response."), "response")
    with transaction.atomic(durable=True):
        entry = _lock(entry)
        if entry.status != Status.LISTED:
            raise ValidationError(
                _("Only a provider on the black list can respond."), code="status"
            )
        fields = {"response": response, "responded_at": now, "responded_by": actor}
        BlacklistEntry.objects.filter(pk=entry.pk).update(**fields)
        for name, value in fields.items():
            setattr(entry, name, value)
        _history(entry, actor=actor, now=now)
    return entry


def blacklist_remove(
    *, entry: BlacklistEntry, actor: Any, reason: str, now: dt.datetime
) -> BlacklistEntry:
    """Staff take a provider off the black list, saying why (kept on the record)."""
    if not is_community_staff(actor, entry.community_id):
        raise PermissionDenied(_("Only community staff may remove a black-list entry."))
    reason = reason.strip()
    if not reason:
        raise field_error("reason", _("Say why the provider is removed."), "reason")
    with transaction.atomic(durable=True):
        entry = _lock(entry)
        return _move(
            entry,
            Status.REMOVED,
            actor=actor,
            now=now,
            closed_at=now,
            closed_by=actor,
            close_reason=reason,
        )
