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
# OpenTelemetry exporters (FastAPI >= 0.16x instruments itself; Chroma too) would ship request traces to whatever
# OTLP endpoint the surrounding environment names: forced off, not defaulted.
_os.environ.update(OTEL_SDK_DISABLED="true", FASTAPI_OTEL_AUTO_CONFIGURE="false", OTEL_TRACES_EXPORTER="none",
                   OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
# LangSmith tracing would send every prompt (customer data) to a tracing server: forced off the same way.
_os.environ.update(LANGSMITH_TRACING="false", LANGSMITH_TRACING_V2="false", LANGCHAIN_TRACING="false",
                   LANGCHAIN_TRACING_V2="false")

__version__ = "0.1.0"
