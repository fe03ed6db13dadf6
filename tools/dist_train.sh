#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py options]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each node.
# Without CUDA the processes use the gloo backend (MMEngine's default on CPU).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo 'usage: tools/dist_train.sh CONFIG GPUS [train.py options]' >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
case "$GPUS" in
    '' | *[!0-9]* | 0*)
        echo "dist_train.sh: error: GPUS is the number of processes to start" \
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
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
