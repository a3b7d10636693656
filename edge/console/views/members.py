"""Members: search and page through them; add, change, suspend, lift a suspension, remove — each previewed first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from edge.console import audit
from edge.console.changes import Preview, diff_members
from edge.console.forms import ConfirmForm, MemberForm
from edge.console.permissions import manager_required
from edge.console.runtime import current
from edge.console.views.common import doors, loaded, site_today
from edge.errors import ConfigError
from edge.staff import edits
from edge.staff.listing import member_status
from edge.staff.members import Member, MemberFile, mask_uid
from edge.staff.memberstore import Loaded, MemberFileChanged

log = logging.getLogger("edge.console")
PAGE_SIZE = 50
STATUSES = ("active", "suspended", "expired", "not yet valid", "no badge")


@dataclass(frozen=True)
class _Index:
    version: str
    rows: tuple[tuple[str, Member], ...]


_index: _Index | None = None


def _search_index(members: Loaded) -> tuple[tuple[str, Member], ...]:
    """Each member with the lower-case text a search looks in (id, name, e-mail, plan, account), per version."""
    global _index
    cached = _index
    if cached is None or cached.version != members.version:
        rows = tuple(
            (" ".join((m.id, m.name, m.email or "", m.plan, m.account or "")).casefold(), m)
            for m in members.members.members
        )
        cached = _index = _Index(members.version, rows)
    return cached.rows


def search(members: Loaded, query: str, status: str = "") -> list[Member]:
    """Members whose id, name, e-mail, plan or account contain every word of `query`, in file order."""
    words = query.casefold().split()
    today = site_today() if status else None
    found = []
    for text, member in _search_index(members):
        if all(w in text for w in words) and (today is None or member_status(member, today) == status):
            found.append(member)
    return found


def member_list(request: HttpRequest) -> HttpResponse:
    """The member list: search box, status filter, pages of 50."""
    current_file = loaded()
    query = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    if status not in STATUSES:
        status = ""
    found = search(current_file, query, status)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
    today = site_today()
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = [(m, member_status(m, today)) for m in shown]
    context = {
        "rows": rows,
        "query": query,
        "status": status,
        "statuses": STATUSES,
        "page": page,
        "pages": pages,
        "total": len(found),
        "everyone": len(current_file.members.members),
    }
    return render(request, "console/members.html", context)


def _member(members: MemberFile, member_id: str) -> Member:
    for member in members.members:
        if member.id == member_id:
            return member
    raise Http404(member_id)


def member_detail(request: HttpRequest, member_id: str) -> HttpResponse:
    """One member: plan, validity, status, badges (masked), account; the actions a manager may take."""
    current_file = loaded()
    member = _member(current_file.members, member_id)
    plan = current_file.members.plans.get(member.plan)
    account = current_file.members.accounts.get(member.account) if member.account else None
    context = {
        "member": member,
        "status": member_status(member, site_today()),
        "badges": [mask_uid(b) for b in member.badges],
        "plan": plan,
        "account": account,
        "version": current_file.version,
    }
    return render(request, "console/member.html", context)


def _preview(before: MemberFile, after: MemberFile) -> Preview:
    return Preview(diff_members(before, after), doors())


def _fields_of(form: MemberForm) -> dict[str, Any]:
    return form.member_fields()


def _apply(
    request: HttpRequest,
    change: Callable[[MemberFile], edits.Edit],
    based_on: str,
    action: str,
    target: str,
    **details: Any,
) -> edits.Edit:
    edit, saved = current().members.edit(change, based_on=based_on)
    if edit.changed:
        audit.record(request, action, target=target, file_version=saved.version, **details)
        for warning in edit.warnings:
            messages.warning(request, warning)
    return edit


@manager_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    """Add a member: the form, then a preview of the change, then the confirmation that saves it."""
    current_file = loaded()
    if request.method == "GET":
        form = MemberForm(members=current_file.members, initial={"based_on": current_file.version})
        return render(request, "console/member_form.html", {"form": form, "member": None})
    form = MemberForm(request.POST, members=current_file.members)
    if not form.is_valid():
        return render(request, "console/member_form.html", {"form": form, "member": None})
    member_id = form.cleaned_data["member_id"].strip()
    fields = _fields_of(form)

    def change(members: MemberFile) -> edits.Edit:
        return edits.add_member(members, member_id=member_id, badge_key=current().badge_key, **fields)

    return _preview_or_save(request, form, None, change, "member.add", member_id, current_file)


@manager_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member_id: str) -> HttpResponse:
    """Change a member: the form, a preview, then the confirmation; refused if someone else saved meanwhile."""
    current_file = loaded()
    member = _member(current_file.members, member_id)
    if request.method == "GET":
        initial = MemberForm.initial_for(member, current_file.version)
        form = MemberForm(members=current_file.members, member=member, initial=initial)
        return render(request, "console/member_form.html", {"form": form, "member": member})
    form = MemberForm(request.POST, members=current_file.members, member=member, initial={"member_id": member.id})
    if not form.is_valid():
        return render(request, "console/member_form.html", {"form": form, "member": member})
    fields = _fields_of(form)
    return _preview_or_save(
        request,
        form,
        member,
        lambda members: edits.update_member(members, member.id, badge_key=current().badge_key, **fields),
        "member.edit",
        member.id,
        current_file,
    )


def _preview_or_save(
    request: HttpRequest,
    form: MemberForm,
    member: Member | None,
    change: Callable[[MemberFile], edits.Edit],
    action: str,
    member_id: str,
    current_file: Loaded,
) -> HttpResponse:
    """Without `confirm`: compute the change on the file as it is and show what it does. With it: save."""
    based_on = form.cleaned_data["based_on"]
    context: dict[str, Any] = {"form": form, "member": member}
    try:
        if "confirm" not in request.POST:
            if based_on != current_file.version:
                raise MemberFileChanged(current().members.path, based_on, current_file)
            edit = change(current_file.members)
            if not edit.changed:
                messages.info(request, _("Nothing to change."))
                return redirect("member", member_id=member_id) if member else redirect("members")
            context["preview"] = _preview(current_file.members, edit.members)
            return render(request, "console/member_form.html", context)
        edit = _apply(request, change, based_on, action, member_id)
    except MemberFileChanged as exc:
        return _conflict(request, exc, member_id)
    except ConfigError as exc:
        for issue in exc.issues:
            form.add_error(None, _issue_text(issue))
        return render(request, "console/member_form.html", context)
    messages.success(request, _("Saved. Publish to send the change to the doors."))
    return redirect("member", member_id=member_id)


def _issue_text(issue: str) -> str:
    """A member-file rule broken by the form, in words staff read (the CLI option names are dropped)."""
    for option in ("--id: ", "--plan: ", "--badge: ", "--name: ", "--account: ", "--email: "):
        issue = issue.replace(option, "")
    return issue


def _conflict(request: HttpRequest, exc: MemberFileChanged, member_id: str) -> HttpResponse:
    log.warning("member file changed under an edit of %s by %s", member_id, request.user)
    member = next((m for m in exc.current.members.members if m.id == member_id), None)
    context = {
        "member": member,
        "member_id": member_id,
        "badges": [mask_uid(b) for b in member.badges] if member else [],
        "version": exc.current.version,
    }
    return render(request, "console/conflict.html", context, status=409)


_ACTIONS: dict[str, tuple[str, Callable[[MemberFile, str], edits.Edit]]] = {
    "suspend": ("member.suspend", lambda m, i: edits.set_suspended(m, i, True)),
    "unsuspend": ("member.unsuspend", lambda m, i: edits.set_suspended(m, i, False)),
    "remove": ("member.remove", edits.remove_member),
}


@manager_required
@require_http_methods(["GET", "POST"])
def member_action(request: HttpRequest, member_id: str, action: str) -> HttpResponseBase:
    """Suspend, lift a suspension or remove: a confirmation page with the preview, then the change on POST."""
    if action not in _ACTIONS:
        raise Http404(action)
    audit_action, change = _ACTIONS[action]
    current_file = loaded()
    member = _member(current_file.members, member_id)
    if request.method == "GET":
        edit = change(current_file.members, member.id)
        context = {
            "member": member,
            "action": action,
            "preview": _preview(current_file.members, edit.members),
            "form": ConfirmForm(initial={"based_on": current_file.version}),
            "badges": len(member.badges),
        }
        return render(request, "console/member_confirm.html", context)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return redirect("member", member_id=member.id)
    # A removed member's whole record goes to the audit log: a removal can be undone from there.
    details = {"removed": member.model_dump(mode="json")} if action == "remove" else {}
    try:
        _apply(
            request, lambda m: change(m, member.id), form.cleaned_data["based_on"], audit_action, member.id, **details
        )
    except MemberFileChanged as exc:
        return _conflict(request, exc, member.id)
    except ConfigError as exc:
        messages.error(request, "; ".join(exc.issues))
        return redirect("member", member_id=member.id)
    done = {
        "suspend": _("Member suspended. Publish to refuse them at the doors."),
        "unsuspend": _("Suspension lifted. Publish to let them in again."),
        "remove": _("Member removed (kept in the audit log). Publish to revoke their badges at the doors."),
    }[action]
    messages.success(request, done)
    return redirect("members") if action == "remove" else redirect("member", member_id=member.id)
