"""Forms of the staff pages: the registry upload and the export filters."""

from __future__ import annotations

import zipfile
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from community import selectors
from community.models import Building, Estate, Grid, Resident
from community.registry_import import max_bytes

_XLSX_PARTS = {"[Content_Types].xml", "xl/workbook.xml"}
# A real registry expands maybe 10-20x when unzipped; far more is a zip bomb.
_MAX_UNPACKED_RATIO = 25


class ResidentImportForm(forms.Form):
    file = forms.FileField(
        label=_("Registry workbook (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = max_bytes()
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.") % {"size": limit // (1024 * 1024)}
            )
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(
                _("Upload an Excel workbook saved as .xlsx (not .xls or .csv).")
            )
        # The name proves nothing: look inside. An .xlsx is a zip with a workbook part.
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                infos = archive.infolist()
                names = {info.filename for info in infos}
                unpacked = sum(info.file_size for info in infos)
        except (zipfile.BadZipFile, OSError, ValueError):
            raise forms.ValidationError(
                _("This is not an Excel workbook (.xlsx). Save it from Excel or WPS as .xlsx.")
            ) from None
        finally:
            upload.seek(0)
        if not names >= _XLSX_PARTS:
            raise forms.ValidationError(
                _("This is not an Excel workbook (.xlsx). Save it from Excel or WPS as .xlsx.")
            )
        if unpacked > limit * _MAX_UNPACKED_RATIO:
            raise forms.ValidationError(_("The workbook is too large once unpacked."))
        return upload


class ResidentFilterForm(forms.Form):
    """The filters of selectors.resident_list, with choices limited to the user's area."""

    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("Name or phone")}),
    )
    estate = forms.ModelChoiceField(
        label=_("Estate"), queryset=Estate.objects.none(), required=False
    )
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False
    )
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    # The keyed hash of a whole ID number typed into `search`: the view swaps the number
    # for its hash before it can stay in the address bar or an access log.
    idh = forms.RegexField(regex=r"^[0-9a-f]{64}$", required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["estate"].queryset = selectors.estate_list(user=user)
        fields["building"].queryset = selectors.building_list(user=user)
        fields["grid"].queryset = selectors.grid_list(user=user)
        fields["tag"].choices = [("", _("All tags"))] + [
            (tag.code, tag.name) for tag in selectors.resident_tag_list()
        ]
        fields["status"].choices = [("", _("All statuses")), *Resident.Status.choices]

    def selector_filters(self) -> dict[str, Any]:
        """The keyword arguments for selectors.resident_list (call after is_valid())."""
        data = self.cleaned_data
        return {
            "search": data.get("search") or "",
            "estate_id": data["estate"].pk if data.get("estate") else None,
            "building_id": data["building"].pk if data.get("building") else None,
            "grid_id": data["grid"].pk if data.get("grid") else None,
            "tag": data.get("tag") or "",
            "status": data.get("status") or "",
            "id_number_hash": data.get("idh") or "",
        }
