"""What the benchmark reports: ratios of step times, the targets they
must meet, and the tables ``tools/benchmark.py`` prints."""
import math
import statistics
from typing import Dict, List

from .measure import paired_ratio, spread, work_difference
from .variants import LABELS, TRAINING, Variant

LIMIT = 1.03  # CAT-KD step vs. logit KD, and vs. teacher fwd + student step
CAM_LOSS_LIMIT = 0.02  # CAM + CAT loss as a share of the CAT-KD step
CACHED_VS_LOGIT_KD = 0.6  # cached CAT-KD step vs. logit KD
CACHED_VS_STUDENT = 1.05  # cached CAT-KD step vs. the student alone
#: ratio (of median step times) -> the most it may be
TARGETS = {
    'catkd/logit_kd': LIMIT,
    'catkd/(teacher+student)': LIMIT,
    'cam_loss/catkd': CAM_LOSS_LIMIT,
    'catkd_cached/logit_kd': CACHED_VS_LOGIT_KD,
    'catkd_cached/student': CACHED_VS_STUDENT,
}
TARGET_NAMES = {
    'catkd/logit_kd': 'CAT-KD step / logit-KD step',
    'catkd/(teacher+student)': 'CAT-KD step / (teacher fwd + student step)',
    'cam_loss/catkd': 'CAM + CAT loss / CAT-KD step',
    'catkd_cached/logit_kd': 'cached CAT-KD step / logit-KD step',
    'catkd_cached/student': 'cached CAT-KD step / student step',
}


def clock_summary(variants: Dict[str, Variant], clock: str) -> dict:
    """Ratios of one clock's median step times, and the targets met.

    ``variants`` are those of
    :func:`~mmcatkd.benchmark.variants.build_variants`, with their
    ``times``; without the cached variant (f), its ratios and targets are
    left out.
    """
    times = {name: variant.times[clock] for name, variant in variants.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    ratios = {}
    for name in (name for name in TRAINING if name in median):
        for base in ('student', 'logit_kd'):
            ratios[f'{name}/{base}'] = median[name] / median[base]
            ratios[f'{name}/{base} paired'] = paired_ratio(
                times[name], times[base])
    separate = [s + t for s, t in zip(times['student'], times['teacher'])]
    ratios['catkd/(teacher+student)'] = median['catkd'] / (
        median['student'] + median['teacher'])
    ratios['catkd/(teacher+student) paired'] = paired_ratio(
        times['catkd'], separate)
    ratios['cam_loss/catkd'] = median['cam_loss'] / median['catkd']
    ratios['cam_loss_bin/catkd_bin'] = (
        median['cam_loss_bin'] / median['catkd_bin'])

    return dict(
        ratios=ratios,
        targets={
            key:
            dict(
                value=ratios[key],
                paired=ratios.get(key + ' paired'),
                limit=limit,
                met=ratios[key] <= limit)
            for key, limit in TARGETS.items() if key in ratios
        })


def summarise(variants: Dict[str, Variant], batch_size: int,
              clocks: List[str]) -> dict:
    """Each variant's medians, spreads, throughput, memory and work, each
    clock's ratios and targets (:func:`clock_summary`) and the extra work
    of CAT-KD over its baselines."""
    rows = {}
    for name, variant in variants.items():
        row = dict(label=LABELS[name])
        for clock in clocks:
            times = variant.times[clock]
            row[f'{clock}_ms'] = 1e3 * statistics.median(times)
            row[f'{clock}_spread_iqr'] = spread(times)
            row[f'{clock}_times_ms'] = [1e3 * t for t in times]
        row['images_per_s'] = batch_size / statistics.median(
            variant.times['wall'])
        row['step_memory_mb'] = (None if variant.step_memory is None else
                                 variant.step_memory / 2**20)
        row['state_memory_mb'] = variant.state_bytes() / 2**20
        row['work'] = variant.work
        rows[name] = row
    result = dict(
        variants=rows,
        clocks={clock: clock_summary(variants, clock)
                for clock in clocks})
    if variants['catkd'].work is not None:
        work = {name: variant.work for name, variant in variants.items()}
        result['extra_work'] = {
            'catkd - student - teacher':
            work_difference(work['catkd'], work['student'], work['teacher']),
            'catkd - logit_kd':
            work_difference(work['catkd'], work['logit_kd']),
            'catkd_bin - catkd':
            work_difference(work['catkd_bin'], work['catkd']),
        }
        if 'catkd_cached' in work:
            result['extra_work']['catkd_cached - student'] = work_difference(
                work['catkd_cached'], work['student'])
    return result


def format_table(result: dict) -> str:
    """A pair's result (:func:`~mmcatkd.benchmark.runs.run_pair`) as the
    table the tool prints."""
    rows, clocks = result['variants'], list(result['clocks'])
    primary = result['clocks'][result['clock']]['ratios']
    header = f"{'variant':<24}"
    for clock in clocks:
        header += f"{clock + ' ms':>10}{'±IQR':>7}"
    header += (f"{'img/s':>8}{'×(a)':>7}{'×(c)':>7}{'step MB':>9}"
               f"{'state MB':>9}{'GFLOP':>9}")
    lines = [
        f"{result['pair']}: batch {result['batch_size']}, "
        f"{result['input_size']} px, {result['device']} "
        f"({result['device_name']}, {result['threads']} threads), "
        f"{result['iters']} rounds after {result['warmup']} warm-up" +
        (', AMP' if result['amp'] else '') +
        (', channels_last' if result['channels_last'] else '') +
        (', compiled' if result['compile'] else ''),
        f"×(a), ×(c): ratios of median {result['clock']} times; ±IQR: "
        'interquartile range / median', header, '-' * len(header)
    ]

    def number(value, fmt):
        return '-' if value is None else format(value, fmt)

    for name, row in rows.items():
        line = f"{row['label']:<24}"
        for clock in clocks:
            line += (f"{row[clock + '_ms']:>10.1f}"
                     f"{100 * row[clock + '_spread_iqr']:>6.1f}%")
        gflop = None if row['work'] is None else row['work']['flops'] / 1e9
        line += (f"{row['images_per_s']:>8.1f}"
                 f"{number(primary.get(name + '/student'), '.3f'):>7}"
                 f"{number(primary.get(name + '/logit_kd'), '.3f'):>7}"
                 f"{number(row['step_memory_mb'], '.1f'):>9}"
                 f"{row['state_memory_mb']:>9.1f}{number(gflop, '.2f'):>9}")
        lines.append(line)
    for clock in clocks:
        lines.append(f'targets by {clock} time (ratio of medians; median '
                     'of per-round ratios):')
        for key, value in result['clocks'][clock]['targets'].items():
            paired = ('' if value['paired'] is None else
                      f"; {value['paired']:.3f}")
            lines.append(f"  {TARGET_NAMES[key]:<44} {value['value']:.3f}"
                         f"{paired} (<= {value['limit']}) "
                         f"{'met' if value['met'] else 'MISSED'}")
    for key, extra in result.get('extra_work', {}).items():
        base = rows['catkd']['work']
        lines.append(
            f"work {key}: {extra['flops'] / 1e9:+.3f} GFLOP "
            f"({100 * extra['flops'] / base['flops']:+.2f} % of (d)), "
            f"{extra['ops']:+d} aten ops, "
            f"{extra['written_bytes'] / 2**20:+.1f} MB written")
    lines.append(f"memory: {result['memory_method']}")
    return '\n'.join(lines)


def format_data(result: dict) -> str:
    """A loader measurement (:func:`~mmcatkd.benchmark.runs.run_data`) as
    the table the tool prints."""
    width, height = result['image_size']
    lines = [
        'LoadImageFromFile + RandomResizedCrop 224 + RandomFlip + '
        f"PackInputs, one worker ({result['device_name']}), "
        f"{result['images']} JPEGs of {width}x{height} "
        f"(mean {result['mean_file_kb']:.0f} KB)",
        f"{'pipeline':<30}{'img/s/worker':>14}{'img/CPU-s':>11}"
        f"{'workers for 2,500 img/s':>25}"
    ]
    for name, row in result['pipelines'].items():
        rate = row['images_per_s_per_worker']
        lines.append(f"{name:<30}{rate:>14.1f}"
                     f"{row['images_per_cpu_s']:>11.1f}"
                     f"{math.ceil(2500 / row['images_per_cpu_s']):>25}")
    lines.append('workers: ceil(2500 / img per CPU-second), the rate of a '
                 'worker on a core of its own')
    return '\n'.join(lines)
