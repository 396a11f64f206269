"""Satisfaction surveys of a provider for a period (物业满意度测评): one answer per
household, on the portal or entered by a grid worker for a household without a phone."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from community.models import Building, Community, Estate, Household, Organization, Resident

RATING = [MinValueValidator(1), MaxValueValidator(5)]
#: The service areas every survey asks about, besides the overall rating.
AREAS = ("cleaning", "security", "repairs", "green_spaces", "parking")


class Survey(models.Model):
    """A round of ratings of one provider by the households of its estates in a community."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        # "open" alone is a grievance's status elsewhere (待处理); a survey open for answers
        # says so in its own words.
        OPEN = "open", pgettext_lazy("survey status", "open")
        CLOSED = "closed", pgettext_lazy("survey status", "closed")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="property_surveys",
        verbose_name=_("community"),
    )
    provider = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="surveys",
        limit_choices_to={"kind": Organization.Kind.PROPERTY_COMPANY},
        verbose_name=_("provider"),
    )
    estates = models.ManyToManyField(
        Estate, related_name="property_surveys", verbose_name=_("estates")
    )
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[estates])

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="survey_period_ordered"
            ),
        ]
        indexes = [models.Index(fields=["provider", "period_start"], name="survey_provider_period")]

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    """A household's answer (once per survey: the unique constraint is the guard when two
    members of the household submit at once)."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("resident portal")
        ON_BEHALF = "on_behalf", _("entered by a grid worker for the household")

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="responses", verbose_name=_("survey")
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="survey_responses",
        verbose_name=_("household"),
    )
    # The household's building and estate, copied at answer time: the results per
    # building and estate group by them without joining through units.
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="+", verbose_name=_("estate")
    )
    respondent = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("respondent"),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    overall = models.PositiveSmallIntegerField(_("overall"), validators=RATING)
    cleaning = models.PositiveSmallIntegerField(
        _("cleaning"), validators=RATING, null=True, blank=True
    )
    security = models.PositiveSmallIntegerField(
        _("security"), validators=RATING, null=True, blank=True
    )
    repairs = models.PositiveSmallIntegerField(
        _("repairs"), validators=RATING, null=True, blank=True
    )
    green_spaces = models.PositiveSmallIntegerField(
        _("green spaces"), validators=RATING, null=True, blank=True
    )
    parking = models.PositiveSmallIntegerField(
        _("parking"), validators=RATING, null=True, blank=True
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "household"], name="survey_one_answer_per_household"
            ),
            models.CheckConstraint(
                condition=Q(overall__gte=1, overall__lte=5), name="survey_overall_1_to_5"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{area}__isnull": True})
                    | Q(**{f"{area}__gte": 1, f"{area}__lte": 5}),
                    name=f"survey_{area}_1_to_5",
                )
                for area in AREAS
            ),
        ]
        indexes = [models.Index(fields=["survey", "building"], name="survey_answer_building")]

    def __str__(self) -> str:
        return f"{self.survey} · {self.household}"
