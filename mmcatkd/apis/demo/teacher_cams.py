"""The demo's teacher-CAM cache (``tools/demo.py --teacher-cams``): built
once per teacher, and what it saved the CAT stages in CPU time."""
import json
import os.path as osp
import shutil
import time
from typing import List

from mmengine.config import Config

from ...cam_cache import CacheBuilder
from ...utils.atomic_file import atomic_json_dump


def prepare_teacher_cams(cfg: Config, work_dir: str) -> dict:
    """Build (or reuse) the teacher-CAM cache of a CAT stage's config.

    The cache holds the pooled teacher CAMs of all 81 crops of each of the
    students' training digits; one of another teacher is replaced.

    Returns:
        dict: ``folder``, ``views``, ``build_seconds`` (of the build that
        made it) and ``reused``.
    """
    folder = osp.join(work_dir, 'teacher_cams')
    record_path = osp.join(work_dir, 'teacher_cams.json')
    builder = CacheBuilder(cfg, folder, 'float16')
    try:
        builder.check_existing()
    except ValueError:  # a cache of an earlier teacher: the demo's to replace
        shutil.rmtree(folder)
    views = builder.shape[0] * builder.shape[1]
    print(
        f'\n=== Teacher-CAM cache: {builder.shape[0]} training digits x '
        f'{builder.shape[1]} crops = {views} teacher forwards, '
        f'{builder.nbytes / 2**20:.1f} MiB, in {folder} ===',
        flush=True)
    tic, cpu_tic = time.perf_counter(), time.process_time()
    summary = builder.build(log=lambda line: print(line, flush=True))
    if summary['chunks'] == 0 and osp.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
        print(f'Reusing it (built in {record["build_seconds"]:.0f} s).')
        return dict(record, reused=True)
    record = dict(
        folder=folder,
        views=views,
        build_seconds=round(time.perf_counter() - tic, 1),
        build_cpu_seconds=round(time.process_time() - cpu_tic, 1))
    atomic_json_dump(record, record_path)
    return dict(record, reused=False)


def teacher_cams_saving(cache: dict, configs: List[Config]) -> dict:
    """Teacher forwards the cached CAT stages skipped and the CPU time they
    would have taken at the build's rate (its batched forwards; CPU time,
    which other programs' load changes little), net of the build when this
    run made it."""
    skipped = sum(cfg.train_cfg.max_iters * cfg.train_dataloader.batch_size
                  for cfg in configs)
    saved = skipped * cache['build_cpu_seconds'] / cache['views']
    spent = 0 if cache['reused'] else cache['build_cpu_seconds']
    return dict(
        skipped_teacher_forwards=skipped,
        saved_cpu_seconds=round(saved, 1),
        build_seconds=cache['build_seconds'],
        build_cpu_seconds=cache['build_cpu_seconds'],
        reused=cache['reused'],
        net_saved_cpu_seconds=round(saved - spent, 1),
        text=(f'Teacher CAMs from a cache of {cache["views"]} views '
              f'({"reused" if cache["reused"] else "built"}; the build took '
              f'{cache["build_seconds"]:.0f} s, CPU time '
              f'{cache["build_cpu_seconds"]:.0f} s). The {len(configs)} CAT '
              f'students skipped {skipped} teacher forwards, about '
              f'{saved:.0f} s of CPU time at the build\'s rate: net '
              f'{saved - spent:+.0f} s this run, {saved:+.0f} s on every run '
              'that reuses the cache (an estimate; docs/demo.md has measured '
              'runs).'))
