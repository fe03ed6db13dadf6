"""Checks a teacher-CAM cache against the data it will be looked up for."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ..utils.errors import ConfigError, ConfigTypeError
from .format import TOOL, jsonable
from .views import (dataset_fingerprint, describe_views,
                    pipeline_records_views, split_pipeline)


def check_cache_matches_data(cache, dataset, pipeline) -> None:
    """Raise ``ValueError`` unless ``cache`` (a ``TeacherCAMCache``) was
    built for ``dataset`` (same length and items) and ``pipeline`` (same
    deterministic steps and views), and the pipeline records its views."""
    problem = pipeline_records_views(pipeline)
    if problem:
        raise ConfigError(problem)
    manifest = cache.manifest
    base, view_steps = split_pipeline(pipeline)
    views = describe_views(view_steps, tuple(manifest['views']['image_shape']))
    if (jsonable(base) != manifest['pipeline']['base']
            or jsonable(views) != manifest['views']):
        raise ConfigError(
            f'the teacher-CAM cache in {cache.folder} was built for another '
            'train pipeline (its deterministic steps or views differ): '
            f'rebuild it with {TOOL} for this config.')
    if dataset_fingerprint(dataset) != manifest['dataset']:
        raise ConfigError(
            f'the teacher-CAM cache in {cache.folder} was built for another '
            'training set (its length, images or labels differ): rebuild it '
            f'with {TOOL} for this config.')


@HOOKS.register_module()
class TeacherCAMCacheHook(Hook):
    """Before training, checks that ``CachedCATDistill``'s cache was built
    for the training set and pipeline of this run, then lets it train.
    Registered in MMEngine's ``HOOKS``.

    Its algorithm refuses to train without this check: a cache of another
    dataset or augmentation would hand the student wrong teacher CAMs
    silently. Reads ``runner.cfg.train_dataloader.dataset.pipeline`` and
    fingerprints ``runner.train_dataloader.dataset`` (every item's path or
    pixels and label: seconds for CIFAR-100).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'dataset_verified'):
            raise ConfigTypeError(f'{type(self).__name__} checks the cache of '
                                  f'CachedCATDistill, and this model is a '
                                  f'{type(model).__name__}: remove the hook.')
        pipeline = runner.cfg.train_dataloader.dataset.pipeline
        check_cache_matches_data(model.cache, runner.train_dataloader.dataset,
                                 [dict(step) for step in pipeline])
        model.dataset_verified = True
