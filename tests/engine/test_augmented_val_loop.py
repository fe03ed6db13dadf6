"""AugmentedValLoop: the clean pass under plain metric names, the augmented
pass (the multi-teacher study's val_aug) under its prefix, one epoch's
metrics to the hooks."""
from types import SimpleNamespace

from mmengine.evaluator import BaseMetric, Evaluator
from torch.utils.data import DataLoader, Dataset

from mmcatkd.engine import AugmentedValLoop


class _Numbers(Dataset):
    metainfo = dict(classes=('a', 'b'))

    def __init__(self, values):
        self.values = values

    def __len__(self):
        return len(self.values)

    def __getitem__(self, index):
        return self.values[index]


class _Sum(BaseMetric):
    """Images seen and the sum of their values."""

    def process(self, data_batch, data_samples):
        self.results += [float(value) for value in data_samples]

    def compute_metrics(self, results):
        return dict(images=len(results), total=sum(results))


def _runner(hooks):
    return SimpleNamespace(
        model=SimpleNamespace(val_step=lambda batch: batch, eval=lambda: None),
        call_hook=lambda name, **kwargs: hooks.append((name, kwargs)),
        visualizer=SimpleNamespace(),
        build_evaluator=lambda evaluator: evaluator)


def test_clean_then_augmented_pass_with_drop_last():
    """Clean: 5 images (1..5, batch 2, last batch kept): 5 images, sum 15.
    Augmented: the same images x 10 (standing in for the training views),
    batch 2 with drop_last: 4 images, sum 100, prefixed val_aug/."""
    hooks = []
    clean = DataLoader(_Numbers([1, 2, 3, 4, 5]), batch_size=2)
    augmented = DataLoader(
        _Numbers([10, 20, 30, 40, 50]), batch_size=2, drop_last=True)
    loop = AugmentedValLoop(
        _runner(hooks),
        clean,
        Evaluator([_Sum()]),
        aug_dataloader=augmented,
        aug_evaluator=Evaluator([_Sum()]))
    metrics = loop.run()
    assert metrics == {
        'images': 5,
        'total': 15.0,
        'val_aug/images': 4,
        'val_aug/total': 100.0
    }
    epoch_ends = [
        kwargs for name, kwargs in hooks if name == 'after_val_epoch'
    ]
    assert epoch_ends == [dict(metrics=metrics)]
    assert [name for name, _ in hooks].count('after_val_iter') == 3 + 2
