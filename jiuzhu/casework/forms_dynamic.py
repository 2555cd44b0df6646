"""Forms of dynamic management: the review decision."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReviewDecisionForm(forms.Form):
    assessment = forms.IntegerField(widget=forms.HiddenInput)
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 3}))
    employment = forms.BooleanField(label=_("Income rose because a member found work (gradual exit)"),
                                    required=False)
