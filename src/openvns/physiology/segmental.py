"""Segmental modulation of head pain by the skin's large afferents (non-invasive devices).

A skin electrode on the neck (gammaCore, over the C2–C3 dermatomes) or on the auricle (the
auricular branch of the vagus, the great auricular and the auriculotemporal nerves) excites
cutaneous Aβ afferents whose central terminals reach the trigeminocervical complex, the relay of
head pain (Bartsch & Goadsby 2003; Neuhuber & Berthoud 2021). Large-afferent activity inhibits
nociceptive transmission there (gate control, the mechanism of TENS; Melzack & Wall 1965). The
model gives a treated attack of a headache condition an extra relief fraction::

    R_seg = segmental_relief_max · r_Aβ · f / (f + segmental_f50_Hz)

with ``r_Aβ`` the recruited fraction of the cutaneous Aβ group under the electrode (0 for a cuff)
and ``f`` the pulse (or burst) rate. It acts on head pain only: the engine applies it to
acutely treated headache attacks, combined with the vagal
:func:`~openvns.physiology.modulation.dose_relief` as ``1 − (1 − r_vagal)(1 − R_seg)``. Daily
pain outside the head's segments (fibromyalgia, abdominal pain) is not affected, nor is the rate
of attacks. Within the attack it rises with the condition's ``relief_onset_min`` and then holds
through the two hours of ratings (an assumption, as for the dose's vagal relief, whose tonic
part persists for hours: TENS analgesia is reported to outlast the stimulation; no decay within
the attack is modelled). Parameters: ``data/vns_pain_model.yaml`` (section ``segmental``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openvns.physiology.parameters import PhysiologyParameters

FloatArray = NDArray[np.float64]

__all__ = ["combined_relief", "segmental_relief"]


def segmental_relief(
    cutaneous_Abeta: FloatArray, frequency_Hz: FloatArray, params: PhysiologyParameters
) -> FloatArray:
    """Fraction of a treated attack's head pain the skin's Aβ afferents relieve, ``[0, max)``.

    Parameters
    ----------
    cutaneous_Abeta
        Recruited fraction of the cutaneous Aβ group under the electrode, ``[0, 1]``.
    frequency_Hz
        Pulse or burst rate of the stimulation (Hz); 0 where nothing runs.
    params
        ``segmental_relief_max`` and ``segmental_f50_Hz``.
    """
    r = np.clip(np.asarray(cutaneous_Abeta, dtype=np.float64), 0.0, 1.0)
    f = np.maximum(np.asarray(frequency_Hz, dtype=np.float64), 0.0)
    rate = f / (f + params.segmental_f50_Hz)
    return np.asarray(params.segmental_relief_max * r * rate, dtype=np.float64)


def combined_relief(vagal: FloatArray, segmental: FloatArray) -> FloatArray:
    """``1 − (1 − vagal)(1 − segmental)``: two independent reliefs of the same pain."""
    v = np.asarray(vagal, dtype=np.float64)
    s = np.asarray(segmental, dtype=np.float64)
    return np.asarray(1.0 - (1.0 - v) * (1.0 - s), dtype=np.float64)
