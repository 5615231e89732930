"""SDI: Service Decision Intelligence."""

import os as _os

# Nothing leaves the machine: libraries that could phone home or fetch models are told not to, before they load.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    # torch's idle worker threads must not spin while llama.cpp generates on the same cores
    "OMP_WAIT_POLICY": "PASSIVE",
}.items():
    _os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
