"""One benchmark run of ``tools/benchmark.py``: the named pairs, then a
pair's variants built, timed and summarised, or the data loaders
measured."""
import argparse
import os.path as osp
import tempfile

import torch
from mmrazor.registry import MODELS

from ..models.algorithms.model_cfg import resolve_cfg_path
from ..utils.errors import ConfigError
from ..utils.project_files import project_file
from . import data_loading
from .measure import count_work, measure_memory, progress, time_rounds
from .report import summarise
from .variants import build_variants, make_batch

MODEL_CFGS = project_file('configs', '_base_', 'models')

# name: teacher and student configs, input size, default batch per device
# (CUDA: per GPU in the papers' runs, CIFAR 64, ImageNet 512 on 8 GPUs).
PAIRS = {
    'r32x4-shv1':
    dict(
        teacher=osp.join(MODEL_CFGS, 'cifar100', 'resnet32x4.py'),
        student=osp.join(MODEL_CFGS, 'cifar100', 'shufflenetv1.py'),
        input_size=32,
        batch_size=dict(cpu=64, cuda=64)),
    'r34-r18':
    dict(
        teacher=osp.join(MODEL_CFGS, 'imagenet', 'resnet34.py'),
        student=osp.join(MODEL_CFGS, 'imagenet', 'resnet18.py'),
        input_size=224,
        batch_size=dict(cpu=16, cuda=64)),
}


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else ``'cpu'``."""
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'cpu'


def run_pair(args: argparse.Namespace) -> dict:
    """Build, time, measure and count every variant of a pair, as
    ``tools/benchmark.py`` is asked to by ``args`` (its options): the
    settings, then :func:`~mmcatkd.benchmark.report.summarise`."""
    device = torch.device(
        args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if args.pair:
        pair = PAIRS[args.pair]
        teacher_cfg, student_cfg = pair['teacher'], pair['student']
        input_size = args.input_size or pair['input_size']
        batch_size = args.batch_size or pair['batch_size'][device.type]
    else:
        teacher_cfg, student_cfg = args.teacher_config, args.student_config
        input_size, batch_size = args.input_size, args.batch_size or 32
    if args.clock == 'cpu' and device.type == 'cuda':
        raise ConfigError('--clock cpu measures nothing of a CUDA step: use '
                          'the wall clock there.')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = device.type == 'cuda'
    # Denormals make CPU arithmetic many times slower, in some variants only.
    torch.set_flush_denormal(True)
    num_classes = MODELS.build(resolve_cfg_path(
        dict(cfg_path=student_cfg))).head.num_classes
    data = make_batch(batch_size, input_size, num_classes)
    progress('building the variants')
    with tempfile.TemporaryDirectory() as cache_dir:
        variants = build_variants(teacher_cfg, student_cfg, data, device,
                                  args.amp, args.channels_last, args.compile,
                                  cache_dir)
        time_rounds(variants, device, args.warmup, args.iters)
        progress('memory: two more steps per variant')
        memory_method = measure_memory(variants, device)
        if not args.compile:  # dispatch modes and compiled graphs do not mix
            progress('counting the work of one step per variant')
            count_work(variants)
    # CPU time is a process's own work only on the CPU; there it is the
    # steadier clock when other jobs share the machine.
    clocks = ['wall', 'cpu'] if device.type == 'cpu' else ['wall']
    result = dict(
        pair=args.pair or (f'{osp.basename(teacher_cfg)} -> '
                           f'{osp.basename(student_cfg)}'),
        teacher_config=teacher_cfg,
        student_config=student_cfg,
        device=str(device),
        device_name=(torch.cuda.get_device_name(device)
                     if device.type == 'cuda' else cpu_name()),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        batch_size=batch_size,
        input_size=input_size,
        warmup=args.warmup,
        iters=args.iters,
        amp=args.amp,
        channels_last=args.channels_last,
        compile=args.compile,
        clock=args.clock or clocks[-1],
        memory_method=memory_method)
    result.update(summarise(variants, batch_size, clocks))
    return result


def run_data(args: argparse.Namespace) -> dict:
    """Decode + augmentation per loader worker on generated JPEGs (the
    ``--data-*`` options of ``args``)."""
    width, height = args.data_size
    with tempfile.TemporaryDirectory() as folder:
        progress(f'writing {args.data_images} JPEGs of {width}x{height}')
        paths = data_loading.write_jpegs(folder, args.data_images, width,
                                         height)
        mean_kb = sum(osp.getsize(p) for p in paths) / len(paths) / 1024
        rates = data_loading.worker_rates(
            paths, repeats=args.data_repeats, progress=progress)
    return dict(
        images=args.data_images,
        image_size=[width, height],
        mean_file_kb=mean_kb,
        device_name=cpu_name(),
        pipelines=rates)
