#!/usr/bin/env bash
# One prepared run for the device tool (one H200, 16 cores; about 7 minutes):
#   1. benchmarks/gpu_bench.py: GPU against CPU per replica-epoch, matmul precision variants;
#   2. benchmarks/cpu_shards.py on the machine's 16 cores (issue 13, item 1).
# Results land in $OUT (gpu_bench.json, cpu_shards16.json, the logs).
#
# The device image has CUDA JAX, optax, pandas, SciPy, matplotlib but not pydantic (the study
# schema the engine reads its parameters from). Before the call, here, in the repo root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
# then run:  run(command="bash benchmarks/device_check.sh", carry=[".whl"], timeout_s=560)
# Locally (CPU only, a quick check of the script):
#   QUICK=1 NO_WHEELS=1 PYTHON=.venv/bin/python OUT=/tmp/out bash benchmarks/device_check.sh
set -o pipefail
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
if [ -z "$NO_WHEELS" ] && [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src
fi
mkdir -p "$OUT"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null; nproc; $PY -c "import jax; print(jax.__version__, jax.devices())"; } | tee "$OUT/machine.txt"
if [ -n "$QUICK" ]; then
  timeout 300 $PY benchmarks/gpu_bench.py --quick --trials 1 --out "$OUT/gpu_bench.json" 2>&1 | tee "$OUT/gpu_bench.log"
  timeout 200 $PY benchmarks/cpu_shards.py --epochs 20 --sizes 16,600 --trials 1 --out "$OUT/cpu_shards.json" 2>&1 | tail -5
else
  timeout 330 $PY benchmarks/gpu_bench.py --out "$OUT/gpu_bench.json" 2>&1 | tee "$OUT/gpu_bench.log"
  LSTMTUNE_DEVICE=cpu timeout 170 $PY benchmarks/cpu_shards.py --epochs 300 --sizes 64,300,600,3000 --out "$OUT/cpu_shards16.json" 2>&1 | tail -30 | tee "$OUT/cpu_shards.log"
fi
