"""The assessment of a candidate: a pure function of the evaluation and versioned rules.

:func:`assess` applies the rules of ``data/rules.yaml`` (loaded once, with their version and
source) to :class:`EvaluationFacts` and returns an :class:`Assessment`: the outcome and every
reason, each citing its item of the reference (``../shared/reference/device_and_clinic.md``).

Outcome, worst first: any contraindication (§3.2) or unmet selection criterion (§3.3) gives
``not_eligible``; otherwise any precaution gives ``eligible_with_precautions``; otherwise
``eligible``. Every rule can only add a reason, so a finding added to an evaluation never
improves the outcome.

Examples
--------
>>> facts = EvaluationFacts(diagnosis="fibromyalgia", age_years=45, pain_duration_months=60,
...                         treatments_tried=("nsaids", "tricyclics", "anticonvulsants"),
...                         baseline_nrs=7, planned_diathermy=True)
>>> a = assess(facts)
>>> a.outcome.value, [r.code for r in a.reasons]
('not_eligible', ['planned_diathermy'])
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, model_validator

from openvns import yamlio
from openvns.base import FrozenModel
from openvns.clinic.evaluation.models import FLAGS, Diagnosis

RuleKind = Literal["contraindication", "criterion", "precaution"]
RuleTest = Literal["true", "below", "fewer_than", "in"]


class Outcome(enum.StrEnum):
    """Result of an assessment, from best to worst."""

    ELIGIBLE = "eligible"
    ELIGIBLE_WITH_PRECAUTIONS = "eligible_with_precautions"
    NOT_ELIGIBLE = "not_eligible"

    @property
    def rank(self) -> int:
        """0 (eligible), 1 (with precautions) or 2 (not eligible)."""
        return list(Outcome).index(self)


_OUTCOME_OF: dict[str, Outcome] = {
    "contraindication": Outcome.NOT_ELIGIBLE,
    "criterion": Outcome.NOT_ELIGIBLE,
    "precaution": Outcome.ELIGIBLE_WITH_PRECAUTIONS,
}


class Rule(FrozenModel):
    """One rule of ``data/rules.yaml``."""

    code: str
    kind: RuleKind
    field: str
    test: RuleTest
    threshold: float | None = None
    values: tuple[str, ...] = ()
    when_diagnosis: tuple[Diagnosis, ...] = ()
    message: str
    source: str
    status: Literal["V", "D", "R", "NF", "A"]

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.test in ("below", "fewer_than") and self.threshold is None:
            raise ValueError(f"rule {self.code}: test {self.test!r} needs a threshold")
        if self.test == "in" and not self.values:
            raise ValueError(f"rule {self.code}: test 'in' needs values")
        if self.field not in EvaluationFacts.model_fields:
            raise ValueError(f"rule {self.code}: unknown field {self.field!r}")
        return self


class SourceRef(FrozenModel):
    """A source of the reference (``S9``…): its title and an address, where there is one."""

    title: str
    url: str | None = None


class RuleSet(FrozenModel):
    """The versioned rules, and what their sources cite (for pages: :func:`citation`)."""

    version: str
    rules: tuple[Rule, ...]
    reference: str = "OpenVNS reference"
    sections: dict[str, str] = Field(default_factory=dict)
    sources: dict[str, SourceRef] = Field(default_factory=dict)


class Section(FrozenModel):
    """A section of the reference cited by a rule: its number (``3.2``) and title."""

    number: str
    title: str


class Reference(FrozenModel):
    """A source cited by a rule: its ID, title and address (``None`` if the reference has none)."""

    id: str
    title: str
    url: str | None = None


class Citation(FrozenModel):
    """A rule's ``source`` made readable: the reference's sections and the sources it cites."""

    source: str
    reference: str
    sections: tuple[Section, ...]
    references: tuple[Reference, ...]


_SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")
_SOURCE_ID = re.compile(r"\bS\d+\b")


def citation(source: str, rules: RuleSet | None = None) -> Citation:
    """The sections and sources a rule's ``source`` (``"reference §3.2 [S9, S13]"``) cites.

    A section or source the rules do not describe keeps its number or ID as its title, so
    nothing cited is dropped.

    Examples
    --------
    >>> c = citation("reference §3.2 [S9]")
    >>> [s.title for s in c.sections], [(r.title, r.url) for r in c.references]
    (['Contraindications, warnings, precautions'], \
[('LivaNova important safety information', 'https://www.livanova.cyberonics.com/node/82')])
    """
    rules = rules or default_rules()
    sections = tuple(
        Section(number=n, title=rules.sections.get(n, f"§{n}"))
        for n in dict.fromkeys(_SECTION.findall(source))
    )
    references = []
    for ident in dict.fromkeys(_SOURCE_ID.findall(source)):
        ref = rules.sources.get(ident)
        title, url = (ref.title, ref.url) if ref is not None else (ident, None)
        references.append(Reference(id=ident, title=title, url=url))
    return Citation(
        source=source, reference=rules.reference, sections=sections, references=tuple(references)
    )


class Reason(FrozenModel):
    """Why the outcome is what it is: the rule's code, kind, message and source."""

    code: str
    kind: RuleKind
    message: str
    source: str


class Assessment(FrozenModel):
    """Outcome and reasons of :func:`assess`, with the version of the rules applied."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    rules_version: str


class EvaluationFacts(FrozenModel):
    """What :func:`assess` reads: the evaluation and the candidate's age.

    Attributes
    ----------
    diagnosis
        Pain diagnosis.
    age_years
        Age at assessment, in whole years (from the patient's date of birth).
    pain_duration_months
        Duration of the pain, in months.
    treatments_tried
        Treatments tried and failed.
    baseline_nrs
        Baseline pain intensity, 0-10 numeric rating scale.
    headache_days_per_month
        Headache days a month (headache/migraine), if recorded.
    prior_left_or_bilateral_cervical_vagotomy, planned_diathermy, obstructive_sleep_apnoea,
    chronic_pulmonary_disease, swallowing_difficulty, cardiac_arrhythmia_or_conduction_disorder,
    heart_rate_altering_treatment, anticipated_mri, pregnancy, other_active_implanted_device
        Findings of §3.2.
    """

    diagnosis: Diagnosis
    age_years: int = Field(ge=0)
    pain_duration_months: int = Field(ge=0)
    treatments_tried: tuple[str, ...] = ()
    baseline_nrs: float = Field(ge=0, le=10)
    headache_days_per_month: int | None = None
    prior_left_or_bilateral_cervical_vagotomy: bool = False
    planned_diathermy: bool = False
    obstructive_sleep_apnoea: bool = False
    chronic_pulmonary_disease: bool = False
    swallowing_difficulty: bool = False
    cardiac_arrhythmia_or_conduction_disorder: bool = False
    heart_rate_altering_treatment: bool = False
    anticipated_mri: bool = False
    pregnancy: bool = False
    other_active_implanted_device: bool = False


def _applies(rule: Rule, facts: EvaluationFacts) -> bool:
    if rule.when_diagnosis and facts.diagnosis not in rule.when_diagnosis:
        return False
    value: Any = getattr(facts, rule.field)
    if rule.test == "true":
        return value is True
    if rule.test == "below":
        assert rule.threshold is not None
        return value is None or float(value) < rule.threshold
    if rule.test == "fewer_than":
        assert rule.threshold is not None
        return len(set(value)) < rule.threshold
    return str(value) in rule.values


def assess(facts: EvaluationFacts, rules: RuleSet | None = None) -> Assessment:
    """Assess a candidate for implanted VNS (see the module documentation).

    Parameters
    ----------
    facts
        The evaluation and the candidate's age.
    rules
        The rules to apply; ``None`` takes :func:`default_rules`.

    Returns
    -------
    Assessment
        Outcome, every reason (in the order of the rules) and the rules' version.
    """
    rules = rules or default_rules()
    reasons = [
        Reason(code=r.code, kind=r.kind, message=r.message, source=r.source)
        for r in rules.rules
        if _applies(r, facts)
    ]
    outcome = max(
        (_OUTCOME_OF[r.kind] for r in reasons), key=lambda o: o.rank, default=Outcome.ELIGIBLE
    )
    return Assessment(outcome=outcome, reasons=tuple(reasons), rules_version=rules.version)


def load_rules(text: str) -> RuleSet:
    """Parse a rule set from YAML text."""
    raw = yamlio.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError("the evaluation rules must be a YAML mapping")
    return RuleSet.model_validate(raw)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The rules shipped with the clinic (``openvns/clinic/evaluation/data/rules.yaml``)."""
    package = resources.files("openvns.clinic.evaluation")
    return load_rules(package.joinpath("data/rules.yaml").read_text("utf-8"))


__all__ = [
    "FLAGS",
    "Assessment",
    "Citation",
    "EvaluationFacts",
    "Outcome",
    "Reason",
    "Rule",
    "RuleSet",
    "assess",
    "citation",
    "default_rules",
    "load_rules",
]
