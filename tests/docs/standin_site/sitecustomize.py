"""Loaded by every interpreter the documentation test starts (PYTHONPATH).

MMPretrain's ``CIFAR10``/``CIFAR100`` verify the MD5 sums of the real
``cifar-*-python`` files before reading them. The stand-in files of
``tests/docs/standin_data.py`` have the real layout and pickle keys but
cannot have those sums, so here, and only in the documentation test's
interpreters, the expected sums are cleared when MMPretrain's CIFAR module is
first imported. Nothing else changes.
"""
import importlib.abc
import importlib.machinery
import sys

_CIFAR_MODULE = 'mmpretrain.datasets.cifar'


class _ClearCifarChecksums(importlib.abc.MetaPathFinder):

    def find_spec(self, name, path=None, target=None):
        if name != _CIFAR_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_clear(module):
            exec_module(module)
            for cls in (module.CIFAR10, module.CIFAR100):
                cls.train_list = [[name, None] for name, _ in cls.train_list]
                cls.test_list = [[name, None] for name, _ in cls.test_list]
                cls.meta = dict(cls.meta, md5=None)

        spec.loader.exec_module = exec_and_clear
        return spec


sys.meta_path.insert(0, _ClearCifarChecksums())
