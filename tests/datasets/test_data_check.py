"""check_datasets: a missing CIFAR/ImageNet data set is reported in one
sentence that says where it goes; a complete one, and data sets whose layout
we do not know, pass."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmcatkd.datasets import check_datasets


def _config(**dataloaders):
    return Config({
        f'{key}_dataloader': dict(batch_size=2, dataset=dataset)
        for key, dataset in dataloaders.items()
    })


def _cifar100(root):
    return dict(type='CIFAR100', data_root=str(root), split='train')


def _write_cifar100(root):
    folder = root / 'cifar-100-python'
    folder.mkdir(parents=True)
    for name in ('train', 'test', 'meta'):
        (folder / name).write_bytes(b'')


def test_missing_cifar100_names_the_folder_the_files_and_the_option(tmp_path):
    """The sentence gives the expected files under data_root and the config
    key to change, and says nothing will be downloaded."""
    root = tmp_path / 'cifar100'
    with pytest.raises(FileNotFoundError) as info:
        check_datasets(_config(train=_cifar100(root)))
    message = str(info.value)
    assert f'CIFAR-100 is not in {root}:' in message
    assert osp.join(str(root), 'cifar-100-python') + '/{train,test,meta}' \
        in message
    assert 'train_dataloader.dataset.data_root' in message
    assert 'never downloaded' in message
    assert '\n' not in message


def test_complete_cifar100_passes(tmp_path):
    _write_cifar100(tmp_path)
    check_datasets(_config(train=_cifar100(tmp_path), val=_cifar100(tmp_path)))


def test_a_partial_cifar100_is_missing(tmp_path):
    """All three files are needed: MMPretrain checks them all."""
    _write_cifar100(tmp_path)
    (tmp_path / 'cifar-100-python' / 'meta').unlink()
    with pytest.raises(FileNotFoundError, match='CIFAR-100'):
        check_datasets(_config(train=_cifar100(tmp_path)))


def test_scoped_types_and_wrapped_datasets_are_checked(tmp_path):
    """'mmpretrain.CIFAR100' inside RepeatDataset/ConcatDataset is still
    CIFAR-100."""
    scoped = dict(_cifar100(tmp_path), type='mmpretrain.CIFAR100')
    repeated = dict(type='RepeatDataset', times=2, dataset=scoped)
    with pytest.raises(FileNotFoundError, match='CIFAR-100'):
        check_datasets(_config(train=repeated))
    concat = dict(type='ConcatDataset', datasets=[scoped])
    with pytest.raises(FileNotFoundError, match='CIFAR-100'):
        check_datasets(_config(train=concat))


def test_only_the_requested_dataloaders_are_checked(tmp_path):
    """tools/test.py asks for the test split only."""
    _write_cifar100(tmp_path / 'present')
    cfg = _config(
        train=_cifar100(tmp_path / 'absent'),
        test=_cifar100(tmp_path / 'present'))
    check_datasets(cfg, ('test_dataloader', ))
    with pytest.raises(
            FileNotFoundError, match='train_dataloader.dataset.data_root'):
        check_datasets(cfg)


def test_missing_imagenet_gives_mmpretrains_layout(tmp_path):
    root = tmp_path / 'imagenet'
    dataset = dict(type='ImageNet', data_root=str(root), split='val')
    with pytest.raises(FileNotFoundError) as info:
        check_datasets(_config(val=dataset))
    message = str(info.value)
    assert f'ImageNet is not in {root} ({root / "val"} is missing)' in message
    assert f'{root / "train"}/<wnid>/*.JPEG' in message
    assert f'{root / "meta"}/{{train,val}}.txt' in message
    assert 'val_dataloader.dataset.data_root' in message


def test_imagenet_with_its_split_folder_passes_and_a_named_ann_file_counts(
        tmp_path):
    (tmp_path / 'val').mkdir()
    dataset = dict(type='ImageNet', data_root=str(tmp_path), split='val')
    check_datasets(_config(val=dataset))
    with pytest.raises(FileNotFoundError, match='meta/val.txt is missing'):
        check_datasets(_config(val=dict(dataset, ann_file='meta/val.txt')))


def test_unknown_and_remote_datasets_are_left_to_their_loaders(tmp_path):
    """No guessing: other types and remote roots are not checked."""
    check_datasets(
        _config(
            train=dict(type='SklearnDigits', split='train'),
            val=dict(type='CIFAR100', data_root='s3://bucket/cifar100')))
