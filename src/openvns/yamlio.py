"""Reading YAML: :func:`safe_load`, the safe loader in C (libyaml) when PyYAML has it.

Every parameter set, catalogue and registry of OpenVNS is YAML read at start-up; PyYAML's
pure-Python parser takes about 0.1 s for the side-effect set alone, its C parser a tenth of that.
Both build the same data (the C loader keeps the Python safe constructor and resolver: the same
tags, the same types); where PyYAML was built without libyaml the Python loader is used.
"""

from __future__ import annotations

from typing import Any

import yaml

#: The loader :func:`safe_load` uses.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, through libyaml where available."""
    return yaml.load(text, Loader=SAFE_LOADER)
