"""Party members reporting in (下沉党员报到): the member's registration form and "my
registration / my post" phone page; the office's page to confirm (with a post and
duties, 定岗定责) or decline registrations and to see the registered members with their
hours per quarter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.phone import mask_phone, normalize_phone, validate_mobile
from community.models import Community
from volunteers.models import PartyMemberRegistration, Post
from volunteers.selectors import party as selectors
from volunteers.services import (
    party_member_register,
    registration_confirm,
    registration_decline,
)
from volunteers.views.common import refusal

FIRST_YEAR = 2000
LAST_YEAR = 2100


class RegistrationForm(forms.Form):
    """What a party member tells the community when reporting in."""

    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"),
        queryset=Community.objects.none(),
        empty_label=gettext_lazy("Choose the community"),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=20)
    employer = forms.CharField(label=gettext_lazy("Employer (work unit)"), max_length=100)
    party_branch = forms.CharField(label=gettext_lazy("Party branch"), max_length=100)
    skills = forms.CharField(
        label=gettext_lazy("Skills"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    free_hours = forms.CharField(
        label=gettext_lazy("When you are free"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("e.g. Saturday mornings, weekday evenings"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["community"].queryset = selectors.registration_communities()  # type: ignore[attr-defined]

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_mobile(phone)
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        community = cleaned.get("community")
        # A double tap or a second visit would otherwise file the same member twice.
        if community is not None and selectors.has_open_registration(
            user=self.user, community=community
        ):
            raise forms.ValidationError(
                _("You have already registered with this community."), code="duplicate"
            )
        return cleaned


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """The registration form; the name and phone start from the user's account."""
    user: Any = request.user
    if request.method == "POST":
        form = RegistrationForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                party_member_register(
                    community=data["community"],
                    name=data["name"],
                    phone=data["phone"],
                    employer=data["employer"],
                    party_branch=data["party_branch"],
                    skills=data["skills"],
                    free_hours=data["free_hours"],
                    user=user,
                    now=timezone.now(),
                )
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, refusal(exc))
            else:
                messages.success(
                    request,
                    _("Thank you for reporting in. The community office will assign your post."),
                )
                return redirect("volunteers:party-mine")
    else:
        form = RegistrationForm(user=user, initial={"name": user.name, "phone": user.phone})
    return render(request, "volunteers/party/register.html", {"form": form})


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """My registrations: the status; once confirmed, the post, duties, tasks and hours."""
    user = request.user
    now = timezone.now()
    entries = []
    for registration in selectors.own_registrations(user=user):
        confirmed = registration.status == PartyMemberRegistration.Status.CONFIRMED
        entries.append(
            {
                "registration": registration,
                "tasks": list(selectors.post_tasks(user=user, registration=registration, now=now))
                if confirmed
                else [],
                "quarter_hours": selectors.own_quarter_hours(
                    user=user, community_id=registration.community_id, now=now
                )
                if confirmed
                else None,
            }
        )
    _year, quarter, _start, _end = selectors.current_quarter(now)
    return render(
        request,
        "volunteers/party/mine.html",
        {"entries": entries, "quarter": quarter, "now": now},
    )


# --- the office ---------------------------------------------------------------------------


def _int_param(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise Http404 from None


def office_community(request: HttpRequest) -> Community:
    """The community of `?community=` (or the first the user staffs); 404 unless staff."""
    community = selectors.office_community(
        user=request.user, pk=_int_param(request.GET.get("community"))
    )
    if community is None:
        raise Http404
    return community


def chosen_year(request: HttpRequest) -> int:
    """The year of `?year=`, this (local) year by default; 404 when it is not a year."""
    year = _int_param(request.GET.get("year"))
    if year is None:
        return timezone.localdate().year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    return year


@login_required
def registrations(request: HttpRequest) -> HttpResponse:
    """Staff: registrations to decide, and the registered members with hours per quarter."""
    user = request.user
    community = office_community(request)
    year = chosen_year(request)
    now = timezone.now()
    posts = list(selectors.community_posts(user=user, community=community))
    pending = [
        (registration, mask_phone(registration.phone))
        for registration in selectors.pending_registrations(user=user, community=community)
    ]
    this_year = timezone.localdate(now).year
    return render(
        request,
        "volunteers/party/registrations.html",
        {
            "community": community,
            "communities": list(selectors.office_communities(user=user)),
            "year": year,
            "years": list(range(this_year, this_year - 5, -1)),
            "posts": posts,
            "pending": pending,
            "members": selectors.registered_members(
                user=user, community=community, year=year, now=now
            )
            or [],
            "employers": selectors.member_employers(user=user, community=community),
        },
    )


def _decidable(request: HttpRequest, pk: int) -> PartyMemberRegistration:
    registration = selectors.decidable_registration(user=request.user, pk=pk)
    if registration is None:
        raise Http404
    return registration


def _back(registration: PartyMemberRegistration) -> HttpResponse:
    url = reverse("volunteers:party-registrations")
    return redirect(f"{url}?community={registration.community_id}")


def _chosen_post(request: HttpRequest, registration: PartyMemberRegistration) -> Post:
    pk = _int_param(request.POST.get("post"))
    post = (
        selectors.community_posts(user=request.user, community=registration.community)
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if post is None:
        raise ValidationError(_("Choose a post of this community."), code="post")
    return post


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff confirm a registration with a post and duties (定岗定责)."""
    registration = _decidable(request, pk)
    try:
        post = _chosen_post(request, registration)
        registration_confirm(
            registration=registration,
            post=post,
            duties=request.POST.get("duties", "").strip(),
            actor=request.user,
            now=timezone.now(),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(
            request,
            _("%(name)s is confirmed at the post %(post)s.")
            % {"name": registration.name, "post": post.name},
        )
    return _back(registration)


@login_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff decline a registration."""
    registration = _decidable(request, pk)
    try:
        registration_decline(registration=registration, actor=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(
            request, _("The registration of %(name)s is declined.") % {"name": registration.name}
        )
    return _back(registration)
