"""Trial configuration: TOML schema, round trip, and errors that name the key."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.errors import ValidationError
from openvns.trials import config as config_module
from openvns.trials.config import TrialConfig, dumps_toml, load_config


def _doc_example() -> dict[str, Any]:
    doc = config_module.__doc__ or ""
    block = doc.split(".. code-block:: toml", 1)[1]
    return tomllib.loads(textwrap.dedent(block))


def test_default_round_trips_through_toml(tmp_path: Path) -> None:
    cfg = TrialConfig()
    path = tmp_path / "trial.toml"
    path.write_text(dumps_toml(cfg.to_dict(), "header line"), "utf-8")
    again = load_config(path)
    assert again.to_dict() == cfg.to_dict()
    assert again.design == cfg.design
    assert path.read_text("utf-8").startswith("# header line\n")


def test_documented_example_is_valid_and_is_the_default() -> None:
    cfg = TrialConfig.from_dict(_doc_example())
    assert cfg.design == TrialConfig().design
    assert cfg.run == TrialConfig().run


def test_partial_config_keeps_defaults_and_applies_overrides() -> None:
    cfg = TrialConfig.from_dict(
        {
            "run": {"n_per_arm": 12, "condition": "crps"},
            "trial": {"blinded_days": 56, "open_label_days": 0},
            "physiology": {"f_opt_Hz": 10.0},
            "condition": {"p_responder": 0.2},
        }
    )
    assert cfg.run.n_per_arm == 12
    assert cfg.run.root_seed == TrialConfig().run.root_seed
    assert cfg.design.blinded_days == 56
    assert cfg.design.baseline_days == 28
    assert cfg.parameters().f_opt_Hz == 10.0
    assert cfg.condition().p_responder == 0.2
    assert cfg.condition().name == "crps"


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"runs": {}}, "config.runs"),
        ({"run": {"patients": 3}}, "run.patients"),
        ({"run": {"executor": "threads"}}, "run.executor"),
        ({"run": {"workers": 0}}, "run.workers"),
        ({"run": {"n_per_arm": True}}, "run.n_per_arm"),
        ({"run": {"root_seed": -1}}, "run.root_seed"),
        ({"run": {"condition": "migraine"}}, "run.condition"),
        ({"run": {"scheduler": "tcp://h:8786"}}, "run.scheduler"),
        ({"run": {"executor": "dask", "scheduler": "h:8786"}}, "run.scheduler"),
        ({"output": {"formats": ["xlsx"]}}, "output.formats[0]"),
        ({"output": {"formats": "csv"}}, "output.formats"),
        ({"output": {"report": "yes"}}, "output.report"),
        ({"recruitment": {"lead": "2mm"}}, "recruitment"),
        ({"trial": {"lead": "no-such-lead"}}, "trial.lead"),
        ({"trial": {"generator": "ib-stim"}}, "trial.generator"),  # no recruitment model
        ({"trial": {"blinded_days": -3}}, "trial.blinded_days"),
        (
            {"trial": {"arms": [{"name": "a", "kind": "placebo", "protocol": "0.0 mA"}]}},
            "trial.arms[0].kind",
        ),
        ({"physiology": {"no_such": 1.0}}, "physiology.no_such"),
        ({"physiology": {"f_opt_Hz": -1.0}}, "physiology.f_opt_Hz"),
        ({"physiology": {"f_opt_Hz": "fast"}}, "physiology.f_opt_Hz"),
        ({"condition": {"p_responder": 2.0}}, "condition.p_responder"),
        ({"condition": {"name": 1}}, "condition.name"),
        ({"run": []}, "run"),
    ],
)
def test_errors_name_the_key(doc: dict[str, Any], key: str) -> None:
    with pytest.raises(ValidationError) as info:
        TrialConfig.from_dict(doc)
    assert info.value.field == key, str(info.value)
    assert str(info.value)  # names the value and what is allowed


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="readable TOML"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nn_per_arm = 3\n", "utf-8")
    with pytest.raises(ValidationError, match="valid TOML"):
        load_config(bad)


def test_cli_style_overrides() -> None:
    cfg = TrialConfig().with_run(n_per_arm=5, executor=None).with_output(formats=("csv",))
    assert cfg.run.n_per_arm == 5
    assert cfg.run.executor == "serial"
    assert cfg.output.formats == ("csv",)
    with pytest.raises(ValidationError, match=r"run\.workers"):
        TrialConfig().with_run(workers=0)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 10_000),
    seed=st.integers(0, 2**32),
    condition=st.sampled_from(["fibromyalgia", "neuropathic_pain", "crps"]),
    formats=st.sampled_from([(), ("csv",), ("parquet",), ("csv", "parquet")]),
    report=st.booleans(),
    directory=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1
    ).filter(lambda s: s.strip() != ""),
)
def test_any_valid_config_round_trips(
    n: int, seed: int, condition: str, formats: tuple[str, ...], report: bool, directory: str
) -> None:
    cfg = TrialConfig().with_run(n_per_arm=n, root_seed=seed, condition=condition)
    cfg = cfg.with_output(formats=formats, report=report, directory=directory)
    text = dumps_toml(cfg.to_dict())
    again = TrialConfig.from_dict(tomllib.loads(text))
    assert again.to_dict() == cfg.to_dict()


# -- sizes the results can hold (issue 13: n_per_arm = 10^9 was a MemoryError) ---------------
def test_patient_days_limit_names_the_field_and_the_largest_n() -> None:
    from openvns.trials.config import MAX_PATIENT_DAYS

    cfg = TrialConfig()
    days = 28 + 84 + 281
    largest = MAX_PATIENT_DAYS // (2 * days)
    assert cfg.with_run(n_per_arm=largest).run.n_per_arm == largest  # the limit itself is fine
    with pytest.raises(ValidationError) as info:
        cfg.with_run(n_per_arm=largest + 1)
    assert info.value.field == "run.n_per_arm"
    assert f"at most {largest:,}" in info.value.allowed
    with pytest.raises(ValidationError, match=r"run\.n_per_arm = 1000000000 .*patient-days"):
        TrialConfig.from_dict({"run": {"n_per_arm": 10**9}})


def test_patient_days_limit_counts_the_design_days_and_ratio() -> None:
    from openvns.trials.config import MAX_PATIENT_DAYS

    trial = {"baseline_days": 14, "blinded_days": 28, "open_label_days": 0}
    per_unit = 2 * (14 + 28)
    n = MAX_PATIENT_DAYS // per_unit
    assert TrialConfig.from_dict({"run": {"n_per_arm": n}, "trial": trial}).run.n_per_arm == n
    with pytest.raises(ValidationError, match=r"run\.n_per_arm"):
        TrialConfig.from_dict({"run": {"n_per_arm": n + 1}, "trial": trial})


def test_config_in_utf16_is_refused_and_a_utf8_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    text = "[run]\nn_per_arm = 5\n"
    for raw in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):
        path.write_bytes(raw)
        with pytest.raises(ValidationError, match=r"UTF-16: save it as UTF-8") as info:
            load_config(path)
        assert info.value.field == "config"
    path.write_bytes(b"[run]\nn_per_arm = 5\n# caf\xe9\n")  # Latin-1
    with pytest.raises(ValidationError, match="in UTF-8"):
        load_config(path)
    path.write_text("[run]\nn_per_arm = 5\n", "utf-8-sig")
    assert load_config(path).run.n_per_arm == 5
