"""The stand-in data sets are in the layouts the docs describe: the data
check of tools/train.py accepts them for the shipped configs, and
MMPretrain's ImageNet reads the tree with the labels of meta/*.txt."""
import os.path as osp
import pickle

import numpy as np
from mmengine.config import Config

from mmcatkd.datasets import check_datasets
from tests.conftest import PROJECT_ROOT
from tests.docs.standin_data import (CUSTOM_FOLDER_CLASSES, IMAGENET_WNIDS,
                                     write_cifar100, write_image_folder,
                                     write_imagenet)


def _with_root(config, root):
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, 'configs', config))
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = str(root)
    return cfg


def test_the_data_check_accepts_the_stand_ins(tmp_path):
    check_datasets(
        _with_root('catkd_r34_r18_imagenet.py',
                   write_imagenet(str(tmp_path / 'imagenet'))))
    check_datasets(
        _with_root('catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py',
                   write_cifar100(str(tmp_path / 'cifar100'))))


def test_imagenet_tree_reads_with_its_labels(tmp_path):
    from mmpretrain.datasets import ImageNet
    root = write_imagenet(str(tmp_path), train_per_class=2, val_per_class=1)
    train = ImageNet(data_root=root, split='train', lazy_init=False)
    assert len(train) == 2 * len(IMAGENET_WNIDS)
    assert osp.dirname(train.get_data_info(0)['img_path']).endswith(
        osp.join('train', IMAGENET_WNIDS[0]))
    val = ImageNet(data_root=root, split='val')
    assert [val.get_data_info(i)['gt_label']
            for i in range(len(val))] == list(range(len(IMAGENET_WNIDS)))


def test_cifar100_pickles_have_the_real_keys(tmp_path):
    folder = osp.join(write_cifar100(str(tmp_path), 2, 1), 'cifar-100-python')
    with open(osp.join(folder, 'train'), 'rb') as file:
        train = pickle.load(file, encoding='latin1')
    assert set(train) == {
        'filenames', 'batch_label', 'fine_labels', 'coarse_labels', 'data'
    }
    assert train['data'].shape == (200, 3072)
    assert train['data'].dtype == np.uint8
    assert sorted(set(train['fine_labels'])) == list(range(100))
    with open(osp.join(folder, 'meta'), 'rb') as file:
        meta = pickle.load(file, encoding='latin1')
    assert len(meta['fine_label_names']) == 100
    assert len(meta['coarse_label_names']) == 20


def test_the_image_folder_has_the_example_configs_classes(tmp_path):
    """MMPretrain's CustomDataset reads the stand-in folder with one class
    per sub-folder, as many as the own-pair example's data config says, and
    the data check accepts it for that example."""
    from mmpretrain.datasets import CustomDataset
    root = write_image_folder(str(tmp_path / 'custom'))
    config = 'catkd/catkd_resnet50_resnet18_8xb32_custom-folder.py'
    cfg = _with_root(config, root)
    check_datasets(cfg)
    for split in ('train', 'val'):
        dataset = CustomDataset(data_root=root, data_prefix=split)
        assert dataset.metainfo['classes'] == CUSTOM_FOLDER_CLASSES
        assert len(CUSTOM_FOLDER_CLASSES) == cfg.data_preprocessor.num_classes
        assert sorted(dataset.get_gt_labels()) == list(
            range(len(CUSTOM_FOLDER_CLASSES)))
