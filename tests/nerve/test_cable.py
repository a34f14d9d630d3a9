"""The double-cable solver: passive cable against its closed form, rest state and voltage
traces against NEURON (PyFibers dumps and traces)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openvns.nerve.fibres import build_fiber
from openvns.nerve.fibres.model import Fiber
from openvns.nerve.kernels import cpu
from openvns.nerve.kernels.backend import CableProblem, get_backend
from openvns.nerve.kernels.channels import sundt_params

from ._reference import load_json, point_source_ve, stems

TRACES = stems("traces")


def _passive_cable(n: int, dz_um: float, diam_um: float, Ra: float, g: float) -> Fiber:
    return Fiber(
        model="test", diameter_um=diam_um, temperature_C=37.0, myelinated=False, v_rest_mV=-60.0,
        delta_z_um=dz_um, node_indices=np.arange(n), kind=np.zeros(n, dtype=np.int64),
        L_um=np.full(n, dz_um), diam_um=np.full(n, diam_um), Ra_ohm_cm=np.full(n, Ra),
        cm_uF_cm2=np.ones(n), g_leak_S_cm2=np.full(n, g), e_leak_mV=np.full(n, -60.0),
        xraxial_Mohm_cm=np.full(n, 1e9), xg_S_cm2=np.full(n, 1e10), xc_uF_cm2=np.zeros(n),
        channels="sundt", gbar_S_cm2=np.zeros((n, 3)), channel_params=sundt_params(37.0),
    )  # fmt: skip


def test_passive_cable_in_a_uniform_field_matches_the_closed_form() -> None:
    # sealed cable in a linear potential ve = E (z - L/2): u'' = u / lambda^2, u'(0, L) = -E,
    # so u = -E lambda sinh((z - L/2) / lambda) / cosh(L / (2 lambda)).
    n, dz, d, Ra, g = 1001, 5.0, 1.0, 100.0, 1e-4
    fiber = _passive_cable(n, dz, d, Ra, g)
    lam_um = math.sqrt(d * 1e-4 / (4 * Ra * g)) * 1e4
    length = n * dz
    E = 0.05  # mV/µm
    ve = E * (fiber.z_um - length / 2)
    pr = CableProblem.from_fiber(fiber)
    rest = get_backend().rest_state(pr)
    np.testing.assert_allclose(rest.vm, -60.0, atol=1e-9)
    wave = np.ones(200)  # 200 steps of 1 s: the implicit step converges to the steady state
    every = wave.size
    vm, vx, _ = cpu.run_traces(*pr.coefficients(), rest.vm, rest.vx, rest.gates, ve, 1.0, wave,
                               1000.0, np.empty((0, 8)), 0.0, 1.0, np.arange(n), every)  # fmt: skip
    u = vm[-1] + 60.0
    exact = (
        -E * lam_um * np.sinh((fiber.z_um - length / 2) / lam_um) / np.cosh(length / (2 * lam_um))
    )
    assert np.max(np.abs(u - exact)) < 2e-3 * np.max(np.abs(exact))
    np.testing.assert_allclose(vx[-1], ve, atol=1e-6)  # xg = 1e10: the outside is the field


@pytest.mark.parametrize("name", ["MRG_INTERPOLATION_10.0", "MRG_INTERPOLATION_2.0", "SUNDT_1.0"])
def test_rest_state_matches_neuron(name: str) -> None:
    dump = load_json("models", f"{name}.json")
    info = dump["fiber"]
    model = "C" if info["model"] == "SUNDT" else info["model"]
    size = info["size_kwargs"]
    fiber = build_fiber(model, info["diameter_um"], n_nodes=size.get("n_nodes"),
                        length_um=size.get("length"))  # fmt: skip
    rest = get_backend().rest_state(CableProblem.from_fiber(fiber))
    state = dump["state_t0"]
    np.testing.assert_allclose(rest.vm, [s["v"] for s in state], rtol=0, atol=1e-9)
    np.testing.assert_allclose(rest.vx, [s["vext"][0] for s in state], rtol=0, atol=1e-9)
    keys = ("mp", "m", "h", "s") if model != "C" else ("m", "h", "n", "l")
    gates = [[s[mech][k] for mech in s if mech not in ("v", "vext") for k in keys if k in s[mech]]
             for s in state if len(s) > 2]  # fmt: skip
    np.testing.assert_allclose(rest.gates, gates, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", TRACES)
def test_voltage_traces_match_neuron(name: str) -> None:
    ref = load_json("traces", f"{name}.json")
    case = ref["case"]
    model = "C" if case["model"] == "SUNDT" else case["model"]
    fiber = build_fiber(model, case["diameter_um"], n_nodes=case.get("n_nodes"),
                        length_um=case.get("length_um"))  # fmt: skip
    pr = CableProblem.from_fiber(fiber)
    rest = get_backend().rest_state(pr)
    dt = case["dt_ms"]
    wave = np.zeros(round(case["tstop_ms"] / dt))
    wave[: round(case["pw_ms"] / dt)] = -1.0
    nodes = np.asarray(ref["node_section_indices"])[ref["v_nodes"]["node_indices"]]
    near = np.asarray(ref["near_center"]["section_indices"])
    record = np.concatenate([nodes, near]).astype(np.int64)
    every = round(ref["t_ms"][1] / dt)
    vm, vx, _ = cpu.run_traces(*pr.coefficients(), rest.vm, rest.vx, rest.gates,
                               np.asarray(ref["ve_per_mA_mV"]), ref["amp_mA"], wave, dt,
                               *pr.gate_table(dt), record, every)  # fmt: skip
    want_nodes = np.asarray(ref["v_nodes"]["v"]).T
    want_near = np.asarray(ref["near_center"]["v"]).T
    t = min(want_nodes.shape[0], vm.shape[0])
    # the reference keeps 6 significant digits (5e-5 mV at -80 mV): agree to 2e-4 mV
    assert np.max(np.abs(vm[:t, : nodes.size] - want_nodes[:t])) < 2e-4
    assert np.max(np.abs(vm[:t, nodes.size :] - want_near[:t])) < 2e-4
    if "vext0" in ref["near_center"]:
        vx_ref = np.asarray(ref["near_center"]["vext0"]).T[:t]
        assert (
            np.max(np.abs(vx[:t, nodes.size :] - vx_ref) / np.maximum(1.0, np.abs(vx_ref))) < 1e-5
        )


@pytest.mark.parametrize(
    ("model", "diameter", "size"), [("MRG", 5.7, {"n_nodes": 21}), ("C", 1.0, {"length_um": 2000})]
)
def test_lane_kernel_matches_the_scalar_kernel(model: str, diameter: float, size: dict) -> None:
    # members interleaved in SIMD lanes (with lane refill) give the scalar kernel's outcomes
    from openvns.nerve.kernels import lanes

    fiber = build_fiber(model, diameter, **size)
    pr = CableProblem.from_fiber(fiber)
    rest = get_backend().rest_state(pr)
    ve = np.stack([point_source_ve(fiber, 0.5, 0.3), point_source_ve(fiber, 1.0, 0.3, 0.25)])
    dt = 0.001
    wave = np.zeros(3000)
    wave[:200] = -1.0
    m = 2 * lanes.LANES + 3
    amps = np.geomspace(0.05, 20.0, m)
    row_of = np.arange(m, dtype=np.int64) % 2
    det = int(fiber.node_indices[fiber.node_index_at(0.9)])
    quiet = (400, 50, fiber.v_rest_mV - 10, fiber.v_rest_mV + 3)
    common = (*pr.coefficients(), rest.vm, rest.vx, rest.gates, ve, row_of, amps, wave, dt,
              *pr.gate_table(dt), det, -30.0, *quiet)  # fmt: skip
    outs = []
    for kernel in ("scalar", "lanes"):
        out = (np.zeros(m, dtype=np.bool_), np.full(m, -1, dtype=np.int64), np.zeros(m, np.int64))
        if kernel == "scalar":
            cpu.run_batch(*common, *out)
        else:
            lanes.run_lanes(*common, np.arange(m, dtype=np.int64)[::-1].copy(), 2, *out)
        outs.append(out)
    assert outs[0][0].any()
    assert not outs[0][0].all()
    for a, b in zip(outs[0], outs[1], strict=True):
        np.testing.assert_array_equal(a, b)
