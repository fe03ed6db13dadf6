"""Everything a GPU changes about CAT-KD, checked on one GPU, with a table.

    python tools/cuda_check.py --out cuda_check.json     # make cuda-check
    python tools/cuda_check.py --device cpu              # a dry run here

Checks, in this order, each timed, each failing on its own (the table says
which and why), the whole run kept under ``--budget`` seconds (default 450,
under 8 minutes with start-up; a check that would start past the budget is
reported as skipped):

  fp16, bf16       a CAT-KD loss + backward under autocast equals fp32
  channels_last    CATDistill(channels_last=True) equals the default layout
  nccl             tools/dist_train.sh, 1 GPU, NCCL, two iterations of the
                   digits demo's CAT-KD config (gloo on the CPU)
  r34-r18 fp32     tools/benchmark.py --pair r34-r18 --batch-size 64:
  r34-r18 amp      student, logit KD, CAT-KD, cached CAT-KD step times,
                   and each step's ratio to its FLOP floor (counted FLOPs /
                   the measured matmul peak, TF32 for fp32, fp16 for AMP)
  compile          torch.compile (inductor) of the CAT-KD forward equals
                   eager

Agreement checks run resnet32x4 -> shufflenetv1 at batch 64 (with --device
cpu the 2-stage ResNets of configs/_base_/dry_run/ at batch 4) with
TF32 off; their tolerances are mmcatkd.benchmark.agreement.TOLERANCES.
"""
from mmcatkd.cli.cuda_check import main

if __name__ == '__main__':
    main()
