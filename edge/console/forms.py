"""The console's forms: every field staff fill in, validated by Django, then by the member file's own rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from edge.contract.token import normalise_uid
from edge.staff.members import Member, MemberFile, mask_uid


def _uids(text: str) -> tuple[str, ...]:
    out = []
    for line in text.replace(",", "\n").splitlines():
        if line.strip():
            try:
                out.append(normalise_uid(line))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("%(value)s is not a badge number: %(reason)s"), params={"value": line.strip(), "reason": exc}
                ) from None
    return tuple(out)


class MemberForm(forms.Form):
    """Add or change a member. Badges already held are shown masked, with a box to take each one back."""

    member_id = forms.CharField(
        label=_("Member id"), max_length=64, help_text=_("As the coworking platform spells it.")
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    plan = forms.ChoiceField(label=_("Plan"))
    keep_badges = forms.MultipleChoiceField(
        label=_("Badges"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick a badge to take it back."),
    )
    new_badges = forms.CharField(
        label=_("New badge numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, as printed by the reader or the card supplier (hexadecimal)."),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    account = forms.CharField(label=_("Company or team account"), max_length=100, required=False)
    staff = forms.BooleanField(label=_("Staff badge (admitted in lockdown if the policy says so)"), required=False)
    based_on = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, members: MemberFile, member: Member | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["plan"]).choices = [(p, p) for p in sorted(members.plans)]
        badges = member.badges if member is not None else ()
        cast(forms.ChoiceField, self.fields["keep_badges"]).choices = [(uid, mask_uid(uid)) for uid in badges]
        if member is not None:
            self.fields["member_id"].disabled = True
            self.fields["member_id"].required = False
        else:
            del self.fields["keep_badges"]

    def clean_new_badges(self) -> tuple[str, ...]:
        """The badge numbers typed, normalised."""
        return _uids(self.cleaned_data.get("new_badges") or "")

    def clean(self) -> dict[str, Any]:
        """Validity dates in order."""
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The last day is before the first day."))
        return data

    def member_fields(self) -> dict[str, Any]:
        """The member's fields as the member file's edit functions take them."""
        data = self.cleaned_data
        keep = tuple(data.get("keep_badges") or ())
        return {
            "name": data["name"],
            "email": data["email"] or None,
            "plan": data["plan"],
            "badges": keep + tuple(b for b in data["new_badges"] if b not in keep),
            "valid_from": data["valid_from"],
            "valid_until": data["valid_until"],
            "account": data["account"] or None,
            "staff": data["staff"],
        }

    @staticmethod
    def initial_for(member: Member, version: str) -> dict[str, Any]:
        """The form's initial values for an existing member."""
        return {
            "member_id": member.id,
            "name": member.name,
            "email": member.email or "",
            "plan": member.plan,
            "keep_badges": list(member.badges),
            "valid_from": member.valid_from,
            "valid_until": member.valid_until,
            "account": member.account or "",
            "staff": member.staff,
            "based_on": version,
        }


class ConfirmForm(forms.Form):
    """A confirmation: the member file version the person saw."""

    based_on = forms.CharField(widget=forms.HiddenInput)


class SeatsForm(forms.Form):
    """The seat limit of an account (empty: no limit)."""

    account = forms.CharField(label=_("Account"), max_length=100)
    seats = forms.IntegerField(label=_("Seats per day"), min_value=1, max_value=100_000, required=False)
    based_on = forms.CharField(widget=forms.HiddenInput)
