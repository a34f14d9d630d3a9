"""OpenVNS: vagus nerve stimulation therapy for intractable pain, in software.

The package is organised in layers that pass plain typed values downstream::

    device -> nerve -> physiology -> patients -> trials -> reports
                ^                                   |
                +------------- clinic <-------------+

Only the device layer exists so far; see ``openvns.device``.
"""

from importlib.metadata import PackageNotFoundError, version

from openvns.errors import OpenVNSError, ValidationError

try:
    __version__ = version("openvns")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["OpenVNSError", "ValidationError", "__version__"]
