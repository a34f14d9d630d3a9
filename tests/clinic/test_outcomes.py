"""Outcomes: known-answer numbers equal to openvns.analysis.endpoints, baselines, roles, report."""

# ruff: noqa: F811 (the make_patient fixture is imported from diary_helpers)

from __future__ import annotations

import base64
import math
import time
from collections.abc import Sequence
from datetime import date, timedelta
from html.parser import HTMLParser
from xml.etree import ElementTree

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.analysis.endpoints import change_from_baseline, responders, window_mean_NRS
from openvns.analysis.statistics import mean_ci
from openvns.clinic.audit import service as audit
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role
from openvns.clinic.db.session import transaction
from openvns.clinic.diaries.models import (
    REPORTABLE_KINDS,
    BPIEntry,
    PainEntry,
    PGICEntry,
    SideEffectReport,
)
from openvns.clinic.diaries.service import earliest_entry_date
from openvns.clinic.outcomes import baseline
from tests.clinic.conftest import HeadersFactory
from tests.clinic.diary_helpers import PatientFactory, make_patient  # noqa: F401

START = date.today() - timedelta(days=60)
#: 28 baseline days at 8; week 1 at 6 (−25 %); week 2 around 5 (−37.5 %); week 3 at 4 (−50 %);
#: week 4: four days at 2, then nothing.
WEEK2 = [4, 5, 6, 5, 4, 6, 5]
DIARY: list[int] = [8] * 28 + [6] * 7 + WEEK2 + [4] * 7 + [2] * 4


def url(patient_id: int, suffix: str = "") -> str:
    return f"/api/v1/patients/{patient_id}/outcomes{suffix}"


def add_pain(
    db: Session, patient_id: int, values: Sequence[int | None], start: date = START
) -> None:
    with transaction(db):
        for i, v in enumerate(values):
            if v is not None:
                day = start + timedelta(days=i)
                db.add(PainEntry(patient_id=patient_id, entry_date=day, pain_nrs=v))


def test_known_answer_weekly_means_and_responders(
    client: TestClient, db: Session, make_patient: PatientFactory, as_role: HeadersFactory
) -> None:
    me = make_patient()
    add_pain(db, me.id, DIARY)
    out = client.get(url(me.id), headers=as_role(Role.NURSE)).json()
    base = out["baseline"]
    assert base["source"] == "first_28_days"
    assert (base["start_date"], base["end_date"]) == (str(START), str(START + timedelta(27)))
    assert (base["mean_NRS"], base["days_observed"]) == (8.0, 28)
    weeks = {w["week"]: w for w in out["weekly_pain"]}
    assert sorted(weeks) == [-3, -2, -1, 0, 1, 2, 3, 4]
    by_hand = {1: (6.0, -25.0, False, False), 2: (5.0, -37.5, True, False),
               3: (4.0, -50.0, True, True), 4: (2.0, -75.0, True, True)}  # fmt: skip
    for week, (mean, pct, r30, r50) in by_hand.items():
        w = weeks[week]
        assert w["mean_NRS"] == pytest.approx(mean)
        assert w["change_pct"] == pytest.approx(pct)
        assert w["change_NRS"] == pytest.approx(mean - 8.0)
        assert (w["responder_30"], w["responder_50"]) == (r30, r50)
    assert weeks[4]["days_observed"] == 4
    assert weeks[1]["lower_NRS"] == weeks[1]["upper_NRS"] == 6.0
    # week 2: mean 5, sd sqrt(4/6), t(0.975, 6) = 2.446912
    half = 2.446912 * math.sqrt(4 / 6) / math.sqrt(7)
    assert weeks[2]["lower_NRS"] == pytest.approx(5 - half, abs=1e-6)
    assert weeks[2]["upper_NRS"] == pytest.approx(5 + half, abs=1e-6)
    # the follow-up window: days 28…52 against the baseline; the diary ended 8 days ago (stale),
    # so the window's class is no status now
    r = out["responder"]
    assert r["endpoint_mean_NRS"] == pytest.approx((6 * 7 + 35 + 4 * 7 + 2 * 4) / 25)
    assert r["change_pct"] == pytest.approx(100 * (113 / 25 - 8) / 8)
    assert r["window_category"] == "moderate"
    assert (r["moderate"], r["substantial"], r["category"]) == (False, False, "diary_stale")
    assert (r["start_date"], r["end_date"]) == (
        str(START + timedelta(28)),
        str(START + timedelta(52)),
    )

    # the same numbers straight from openvns.analysis.endpoints
    nrs = np.array([[np.nan if v is None else v for v in DIARY]], dtype=float)
    for week, stop in ((1, 35), (2, 42), (3, 49), (4, 53)):
        window = slice(stop - 7 if week < 4 else 49, stop)
        change = change_from_baseline(nrs, None, slice(0, 28), window)
        assert weeks[week]["change_pct"] == pytest.approx(float(change.change_pct[0]))
        assert weeks[week]["mean_NRS"] == pytest.approx(
            float(window_mean_NRS(nrs, None, window)[0])
        )
        ci = mean_ci(nrs[0, window])
        assert weeks[week]["lower_NRS"] == pytest.approx(float(ci.lower))
        for threshold, key in ((30.0, "responder_30"), (50.0, "responder_50")):
            assert weeks[week][key] == bool(responders(change.change_pct, threshold).responder[0])
    endpoint = change_from_baseline(nrs, None, slice(0, 28), slice(28, 53))
    assert r["change_pct"] == pytest.approx(float(endpoint.change_pct[0]))


def test_sparse_week_has_no_mean_and_no_responder(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    add_pain(db, me.id, [8] * 28 + [1, None, None, None, None, None, 1])
    out = client.get(url(me.id), headers=me.headers).json()
    week1 = next(w for w in out["weekly_pain"] if w["week"] == 1)
    assert week1["days_observed"] == 2
    assert week1["mean_NRS"] is None
    assert week1["change_pct"] is None
    assert (week1["responder_30"], week1["responder_50"]) == (False, False)
    assert out["responder"]["window_category"] == "not_assessable"


def test_empty_diary(client: TestClient, make_patient: PatientFactory) -> None:
    me = make_patient()
    out = client.get(url(me.id), headers=me.headers).json()
    assert out["baseline"] is None
    assert out["weekly_pain"] == []
    assert out["responder"]["category"] == "not_assessable"
    report = client.get(url(me.id, "/report"), headers=me.headers)
    assert report.status_code == 200
    assert "no-baseline" in report.text


def test_clinician_baseline_window_audited(
    client: TestClient, db: Session, make_patient: PatientFactory, as_role: HeadersFactory
) -> None:
    me = make_patient()
    add_pain(db, me.id, [9] * 7 + [6] * 21 + [3] * 7)
    clinician = as_role(Role.CLINICIAN)
    window = {"start_date": str(START + timedelta(7)), "length_days": 21}
    for who in (as_role(Role.NURSE), me.headers):
        assert client.put(url(me.id, "/baseline"), json=window, headers=who).status_code == 403
    out = client.put(url(me.id, "/baseline"), json=window, headers=clinician)
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["baseline"]["source"] == "clinician"
    assert body["baseline"]["mean_NRS"] == 6.0
    week1 = next(w for w in body["weekly_pain"] if w["week"] == 1)
    assert week1["change_pct"] == pytest.approx(-50.0)
    assert body["responder"]["window_category"] == "substantial"
    entries = db.scalars(select(AuditEntry).where(AuditEntry.entity == "outcome_baseline")).all()
    assert [e.action for e in entries] == ["create"]
    assert body["baseline"]["end_date"] == str(START + timedelta(27))
    too_long = {"start_date": window["start_date"], "length_days": 367}
    r = client.put(url(me.id, "/baseline"), json=too_long, headers=clinician)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "length_days"]
    for start in ("0001-01-01", "9999-12-31"):
        far = {"start_date": start, "length_days": 366}
        r = client.put(url(me.id, "/baseline"), json=far, headers=clinician)
        assert r.status_code == 200, r.text
        assert r.json()["baseline"]["mean_NRS"] is None
        assert r.json()["responder"]["window_category"] == "not_assessable"
        assert client.get(url(me.id, "/report"), headers=clinician).status_code == 200
    entries = db.scalars(select(AuditEntry).where(AuditEntry.entity == "outcome_baseline")).all()
    assert [e.action for e in entries] == ["create", "update", "update"]
    assert client.delete(url(me.id, "/baseline"), headers=clinician).status_code == 204
    assert client.delete(url(me.id, "/baseline"), headers=clinician).status_code == 404
    again = client.get(url(me.id), headers=clinician).json()
    assert again["baseline"]["source"] == "first_28_days"


def test_baseline_before_first_programming_from_the_audit_log(
    client: TestClient, db: Session, make_patient: PatientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baseline, "implants_provider", lambda: None)
    me = make_patient()
    today = date.today()
    add_pain(db, me.id, [7] * 10, start=today - timedelta(days=10))
    with transaction(db):
        audit.record(db, None, "program", "programming", 1, None, {"patient_id": me.id})
        audit.record(db, None, "program", "programming", 2, None, {"patient_id": me.id + 1})
    out = client.get(url(me.id), headers=me.headers).json()
    assert out["baseline"]["source"] == "programming"
    assert out["baseline"]["end_date"] == str(today - timedelta(days=1))
    assert out["baseline"]["mean_NRS"] == 7.0
    assert [e["entity_id"] for e in out["settings_history"]] == [1]


def test_questionnaires_and_side_effects_course(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    add_pain(db, me.id, [8] * 35)
    items = {"general_activity": 6, "mood": 6, "walking": 6, "work": 6, "relations": 6,
             "sleep": 6, "enjoyment": 6}  # fmt: skip
    later = {k: 4 for k in items}
    with transaction(db):
        for day, values in ((START + timedelta(27), items), (START + timedelta(34), later)):
            db.add(BPIEntry(patient_id=me.id, entry_date=day, worst=9, least=3, average=6,
                            now=5, **values))  # fmt: skip
        db.add(PGICEntry(patient_id=me.id, entry_date=START + timedelta(34), score=2))
        for offset, severity in ((28, "mild"), (30, "severe")):
            db.add(SideEffectReport(patient_id=me.id, entry_date=START + timedelta(offset),
                                    kind="voice", severity=severity))  # fmt: skip
    out = client.get(url(me.id), headers=me.headers).json()
    assert out["pgic"] == [
        {"entry_date": str(START + timedelta(34)), "score": 2, "label": "much improved"}
    ]
    assert [(b["interference"], b["change_interference"], b["meaningful_improvement"])
            for b in out["bpi"]] == [(6.0, 0.0, False), (4.0, -2.0, True)]  # fmt: skip
    kinds = [c["kind"] for c in out["side_effects"]]
    assert kinds == [k.value for k in REPORTABLE_KINDS]  # no legacy throat_cough course
    voice = next(c for c in out["side_effects"] if c["kind"] == "voice")
    week1 = next(w for w in voice["weeks"] if w["week"] == 1)
    assert (week1["present"], week1["days"], week1["worst_severity"]) == (True, 2, "severe")
    assert not any(w["present"] for w in voice["weeks"] if w["week"] != 1)
    timeline = client.get(url(me.id, "/timeline"), headers=me.headers).json()
    assert len(timeline["days"]) == 35
    day28 = timeline["days"][28]
    assert (day28["week"], day28["pain_nrs"], day28["side_effects"]) == (1, 8, ["voice"])
    assert timeline["days"][34]["pgic"] == 2


def test_role_rules(
    client: TestClient, db: Session, make_patient: PatientFactory, as_role: HeadersFactory
) -> None:
    me, other = make_patient(), make_patient()
    add_pain(db, other.id, [5] * 30)
    for suffix in ("", "/timeline", "/report"):
        assert client.get(url(other.id, suffix), headers=me.headers).status_code == 404
        assert client.get(url(other.id, suffix), headers=as_role(Role.NURSE)).status_code == 200
        assert client.get(url(other.id, suffix), headers=as_role(Role.ADMIN)).status_code == 403
        assert client.get(url(other.id, suffix)).status_code == 401


def test_settings_history_from_the_audit_log(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    add_pain(db, me.id, [5] * 30)
    with transaction(db):
        audit.record(db, None, "create", "implant", 41, None, {"patient_id": me.id})
        audit.record(db, None, "create", "implant", 42, None, {"patient_id": me.id + 99})
    timeline = client.get(url(me.id, "/timeline"), headers=me.headers).json()
    events = timeline["settings_history"]
    assert [(e["entity"], e["entity_id"], e["action"]) for e in events] == [
        ("implant", 41, "create")
    ]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_report_page(
    client: TestClient, db: Session, make_patient: PatientFactory, as_role: HeadersFactory
) -> None:
    me = make_patient()
    add_pain(db, me.id, DIARY)
    with transaction(db):
        audit.record(db, None, "create", "implant", 7, None, {"patient_id": me.id})
    r = client.get(url(me.id, "/report"), headers=as_role(Role.CLINICIAN))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = _Page()
    page.feed(r.text)
    tags = [t for t, _ in page.tags]
    assert tags.count("figure") == 3
    images = [a["src"] or "" for t, a in page.tags if t == "img"]
    assert len(images) == 3
    assert all(src.startswith("data:image/svg+xml;base64,") for src in images)
    for src in images:  # each figure a well-formed SVG document, without script or reference
        svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
        root = ElementTree.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        svg_tags = {e.tag.rsplit("}", 1)[-1] for e in root.iter()}
        assert not svg_tags & {"script", "image", "a", "foreignObject", "use"}
        assert "href" not in svg
        assert "style=" not in svg
    assert "script" not in tags
    assert "link" not in tags
    for _, attrs in page.tags:
        for value in attrs.values():
            assert not (value or "").startswith(("http:", "https:", "//"))
    assert "http://" not in r.text
    assert "https://" not in r.text
    assert "@media print" in r.text
    text = "".join(page.text)
    assert me.patient.mrn in text
    assert "moderate" in text
    responder = next(a for t, a in page.tags if a.get("id") == "responder")
    assert responder["data-category"] == "diary_stale"  # the diary ended 8 days ago
    assert responder["data-window-category"] == "moderate"
    assert next(a for t, a in page.tags if a.get("id") == "settings-history")


def test_ten_years_of_diary_stay_fast(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    first = earliest_entry_date()
    with transaction(db):
        for day in (first, date.today()):
            db.add(PainEntry(patient_id=me.id, entry_date=day, pain_nrs=5))
    started = time.perf_counter()
    out = client.get(url(me.id), headers=me.headers)
    assert out.status_code == 200
    assert len(out.json()["weekly_pain"]) > 500
    assert time.perf_counter() - started < 5.0
