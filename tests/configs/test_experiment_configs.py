"""The experiment configs under configs/: each one builds and runs, the CIFAR
pairs carry the paper's CAT settings, and training without the data set stops
at once with a sentence saying where the data goes."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmpretrain.structures import DataSample

from mmcatkd.cli import test as cli_test
from mmcatkd.cli import train as train_tool
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import PROJECT_ROOT

CONFIGS = osp.join(PROJECT_ROOT, 'configs')
EXPERIMENTS = sorted(
    osp.relpath(path, CONFIGS)
    for path in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(path, CONFIGS).split(os.sep))

# Configs that run Python beyond assignments (an import statement).
CODE_CONFIGS = [
    experiment for experiment in EXPERIMENTS
    if re.search(r'^(from|import) ',
                 Path(CONFIGS, experiment).read_text(), re.M)
]

# The losses one training step logs, by the experiment's kind (file prefix);
# configs of other methods must log at least one distillation loss.
EXPECTED_LOSSES = {
    'catkd': {'student.loss', 'distill.loss_cat'},
    'cat': {'distill.loss_cat'},
    'kd': {'student.loss', 'distill.loss_kl'},
    'dkd': {'student.loss', 'distill.loss_dkd'},
    'vanilla': {'loss'},
}
# File prefixes of the distillation methods; any other prefix names the
# architecture of a model trained alone (MMRazor's "vanilla" configs).
METHODS = {'catkd', 'cat', 'kd', 'dkd', 'mtkd', 'clskd', 'cakd'}

# Config file names spell architectures as MMRazor does; the model files
# under configs/_base_/models keep the authors' names.
ARCH_NAMES = {
    'wrn_40_2': 'wrn-40-2',
    'wrn_16_2': 'wrn-16-2',
    'wrn_40_1': 'wrn-40-1',
    'shufflenetv1': 'shufflenet-v1',
    'shufflenetv2': 'shufflenet-v2',
    'mobilenetv2': 'mobilenet-v2'
}

# The paper's CIFAR-100 pairs: teacher, student, beta, CAM resolution,
# normalize, lr (CE weight 1, batch 64, 240 epochs, x0.1 at 150/180/210).
CIFAR_PAIRS = [
    ('resnet56', 'resnet20', 0.7, 2, False, 0.05),
    ('resnet110', 'resnet32', 1.8, 2, False, 0.05),
    ('resnet32x4', 'resnet8x4', 15, 2, False, 0.05),
    ('wrn_40_2', 'wrn_16_2', 12, 2, False, 0.05),
    ('wrn_40_2', 'wrn_40_1', 1.5, 2, False, 0.05),
    ('vgg13', 'vgg8', 4.5, 2, False, 0.05),
    ('resnet32x4', 'shufflenetv1', 600, 4, True, 0.01),
    ('resnet32x4', 'shufflenetv2', 600, 4, True, 0.01),
    ('wrn_40_2', 'shufflenetv1', 80, 4, True, 0.01),
    ('vgg13', 'mobilenetv2', 15, 2, True, 0.01),
    ('resnet50', 'mobilenetv2', 40, 2, True, 0.01),
]


def _is_timm(teacher):
    """Whether a teacher config is a timm model (``timm://ARCH.TAG``)."""
    return isinstance(teacher, dict) and str(teacher.get(
        'cfg_path', '')).startswith('timm://')


def _kind(experiment):
    prefix = osp.basename(experiment).split('_')[0]
    return prefix if prefix in METHODS else 'vanilla'


def _cifar_catkd(teacher, student):
    """The config of a CIFAR-100 CAT-KD pair, by its model file names."""
    return (f'catkd/catkd_{ARCH_NAMES.get(teacher, teacher)}_'
            f'{ARCH_NAMES.get(student, student)}_1xb64_cifar100.py')


def _config(experiment, *options):
    """The config as tools/train.py sees it with ``--cfg-options``."""
    train = train_tool
    path = osp.join(CONFIGS, experiment)
    args = train.parse_args(
        [path, *(['--cfg-options', *options] if options else [])])
    return train.merge_args(Config.fromfile(path), args)


def _build(cfg):
    """The model, built as MMEngine's Runner builds it."""
    model = dict(cfg.model.to_dict())
    model.setdefault('data_preprocessor', cfg.data_preprocessor.to_dict())
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(model)


def _fake_batch(model, num_classes, labels=True):
    """Two random uint8 images through the model's data preprocessor:
    32 px for CIFAR-100, 112 px (CAMs of 4x4) for ImageNet."""
    size = 32 if num_classes == 100 else 112
    generator = torch.Generator().manual_seed(0)
    images = [
        torch.randint(
            0, 256, (3, size, size), dtype=torch.uint8, generator=generator)
        for _ in range(2)
    ]
    samples = [DataSample() for _ in images]
    if labels:
        samples = [s.set_gt_label(i) for i, s in enumerate(samples)]
    data = model.data_preprocessor(
        dict(inputs=images, data_samples=samples), True)
    return data['inputs'], data['data_samples']


def test_the_experiment_list_is_complete():
    """Every experiment this package promises is found by the glob the
    other tests run over (so none silently escapes them)."""
    expected = {_cifar_catkd(t, s) for t, s, *_ in CIFAR_PAIRS}
    expected |= {
        'catkd_r34_r18_imagenet.py',
        'catkd/catkd_resnet34_resnet18_8xb64_in1k.py',
        'catkd/catkd_cam4x4_resnet34_resnet18_8xb64_in1k.py',
        'catkd/catkd_resnet50_mobilenet-v1_8xb64_in1k.py',
        'catkd/catkd_timm-resnet50-a1_resnet18_8xb64_in1k.py',
        'kd/kd_logits_resnet34_resnet18_8xb64_in1k.py',
        'cat/cat_resnet32x4_resnet32x4_1xb64_cifar100.py',
        'cat/cat_binarized_resnet32x4_resnet32x4_1xb64_cifar100.py',
        'cat/cat_partial_resnet32x4_resnet8x4_1xb64_cifar100.py',
        'cat/cat_unseen_resnet32x4_resnet32x4_1xb64_cifar100.py',
        'kd/kd_logits_resnet32x4_resnet8x4_1xb64_cifar100.py',
        'kd/kd_logits_resnet32x4_shufflenet-v1_1xb64_cifar100.py',
        'dkd/dkd_resnet32x4_resnet8x4_1xb64_cifar100.py',
        'dkd/dkd_resnet32x4_shufflenet-v1_1xb64_cifar100.py'
    }
    expected |= {  # the own-pair example of docs/your_own_pair.md
        'catkd/catkd_resnet50_resnet18_8xb32_custom-folder.py',
        'vanilla/resnet50_8xb32_custom-folder.py',
        'vanilla/resnet18_8xb32_custom-folder.py'
    }
    expected |= {
        f'vanilla/{ARCH_NAMES.get(name, name)}_1xb64_cifar100.py'
        for name in ('resnet56', 'resnet110', 'resnet32x4', 'wrn_40_2',
                     'vgg13', 'resnet50', 'resnet8x4')
    }
    assert expected <= set(EXPERIMENTS)


# The 36 multi-teacher paper configs differ only in their teachers, student
# augmentation and data set (test_paper_multiteacher_config_names_its_setting
# checks each); two of them and the two teachers build full-size ResNets here.
PAPER = osp.join('mtkd', 'paper')
PAPER_BUILT = {
    osp.join(PAPER, name)
    for name in ('mtkd_1tw_sw_resnet50_resnet18_1xb128_cifar100.py',
                 'mtkd_3t2w1s_ss_resnet50_resnet18_1xb128_cifar100-lt100.py',
                 'resnet50_weak_in1k-pre_1xb128_cifar100.py',
                 'resnet50_strong_in1k-pre_1xb128_cifar100.py')
}
BUILT = [
    pytest.param(e, marks=pytest.mark.slow)
    if e in PAPER_BUILT or e.endswith('_in1k.py') or 'imagenet' in e
    or 'custom-folder' in e else e  # full-size ImageNet models too
    for e in EXPERIMENTS if not e.startswith(PAPER) or e in PAPER_BUILT
]


@pytest.mark.parametrize('experiment', BUILT)
def test_experiment_builds_and_one_step_gives_finite_losses(experiment):
    """With `--cfg-options model.teacher_ckpt=None` (a random teacher;
    a timm teacher also `model.teacher.pretrained=False`, so nothing is
    fetched) the model builds and one loss step on two fake images returns
    exactly the losses the method logs, all finite."""
    model_cfg = _config(experiment).model
    if 'teachers' in model_cfg:  # several teachers: all random
        options = [f'model.teacher_ckpts={[None] * len(model_cfg.teachers)}']
    elif 'teacher' in model_cfg:
        options = ['model.teacher_ckpt=None']
        if _is_timm(model_cfg.teacher):
            options.append('model.teacher.pretrained=False')
    else:
        options = []
    cat_loss = model_cfg.get('distiller', {}).get('cat_loss', {})
    if cat_loss.get('loss_weight') == 'auto':
        # the window CATAutoBetaHook would set at the start of training
        options.append('model.distiller.cat_loss.auto_iters=1')
    cfg = _config(experiment, *options)
    if options:
        assert not any(
            cfg.model.get('teacher_ckpts') or [cfg.model.get('teacher_ckpt')])
    model = _build(cfg)
    if _is_timm(model_cfg.get('teacher')):
        assert model.teacher.pretrained is False  # timm's random weights
    inputs, samples = _fake_batch(model, cfg.data_preprocessor.num_classes)
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
    kind = _kind(experiment)
    if kind in EXPECTED_LOSSES:
        assert set(losses) == EXPECTED_LOSSES[kind]
    else:
        assert any(key.startswith('distill.') for key in losses), losses
    assert all(torch.isfinite(value).all() for value in losses.values())


def test_timm_teacher_config_gets_timms_weights_and_normalisation():
    """The timm-teacher config builds timm's resnet50.a1_in1k with the
    weights timm loads (no teacher_ckpt over them) and feeds it images
    normalised as those weights were trained: timm's mean and std (x255)
    for them are the data preprocessor's, RGB, at their 224 px."""
    import timm
    cfg = _config('catkd/catkd_timm-resnet50-a1_resnet18_8xb64_in1k.py')
    teacher = resolve_cfg_path(cfg.model.teacher)
    assert teacher['type'] == 'TimmImageClassifier'
    assert teacher['model_name'] == 'resnet50.a1_in1k'
    assert teacher['pretrained'] is True
    assert cfg.model.teacher_ckpt is None
    trained = timm.get_pretrained_cfg(teacher['model_name'])
    preprocessor = cfg.data_preprocessor
    assert preprocessor.mean == pytest.approx(
        [255 * value for value in trained.mean])
    assert preprocessor.std == pytest.approx(
        [255 * value for value in trained.std])
    assert preprocessor.to_rgb is True
    assert trained.input_size == (3, 224, 224)
    assert cfg.train_dataloader.dataset.pipeline[1].scale == 224
    assert cfg.test_dataloader.dataset.pipeline[2].crop_size == 224


def test_no_config_imports_package_code():
    """Configs name things and the package resolves them (a student or a
    teacher by ``cfg_path``): an import would tie config parsing to import
    order and leave unprintable objects in the dump the Runner writes."""
    assert CODE_CONFIGS == []


@pytest.mark.parametrize('teacher,student,beta,resolution,normalize,lr',
                         CIFAR_PAIRS)
def test_cifar_pair_has_the_papers_cat_settings(teacher, student, beta,
                                                resolution, normalize, lr):
    """Each CIFAR-100 CAT-KD pair uses the paper's beta, CAM resolution,
    normalisation and lr, CE weight 1, batch 64 and the 240-epoch schedule,
    and reads its teacher from work_dirs/teachers/<teacher>.pth."""
    cfg = _config(_cifar_catkd(teacher, student))
    model = cfg.model
    assert model.type == 'CATDistill'
    assert model.architecture.cfg_path.endswith(
        f'/models/cifar100/{student}.py')
    assert model.teacher.cfg_path.endswith(f'/models/cifar100/{teacher}.py')
    assert model.teacher_ckpt == f'work_dirs/teachers/{teacher}.pth'
    assert model.calculate_student_loss
    assert dict(model.distiller.cat_loss) == dict(
        loss_weight=beta,
        resolution=resolution,
        normalize=normalize,
        binarize=False,
        num_selected=None,
        selection='top')
    student_cfg = Config.fromfile(model.architecture.cfg_path)
    assert student_cfg.model.head.loss.loss_weight == 1.0
    assert cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.train_cfg.max_epochs == 240
    assert cfg.param_scheduler.milestones == [150, 180, 210]
    assert cfg.param_scheduler.gamma == 0.1


@pytest.mark.parametrize('experiment,cat_loss', [
    ('cat_resnet32x4_resnet32x4_1xb64_cifar100.py',
     dict(loss_weight=50, normalize=True, binarize=False, num_selected=None)),
    ('cat_binarized_resnet32x4_resnet32x4_1xb64_cifar100.py',
     dict(loss_weight=300, normalize=True, binarize=True, num_selected=None)),
    ('cat_partial_resnet32x4_resnet8x4_1xb64_cifar100.py',
     dict(
         loss_weight=300, normalize=True, num_selected=75,
         selection='bottom')),
])
def test_cat_only_experiments_never_use_labels(experiment, cat_loss):
    """The paper's CAT experiments train on the CAT loss alone with its
    settings, and a step runs on images that carry no labels at all."""
    cfg = _config(f'cat/{experiment}', 'model.teacher_ckpt=None')
    assert cfg.model.calculate_student_loss is False
    assert cfg.model.distiller.cat_loss.resolution == 2
    for key, value in cat_loss.items():
        assert cfg.model.distiller.cat_loss[key] == value
    model = _build(cfg)
    inputs, samples = _fake_batch(model, 100, labels=False)
    with torch.no_grad():
        losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'distill.loss_cat'}


def test_resolution_4_fits_every_student_cam():
    """The resolution-4 pairs pool each CAM to at most its own size: the
    ShuffleNet students give 4x4 CAMs at 32 px, their teachers 8x8."""
    for teacher, student, _, resolution, *_ in CIFAR_PAIRS:
        if resolution < 4:
            continue
        for name in (teacher, student):
            backbone = Config.fromfile(
                osp.join(CONFIGS, '_base_', 'models', 'cifar100',
                         f'{name}.py')).model.backbone
            with DefaultScope.overwrite_default_scope('mmpretrain'):
                feat = MODELS.build(dict(backbone,
                                         _scope_='mmpretrain'))(torch.zeros(
                                             1, 3, 32, 32))[-1]
            assert min(feat.shape[-2:]) >= resolution, (teacher, student)


NO_DATA_RUNS = {
    'catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py': [
        'CIFAR-100 is not in data/cifar100',
        'data/cifar100/cifar-100-python/{train,test,meta}', 'never downloaded'
    ],
    'catkd_r34_r18_imagenet.py': [
        'ImageNet is not in data/imagenet', 'data/imagenet/train/<wnid>',
        'data/imagenet/meta/{train,val}.txt'
    ],
}


@pytest.fixture(scope='module')
def no_data_runs(tmp_path_factory):
    """tools/train.py on each NO_DATA_RUNS config in an empty directory,
    both at once (each is mostly interpreter start-up)."""
    runs = {}
    for experiment in NO_DATA_RUNS:
        cwd = tmp_path_factory.mktemp('no_data')
        env = dict(os.environ, TORCH_HOME=str(cwd / 'torch_home'))
        command = [
            sys.executable,
            osp.join(PROJECT_ROOT, 'tools', 'train.py'),
            osp.join(CONFIGS, experiment), '--work-dir',
            str(cwd / 'work_dir')
        ]
        runs[experiment] = (cwd, time.monotonic(),
                            subprocess.Popen(
                                command,
                                cwd=cwd,
                                env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                text=True))
    results = {}
    for experiment, (cwd, start, process) in runs.items():
        try:
            _, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        results[experiment] = (cwd, time.monotonic() - start,
                               process.returncode, stderr)
    return results


@pytest.mark.parametrize('experiment', sorted(NO_DATA_RUNS))
def test_training_without_the_data_stops_at_once_saying_where_it_goes(
        experiment, no_data_runs):
    """tools/train.py in a directory without data/ fails within a minute,
    before building the model (no teacher download) and without fetching
    the data set, with a sentence saying where the data goes and how."""
    cwd, seconds, returncode, stderr = no_data_runs[experiment]
    assert seconds < 60
    assert returncode != 0
    # the sentence, however the tool prints errors (traceback or one line)
    sentences = [
        line for line in stderr.splitlines() if 'is not in data/' in line
    ]
    assert sentences, stderr[-2000:]
    for text in NO_DATA_RUNS[experiment]:
        assert text in sentences[-1]
    # nothing was downloaded: no data set, no teacher checkpoint
    assert not (cwd / 'data').exists()
    assert not (cwd / 'torch_home').exists()
    assert not glob.glob(str(cwd / '**' / '*.tar.gz'), recursive=True)


def test_testing_without_the_data_stops_before_the_runner(
        tmp_path, monkeypatch, capsys):
    """tools/test.py checks the test split before building anything."""
    monkeypatch.chdir(tmp_path)
    # the check raises; the tool may turn that into a one-line exit
    with pytest.raises((FileNotFoundError, SystemExit)) as info:
        cli_test.main([
            osp.join(CONFIGS, 'catkd',
                     'catkd_resnet32x4_resnet8x4_1xb64_cifar100.py'),
            'missing.pth', '--work-dir',
            str(tmp_path / 'work_dir')
        ])
    message = str(info.value) + capsys.readouterr().err
    assert 'CIFAR-100 is not in data/cifar100' in message
    assert 'set test_dataloader.dataset.data_root' in message
    assert not (tmp_path / 'data').exists()
