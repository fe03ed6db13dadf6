"""``python`` as the documentation test runs it: the tools, shortened.

The documentation test puts a ``python`` on ``PATH`` (and in ``$PYTHON``,
which the shell launchers use) that runs this file with the real interpreter.
A documented command such as ``python tools/train.py CONFIG`` then runs the
tool as written, with the options of :data:`TOOL_SHORTENING` appended (a
handful of iterations, batch 2, small crops, no downloads) and a checkpoint
name of a full-length run (``epoch_240.pth``) mapped to the shortened run's
last checkpoint; teachers and backbones given by URL start without those
weights. A tool without an entry fails, telling the author to add one.
Everything else (``-c``, ``-m pip``) is passed to the real interpreter.
"""
import os
import os.path as osp
import re
import sys
from typing import Callable, Dict, List, Optional

# Largest crop the shortened runs use: ImageNet pipelines (224 px) are scaled
# by SMALL_CROP / 224; 64 px keeps every student grid equal to a ViT-B/16
# teacher's (4 x 4) and leaves 2 x 2 CAMs on a stride-32 ResNet.
SMALL_CROP = 64
FULL_CROP = 224
SAMPLES = 4  # images per split of a shortened run (batch 2)
BATCH = 2
MAX_PROCESSES = 2  # "8 GPUs" become 2 gloo processes
DATASETS_WITH_INDICES = ('CIFAR10', 'CIFAR100', 'ImageNet', 'SklearnDigits',
                         'CustomDataset')
CHECKPOINT_OF_A_RUN = re.compile(r'(.*)/(epoch|iter)_\d+\.pth$')
URL = re.compile(r'^[a-z]+://')


def last_checkpoint(path: str) -> str:
    """``path``, or the last checkpoint of its run when the shortened run
    did not get as far as the documented ``epoch_N.pth``/``iter_N.pth``."""
    match = CHECKPOINT_OF_A_RUN.match(path)
    if osp.exists(path) or not match:
        return path
    pointer = osp.join(match.group(1), 'last_checkpoint')
    if not osp.isfile(pointer):
        return path
    with open(pointer) as file:
        last = file.read().strip()
    return osp.relpath(last) if osp.isabs(last) else last


def _leaf(dataset: dict, key: str):
    """The innermost data set config of a wrapper and its option key."""
    while isinstance(dataset.get('dataset'), dict):
        dataset, key = dataset['dataset'], key + '.dataset'
    return dataset, key


def _type_name(dataset: dict) -> str:
    kind = dataset.get('type', '')
    return kind.__name__ if isinstance(
        kind, type) else str(kind).split('.')[-1]  # noqa: E501


def dataloader_options(cfg, loaders=('train', 'val', 'test')) -> List[str]:
    """Batch 2, no workers, SAMPLES images, crops scaled to SMALL_CROP."""
    options = []
    for split in loaders:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not isinstance(loader.get('dataset'), dict):
            continue
        prefix = f'{split}_dataloader'
        options += [
            f'{prefix}.batch_size={BATCH}', f'{prefix}.num_workers=0',
            f'{prefix}.persistent_workers=False'
        ]
        dataset, key = _leaf(loader['dataset'], f'{prefix}.dataset')
        # not inside a wrapper, which may select classes the first images
        # do not have
        if (_type_name(dataset) in DATASETS_WITH_INDICES
                and key == f'{prefix}.dataset'):
            options.append(f'{key}.indices={SAMPLES}')
        for index, transform in enumerate(dataset.get('pipeline') or []):
            for name in ('scale', 'crop_size'):
                size = transform.get(name)
                if isinstance(size, int) and size > SMALL_CROP:
                    small = round(size * SMALL_CROP / FULL_CROP)
                    options.append(f'{key}.pipeline.{index}.{name}={small}')
    return options


def loop_options(cfg) -> List[str]:
    """One epoch, or two iterations, validated at its end; hooks that would
    start later (e.g. EMA after warm-up) start at once."""
    train_cfg = cfg.get('train_cfg') or {}
    if 'max_iters' in train_cfg or train_cfg.get('by_epoch') is False:
        options = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2']
    else:
        options = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1']
    for index, hook in enumerate(cfg.get('custom_hooks') or []):
        for name in ('begin_epoch', 'begin_iter'):
            if hook.get(name):
                options.append(f'custom_hooks.{index}.{name}=0')
    return options


def teacher_options(cfg) -> List[str]:
    """No downloads: a teacher checkpoint given by URL becomes None."""
    model = cfg.get('model') or {}
    options = []
    if URL.match(str(model.get('teacher_ckpt') or '')):
        options.append('model.teacher_ckpt=None')
    if any(URL.match(str(ckpt)) for ckpt in model.get('teacher_ckpts') or []):
        options.append('model.teacher_ckpts=None')
    return options


def pretrained_options(cfg) -> List[str]:
    """No downloads: every ``init_cfg=dict(type='Pretrained', checkpoint=URL)``
    in the model (a model-zoo backbone to fine-tune) becomes None."""

    def walk(node, key):
        if not isinstance(node, dict):
            return []
        init = node.get('init_cfg')
        if (isinstance(init, dict) and init.get('type') == 'Pretrained'
                and URL.match(str(init.get('checkpoint') or ''))):
            return [f'{key}.init_cfg=None']
        return [
            option for name, child in node.items()
            for option in walk(child, f'{key}.{name}')
        ]

    return walk(cfg.get('model') or {}, 'model')


def _load_config(path: str):
    import mmcatkd  # noqa: F401  (compat first, as the tools do)
    from mmcatkd.utils import load_config
    return load_config(path)  # a file or PACKAGE::FOLDER/NAME.py


def _first_positional(args: List[str]) -> Optional[str]:
    for arg in args:
        if not arg.startswith('-'):
            return arg
    return None


def _cfg_options(options: List[str]) -> List[str]:
    return ['--cfg-options'] + options if options else []


def _given_options(args: List[str]) -> dict:
    """The ``--cfg-options`` the command itself gives."""
    given = {}
    for index, arg in enumerate(args):
        if arg == '--cfg-options':
            for option in args[index + 1:]:
                if option.startswith('--'):
                    break
                key, _, value = option.partition('=')
                given[key] = value
    return given


def view_options(cfg) -> List[str]:
    """Unpadded CIFAR crops: 2 views (flips) per image instead of 162, for
    the teacher-CAM cache and the runs that read it."""
    loader = cfg.get('train_dataloader') or {}
    dataset, key = _leaf(
        loader.get('dataset') or {}, 'train_dataloader.dataset')
    return [
        f'{key}.pipeline.{index}.padding=0'
        for index, transform in enumerate(dataset.get('pipeline') or [])
        if str(transform.get('type', '')).endswith('RandomCrop')
        and transform.get('padding')
    ]


def shorten_train(args: List[str]) -> List[str]:
    cfg = _load_config(args[0])
    teacher = [
        option for option in teacher_options(cfg)
        if option.split('=')[0] not in _given_options(args)
    ]
    views = view_options(cfg) if '--teacher-cams' in args else []
    return args + _cfg_options(
        loop_options(cfg) + dataloader_options(cfg) + teacher +
        pretrained_options(cfg) + views)


def shorten_cache(args: List[str]) -> List[str]:
    cfg = _load_config(_first_positional(args))
    train = [
        o for o in dataloader_options(cfg, ('train', ))
        if 'batch_size' not in o
    ]
    return args + _cfg_options(train + view_options(cfg))


def shorten_check_pair(args: List[str]) -> List[str]:
    extra = ['--batch-size', str(BATCH), '--rounds', '2']
    if '--input-size' not in args and any('/cifar100/' in arg for arg in args):
        # a model-only CIFAR config has no crop: 32 px, not the 224 px
        # default (53 GMACs per image for resnet32x4)
        extra += ['--input-size', '32']
    if '--data-config' in args:
        extra += ['--iters', '2']
    return args + extra


def shorten_test(args: List[str]) -> List[str]:
    cfg = _load_config(args[0])
    return args + _cfg_options(
        dataloader_options(cfg, ('test', )) + teacher_options(cfg))


def shorten_analyze(args: List[str]) -> List[str]:
    cfg = _load_config(_first_positional(args))
    return args + ['--max-images',
                   str(SAMPLES), '--batch-size',
                   str(BATCH)] + _cfg_options(
                       dataloader_options(cfg, ('test', )))


def shorten_probe(args: List[str]) -> List[str]:
    return args + ['--epochs', '1', '--batch-size', str(BATCH)]


def shorten_benchmark(args: List[str]) -> List[str]:
    extra = ['--iters', '2', '--warmup', '0']
    if '--data' in args:
        return args + extra + ['--data-images', '2', '--data-repeats', '1']
    extra += ['--batch-size', str(BATCH)]
    if '--input-size' not in args:
        extra += [
            '--input-size', '32' if 'r32x4-shv1' in args else str(SMALL_CROP)
        ]
    return args + extra


def unchanged(args: List[str]) -> List[str]:
    return args


# tool -> how the documentation test shortens it (appended options)
TOOL_SHORTENING: Dict[str, Callable[[List[str]], List[str]]] = {
    # 1 epoch / 2 iters, batch 2, 4 images, no downloaded weights
    'train.py': shorten_train,
    'test.py': shorten_test,  # batch 2, 4 images
    'demo.py': lambda args: args + ['--quick'],  # 3 steps per stage
    'export_student.py': unchanged,
    'convert_teacher.py': unchanged,
    'visualize_cam.py': unchanged,  # a few images, one forward
    'analyze_attention.py': shorten_analyze,  # 4 images
    'linear_probe.py': shorten_probe,  # 1 epoch, batch 2
    'benchmark.py': shorten_benchmark,  # 2 rounds, batch 2, small inputs
    'check_pair.py': shorten_check_pair,  # batch 2, 2 rounds, 2 iterations
    'cache_teacher_cams.py': shorten_cache,  # 4 images, 2 views each
    'cuda_check.py': unchanged,  # only through `make -n` here
    'average_best.py': unchanged,
    'beta_study.py': unchanged,  # only with --summary-only here
}


def shorten_script(script: str, args: List[str]) -> List[str]:
    """``args`` of ``python script`` with checkpoints mapped and the tool's
    shortening options appended."""
    name = osp.basename(script)
    if name not in TOOL_SHORTENING:
        raise SystemExit(
            f'documentation test: no shortening rule for {script}; add one to '
            'TOOL_SHORTENING in tests/docs/shim.py.')
    return TOOL_SHORTENING[name]([last_checkpoint(arg) for arg in args])


def shorten_torchrun(args: List[str]) -> List[str]:
    """``-m torch.distributed.run``: at most MAX_PROCESSES processes, the
    script's own arguments shortened."""
    out = []
    for index, arg in enumerate(args):
        if arg.endswith('.py'):
            return out + [arg] + shorten_script(arg, args[index + 1:])
        match = re.match(r'(--nproc[_-]per[_-]node=?)(\d+)$', arg)
        if match and int(match.group(2)) > MAX_PROCESSES:
            arg = f'{match.group(1)}{MAX_PROCESSES}'
        if out and re.match(r'--nproc[_-]per[_-]node$',
                            out[-1]) and (arg.isdigit()
                                          and int(arg) > MAX_PROCESSES):
            arg = str(MAX_PROCESSES)
        out.append(arg)
    raise SystemExit(f'documentation test: no script in torchrun {args}')


def _runs_a_tool(argv: List[str]) -> bool:
    """Whether :func:`main` runs ``argv`` in this interpreter (a tool,
    torchrun, mmcatkd.run), not by handing it to the real one."""
    return (len(argv) >= 2 and argv[0] == '-m'
            and argv[1] in ('torch.distributed.run',
                            'torch.distributed.launch', 'mmcatkd.run')
            or bool(argv) and argv[0].endswith('.py') and osp.isfile(argv[0]))


def main(argv: List[str]) -> None:
    from tests.zygote import run_as_python
    if argv[:1] == ['--last-checkpoint']:
        print(last_checkpoint(argv[1]))
    elif len(argv) >= 2 and argv[0] == '-m' and argv[1] in (
            'torch.distributed.run', 'torch.distributed.launch'):
        run_as_python(argv[:2] + shorten_torchrun(argv[2:]))
    elif len(argv) >= 3 and argv[:2] == ['-m', 'mmcatkd.run']:
        # mmcatkd's wrapper of another package's tool: that tool shortened
        run_as_python(argv[:3] +
                      shorten_script(argv[2].split('::')[-1], argv[3:]))
    elif argv and argv[0].endswith('.py') and osp.isfile(argv[0]):
        run_as_python(argv[:1] + shorten_script(argv[0], argv[1:]))
    else:
        os.execv(sys.executable, [sys.executable] + argv)


if __name__ == '__main__':
    # run as a file: the repository importable (tests.zygote)
    sys.path[0] = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    if os.environ.get('MMCATKD_DOCTEST_ZYGOTE') and _runs_a_tool(sys.argv[1:]):
        # a pre-imported interpreter forks and runs it (zygote.py)
        from tests.zygote import run_in_zygote
        sys.exit(
            run_in_zygote(os.environ['MMCATKD_DOCTEST_ZYGOTE'], sys.argv[1:]))
    main(sys.argv[1:])
