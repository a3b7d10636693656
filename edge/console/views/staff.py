"""Staff accounts, managed by managers: create, change role, disable, set a password."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import BaseUserCreationForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from edge.console import audit
from edge.console.models import Role, StaffUser
from edge.console.permissions import manager_required


class NewStaffForm(BaseUserCreationForm):  # type: ignore[type-arg]
    """A new staff account: name, role, password twice (checked by Django's password rules)."""

    class Meta:
        model = StaffUser
        fields = ("username", "role")


class StaffForm(forms.ModelForm):  # type: ignore[type-arg]
    """An account's role, and whether it may log in."""

    class Meta:
        model = StaffUser
        fields = ("role", "is_active")
        labels: ClassVar[dict[str, Any]] = {"is_active": gettext_lazy("May log in")}


@manager_required
def staff_list(request: HttpRequest) -> HttpResponse:
    """Every staff account."""
    return render(request, "console/staff.html", {"accounts": StaffUser.objects.order_by("username")})


@manager_required
@require_http_methods(["GET", "POST"])
def staff_add(request: HttpRequest) -> HttpResponseBase:
    """Create an account."""
    form = NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        audit.record(request, "staff.add", target=user.username, role=user.role)
        messages.success(request, _("Account %(name)s created.") % {"name": user.username})
        return redirect("staff")
    return render(request, "console/staff_form.html", {"form": form, "account": None})


@manager_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponseBase:
    """Change an account's role or disable it; a manager cannot demote or disable themselves."""
    account = get_object_or_404(StaffUser, pk=user_id)
    form = StaffForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        if account.pk == request.user.pk and (
            form.cleaned_data["role"] != Role.MANAGER or not form.cleaned_data["is_active"]
        ):
            form.add_error(None, _("You cannot take away your own manager rights: ask another manager."))
        else:
            form.save()
            details: dict[str, Any] = {"role": account.role, "active": account.is_active}
            audit.record(request, "staff.edit", target=account.username, **details)
            messages.success(request, _("Account %(name)s saved.") % {"name": account.username})
            return redirect("staff")
    return render(request, "console/staff_form.html", {"form": form, "account": account})


@manager_required
@require_http_methods(["GET", "POST"])
def staff_password(request: HttpRequest, user_id: int) -> HttpResponseBase:
    """Set another account's password (a forgotten password)."""
    account = get_object_or_404(StaffUser, pk=user_id)
    form = SetPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record(request, "staff.password", target=account.username)
        messages.success(request, _("Password of %(name)s set.") % {"name": account.username})
        return redirect("staff")
    return render(request, "console/staff_form.html", {"form": form, "account": account, "password": True})
