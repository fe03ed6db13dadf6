"""What a CAT-KD training step costs next to the student alone, the
teacher's forward and MMRazor's logit KD, on the current device.

    python tools/benchmark.py --pair r32x4-shv1 --out r32x4_shv1.json
    python tools/benchmark.py --pair r34-r18 --batch-size 16 --iters 30
    python tools/benchmark.py --teacher-config T.py --student-config S.py \\
        --input-size 32
    python tools/benchmark.py --data      # decode + augmentation per worker

Variants (see mmcatkd/benchmark/variants.py), all on one fixed batch held in
memory, through ``model.train_step(data, optim_wrapper)``:

    (a) student     the student alone (ImageClassifier, CE)
    (b) teacher     the teacher's forward alone: eval, no_grad, on the
                    batch preprocessed beforehand
    (c) logit_kd    MMRazor's SingleTeacherDistill + ConfigurableDistiller,
                    KLDivergence on the recorded ``head.fc`` outputs
    (d) catkd       CATDistill + CAMDistiller
    (e) catkd_bin   the same with binarised teacher CAMs
    (f) catkd_cached  CachedCATDistill: the teacher CAMs looked up in a
                    teacher-CAM cache (random values, CIFAR's 162 views per
                    image) instead of computed
    cam_loss(_bin)  CAT-KD's own work alone: both CAM recorders on recorded
                    backbone outputs, compute_distill_losses, its backward

Timing interleaves the variants, one step each per round, and reports
medians; ratios are of medians and, in the JSON, also medians of per-round
ratios ("paired"). On the CPU the ratios use CPU time by default (the steadier
clock on a shared machine, see --clock); on CUDA the wall clock, with device
synchronisation. Work per step (FLOPs, aten ops, bytes written) is counted
exactly, independent of load.
"""
from mmcatkd.cli.benchmark import main

if __name__ == '__main__':
    main()
