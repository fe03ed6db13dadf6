"""tools/benchmark.py: what its JSON reports and that its measurements
measure what they claim, on the tiny test pair."""
import json
import math
import os.path as osp
import statistics

import pytest

from tests.conftest import PROJECT_ROOT, TEST_CONFIGS, model_cfg, run_python
from tests.zygote import run_command

VARIANTS = ('student', 'teacher', 'logit_kd', 'catkd', 'catkd_bin',
            'catkd_cached', 'cam_loss', 'cam_loss_bin')


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """The tool on the tiny pair, 2 timed rounds, as a user runs it."""
    out = str(tmp_path_factory.mktemp('benchmark') / 'tiny.json')
    result = run_command([
        osp.join(PROJECT_ROOT, 'tools', 'benchmark.py'), '--config',
        osp.join(TEST_CONFIGS, 'tiny_teacher.py'), '--student-config',
        osp.join(TEST_CONFIGS,
                 'tiny_student.py'), '--input-size', '32', '--batch-size', '4',
        '--iters', '2', '--warmup', '1', '--threads', '1', '--out', out
    ],
                         cwd=PROJECT_ROOT,
                         timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as f:
        return json.load(f), result


def test_json_has_every_variant_with_positive_throughput(tiny_run):
    """All five variants and both CAM + loss rows are reported with
    positive medians, throughputs and resident state, from 2 rounds."""
    report, _ = tiny_run
    assert tuple(report['variants']) == VARIANTS
    for row in report['variants'].values():
        assert len(row['wall_times_ms']) == 2
        assert row['wall_ms'] > 0 and row['cpu_ms'] > 0
        assert row['images_per_s'] > 0
    for name in ('student', 'teacher', 'logit_kd', 'catkd'):
        assert report['variants'][name]['state_memory_mb'] > 0


def test_ratios_are_those_of_the_reported_medians(tiny_run):
    """Ratios to (a) and (c), to teacher + student and the CAM + loss share
    are computed from the reported medians, and each target says whether
    it is met."""
    report, _ = tiny_run
    rows = report['variants']
    for clock, summary in report['clocks'].items():
        ratios, ms = summary['ratios'], {
            name: row[f'{clock}_ms']
            for name, row in rows.items()
        }
        for name in ('student', 'logit_kd', 'catkd', 'catkd_bin',
                     'catkd_cached'):
            for base in ('student', 'logit_kd'):
                assert math.isclose(ratios[f'{name}/{base}'],
                                    ms[name] / ms[base])
                assert ratios[f'{name}/{base} paired'] > 0
        assert math.isclose(ratios['catkd/(teacher+student)'],
                            ms['catkd'] / (ms['student'] + ms['teacher']))
        assert math.isclose(ratios['cam_loss/catkd'],
                            ms['cam_loss'] / ms['catkd'])
        for target in summary['targets'].values():
            assert target['met'] == (target['value'] <= target['limit'])
    assert report['clock'] == 'cpu'  # the steadier clock on the CPU


def test_medians_are_medians_of_the_recorded_times(tiny_run):
    """Reported step times are the medians of the per-round times kept in
    the JSON, and throughput is the batch over the wall-clock median."""
    report, _ = tiny_run
    for row in report['variants'].values():
        assert math.isclose(row['wall_ms'],
                            statistics.median(row['wall_times_ms']))
        assert math.isclose(row['images_per_s'],
                            report['batch_size'] / row['wall_ms'] * 1e3)


def test_catkd_counts_no_work_beyond_teacher_forward_and_student(tiny_run):
    """Counted exactly: a CAT-KD step does the student's step and the
    teacher's forward plus under 1 % more FLOPs and a few dozen small ops
    (the CAMs and the loss), and its own work is the cam_loss row's."""
    report, _ = tiny_run
    extra = report['extra_work']['catkd - student - teacher']
    catkd = report['variants']['catkd']['work']
    assert 0 <= extra['flops'] < 0.01 * catkd['flops']
    assert 0 < extra['ops'] <= report['variants']['cam_loss']['work']['ops']
    assert 'convolution' not in {
        name
        for name, count in extra['op_counts'].items() if count > 2
    }


def test_cached_catkd_counts_the_student_step_and_no_teacher(tiny_run):
    """Counted exactly: the cached CAT-KD step (f) does the student's step
    plus the student's CAMs and the CAT loss (under 1 % more FLOPs, no
    convolution but the 1x1 CAM ones), none of the teacher's forward."""
    report, _ = tiny_run
    extra = report['extra_work']['catkd_cached - student']
    student = report['variants']['student']['work']
    teacher = report['variants']['teacher']['work']
    assert 0 <= extra['flops'] < 0.01 * student['flops'] < teacher['flops']
    assert extra['op_counts'].get('convolution', 0) <= 1
    assert 0 < extra['ops'] <= report['variants']['cam_loss']['work']['ops']


def test_resident_state_is_the_bytes_of_the_models_and_optimizer(tiny_run):
    """The teacher's resident state is its parameters and buffers (its data
    preprocessor's mean and std included), counted here from the built
    model; logit KD keeps exactly the student's (with its optimizer state)
    and the teacher's."""
    from mmpretrain.registry import MODELS
    report, _ = tiny_run
    rows = report['variants']
    teacher = MODELS.build(model_cfg('tiny_teacher.py'))
    teacher_bytes = sum(tensor.numel() * tensor.element_size()
                        for tensor in (*teacher.parameters(),
                                       *teacher.buffers()))
    assert rows['teacher']['state_memory_mb'] * 2**20 == pytest.approx(
        teacher_bytes)
    assert rows['logit_kd']['state_memory_mb'] == pytest.approx(
        rows['student']['state_memory_mb'] +
        rows['teacher']['state_memory_mb'])


def test_progress_goes_to_stderr_and_the_table_to_stdout(tiny_run):
    """A user sees rounds while it runs and one table at the end."""
    _, result = tiny_run
    assert 'round 2/2' in result.stderr
    assert 'CAT-KD (d)' in result.stdout
    assert 'round 2/2' not in result.stdout


@pytest.mark.slow
def test_cpu_peak_memory_sees_a_step_allocation():
    """The CPU memory figure of a call that holds 64 MiB is 64 MiB (within
    8 MiB), and a call that allocates nothing reports almost nothing."""
    code = '''
import torch
from mmcatkd.benchmark.measure import CPUPeakMemory
meter = CPUPeakMemory()
def hold():
    big = torch.ones(16 * 2**20)  # 64 MiB of float32, touched
    return float(big[-1])
print(meter.measure(hold) / 2**20, meter.measure(lambda: None) / 2**20)
'''
    result = run_python(code, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    held, idle = map(float, result.stdout.split()[-2:])
    assert abs(held - 64) < 8
    assert idle < 8


def test_data_rates_come_from_the_imagenet_train_pipeline(tmp_path):
    """--data times MMPretrain's train pipeline (224 x 224 crops out) for
    each decode/resize backend pair and reports positive per-worker rates
    by both clocks."""
    import torch
    from mmengine.dataset import Compose
    from mmpretrain.registry import TRANSFORMS

    from mmcatkd.benchmark import data_loading

    paths = data_loading.write_jpegs(str(tmp_path), 3, 500, 375)
    pipeline = Compose([
        TRANSFORMS.build(step)
        for step in data_loading.imagenet_train_pipeline('pillow', 'cv2')
    ])
    packed = pipeline(dict(img_path=paths[0], gt_label=0))
    assert tuple(packed['inputs'].shape) == (3, 224, 224)
    assert packed['inputs'].dtype == torch.uint8
    threads = torch.get_num_threads()
    rates = data_loading.worker_rates(paths, repeats=1)
    assert torch.get_num_threads() == threads
    assert set(rates) == {
        f'decode {d}, resize {r}'
        for d in ('cv2', 'pillow')
        for r in ('cv2', 'pillow')
    }
    assert all(
        row['images_per_s_per_worker'] > 0 and row['images_per_cpu_s'] > 0
        for row in rates.values())
