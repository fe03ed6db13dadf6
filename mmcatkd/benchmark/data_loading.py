"""Decode + augmentation throughput of one dataloader worker.

A worker is one process running the dataset's pipeline image by image, so
its rate is measured in this process with one thread and OpenCV's own
threads off (what MMEngine's ``env_cfg.mp_cfg.opencv_num_threads=0`` sets
in workers). A GPU consuming ``G`` images/s then needs
``ceil(G / rate)`` workers.
"""
import os.path as osp
import statistics
import time
from typing import Dict, List

import numpy as np


def write_jpegs(folder: str, count: int, width: int, height: int) -> list:
    """``count`` JPEGs (quality 90) of smooth colour fields with noise,
    whose sizes (~105 KB at 500x375) and decode work are like ImageNet
    photos', not like flat images'. Returns their paths."""
    from PIL import Image
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:height, 0:width]
    paths = []
    for index in range(count):
        phase = rng.random(3) * 2 * np.pi
        freq = 0.005 + rng.random(3) * 0.03
        channels = [
            127 + 100 * np.sin(freq[c] * cols + phase[c]) *
            np.cos(freq[(c + 1) % 3] * rows) for c in range(3)
        ]
        pixels = np.stack(channels, -1) + rng.normal(0, 24, (height, width, 3))
        path = osp.join(folder, f'{index:04d}.jpg')
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
            path, quality=90)
        paths.append(path)
    return paths


def imagenet_train_pipeline(decode: str, resize: str) -> List[dict]:
    """MMPretrain's ImageNet training pipeline with the given backends for
    decoding (``LoadImageFromFile``) and ``RandomResizedCrop``."""
    return [
        dict(type='LoadImageFromFile', imdecode_backend=decode),
        dict(type='RandomResizedCrop', scale=224, backend=resize),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]


def worker_rates(paths: List[str],
                 backends=(('cv2', 'cv2'), ('cv2', 'pillow'),
                           ('pillow', 'cv2'), ('pillow', 'pillow')),
                 repeats: int = 3,
                 progress=None) -> Dict[str, dict]:
    """Images/s of one worker per (decode, resize) backend pair.

    Repetitions interleave the pipelines, as the model timing does; medians
    are reported, by the wall clock and per second of CPU time (the rate on
    a core the worker has to itself).
    """
    import cv2
    import torch
    from mmengine.dataset import Compose
    from mmpretrain.registry import TRANSFORMS

    cv2.setNumThreads(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pipelines = {
            f'decode {decode}, resize {resize}':
            Compose([
                TRANSFORMS.build(step)
                for step in imagenet_train_pipeline(decode, resize)
            ])
            for decode, resize in backends
        }
        rates = {name: dict(wall=[], cpu=[]) for name in pipelines}
        for repetition in range(repeats):
            for name, pipeline in pipelines.items():
                wall, cpu = time.perf_counter(), time.process_time()
                for path in paths:
                    pipeline(dict(img_path=path, gt_label=0))
                rates[name]['wall'].append(
                    len(paths) / (time.perf_counter() - wall))
                rates[name]['cpu'].append(
                    len(paths) / (time.process_time() - cpu))
            if progress is not None:
                progress(f'data repetition {repetition + 1}/{repeats}')
    finally:
        torch.set_num_threads(threads)
    return {
        name:
        dict(
            images_per_s_per_worker=statistics.median(values['wall']),
            images_per_cpu_s=statistics.median(values['cpu']),
            repetitions=values)
        for name, values in rates.items()
    }
