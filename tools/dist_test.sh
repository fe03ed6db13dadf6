#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo 'usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]' >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
case "$GPUS" in
    '' | *[!0-9]* | 0*)
        echo "dist_test.sh: error: GPUS is the number of processes to start" \
            "on this node, an integer >= 1, not '$GPUS'." >&2
        exit 2 ;;
esac
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
. "$(dirname "$0")/_python.sh"

"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
