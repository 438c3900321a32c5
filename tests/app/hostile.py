"""A network whose names carry script payloads (shared by tests/app and tests/e2e).

Every payload, if it ever ran, would set `window.__pwned` or add an element with
id "pwned"; the tests assert neither happens and that the names show literally.
"""
from __future__ import annotations

from typing import Any

LAYER_PAYLOADS = [
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=2</script>",
    "\"><svg onload=window.__pwned=3>",
    "javascript:window.__pwned=4",
    "'><b id=pwned onmouseover=__pwned=5>b",
    "</textarea><i id=pwned>@name {{7*7}}",
    "<iframe srcdoc='<b id=pwned>'>",
]
NETWORK_NAME = "<img src=x onerror=\"window.__pwned='net'\"><script>window.__pwned=9</script>"
MARKERS = ("<img", "<script", "<svg", "<b ", "<i ", "<iframe", "onerror=", "onload=")


def hostile_json() -> dict[str, Any]:
    """The seed network's shape with every named layer renamed to a payload."""
    p = LAYER_PAYLOADS
    return {"name": NETWORK_NAME, "input": {"channels": 3, "height": 16, "width": 16},
            "layers": [
                {"type": "conv2d", "name": p[0], "out_channels": 8, "kernel_size": 3, "padding": 1},
                {"type": "batchnorm2d", "name": p[1]},
                {"type": "relu", "name": p[2]},
                {"type": "maxpool2d", "name": p[3], "kernel_size": 2, "stride": 2},
                {"type": "conv2d", "name": p[4], "out_channels": 8, "kernel_size": 3},
                {"type": "flatten", "name": p[5]},
                {"type": "linear", "name": p[6], "out_features": 10},
            ]}
