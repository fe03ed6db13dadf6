"""Compute the teacher CAMs of every view of every training image, once.

    python tools/cache_teacher_cams.py CONFIG --out work_dirs/cams/r32x4
    torchrun --nproc_per_node 8 tools/cache_teacher_cams.py CONFIG \\
        --out DIR --launcher pytorch             # 8 GPUs share the chunks
    srun -n 4 python tools/cache_teacher_cams.py CONFIG --out DIR \\
        --launcher slurm

CONFIG is a CAT-KD config (``CATDistill`` or ``CachedCATDistill``) with the
trained teacher's ``teacher_ckpt``. Its train pipeline must have finitely
many views (RandomCrop with constant padding, horizontal RandomFlip: 81 x 2
for CIFAR); continuous random transforms, batch augments, binarised and
partial CAT are refused. The size is printed before anything is computed,
and a disk without room is refused. A killed run keeps its finished chunks:
run the same command again. A folder that holds other files (no cache
manifest) is refused. Train with the cache through
``CachedCATDistill(teacher_cams=DIR)`` (see docs/performance.md).
"""
from mmcatkd.cli.cache_teacher_cams import main

if __name__ == '__main__':
    main()
