"""Import a Nexudus / OfficeRnD / Cobot export: upload, preview who is added, changed and removed, then confirm."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from edge.console import audit
from edge.console.imports import ImportPlan, mapping_for, plan_import
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.views.common import loaded
from edge.errors import ConfigError
from edge.i18n import Formatter
from edge.staff import edits
from edge.staff.members import MemberFile
from edge.staff.memberstore import MemberFileChanged

FORMATS = (("nexudus", "Nexudus"), ("officernd", "OfficeRnD"), ("cobot", "Cobot"), ("generic", "CSV (edge)"))
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class UploadForm(forms.Form):
    """The export file and the platform it comes from."""

    export = forms.FileField(label=gettext_lazy("Export file (CSV)"))
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), choices=FORMATS)


class ConfirmImportForm(forms.Form):
    """The upload waiting for confirmation, and the member file version it was previewed against."""

    upload = forms.RegexField(regex=_TOKEN, widget=forms.HiddenInput)
    platform = forms.ChoiceField(choices=FORMATS, widget=forms.HiddenInput)
    based_on = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(widget=forms.HiddenInput, max_length=200)
    confirm_removals = forms.IntegerField(required=False, min_value=0)


def _formatter() -> Formatter:
    return Formatter.for_language(get_language())


def _uploads() -> Path:
    folder = current().state_dir / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Step 1: the upload; step 2 (same POST): the preview, with a confirmation form."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return render(request, "console/import.html", {"form": form})
    raw = form.cleaned_data["export"].read()
    platform = form.cleaned_data["platform"]
    name = os.path.basename(form.cleaned_data["export"].name or "export.csv")[:200]
    current_file = loaded()
    try:
        mapping = mapping_for(platform, current().console.import_mapping)
        plan = plan_import(
            raw,
            mapping,
            current_file.members,
            name=name,
            confirmed=None,
            fmt=_formatter(),
            badge_key=current().badge_key,
        )
    except ConfigError as exc:
        return render(request, "console/import.html", {"form": form, "errors": exc.issues})
    token = secrets.token_urlsafe(24)
    path = _uploads() / f"{token}.csv"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(raw)
    confirm = ConfirmImportForm(
        initial={"upload": token, "platform": platform, "based_on": current_file.version, "name": name}
    )
    return render(request, "console/import_preview.html", {"plan": plan, "confirm": confirm, "name": name})


@manager_required
@require_http_methods(["POST"])
def import_confirm(request: HttpRequest) -> HttpResponseBase:
    """Step 3: import for real, all or nothing, only if the member file is still the one previewed."""
    form = ConfirmImportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This import is no longer available: upload the file again."))
        return redirect("import")
    path = _uploads() / f"{form.cleaned_data['upload']}.csv"
    try:
        raw = path.read_bytes()
    except OSError:
        messages.error(request, _("This import is no longer available: upload the file again."))
        return redirect("import")
    confirmed = form.cleaned_data["confirm_removals"]
    platform, name = form.cleaned_data["platform"], form.cleaned_data["name"]
    outcome: dict[str, object] = {}

    def change(members: MemberFile) -> edits.Edit:
        plan = plan_import(
            raw,
            mapping_for(platform, current().console.import_mapping),
            members,
            name=name,
            confirmed=confirmed,
            fmt=_formatter(),
            badge_key=current().badge_key,
        )
        if plan.refused:
            raise ConfigError([_("The import removes too many members: confirm the exact number removed.")])
        outcome["plan"] = plan
        gone = {m.id for m in plan.diff.removed}
        # Removed members' whole records go to the audit log: an import never destroys what it replaces.
        outcome["removed"] = [m.model_dump(mode="json") for m in members.members if m.id in gone]
        return edits.Edit(plan.result, f"imported {plan.report.imported} members from {platform}")

    try:
        _edit, saved = current().members.edit(change, based_on=form.cleaned_data["based_on"])
    except MemberFileChanged:
        messages.error(
            request,
            _("Someone else changed the member file since the preview: nothing was imported. Check the preview again."),
        )
        return redirect("import")
    except ConfigError as exc:
        messages.error(request, " ".join(exc.issues))
        return redirect("import")
    path.unlink(missing_ok=True)
    plan = outcome["plan"]
    assert isinstance(plan, ImportPlan)
    audit.record(
        request,
        "import",
        target=platform,
        file=name,
        added=[m.id for m in plan.diff.added],
        changed=[m.id for m in plan.diff.changed],
        removed=outcome["removed"],
        file_version=saved.version,
    )
    messages.success(request, _("Imported. Publish to send the new members to the doors."))
    return redirect("members")
