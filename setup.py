"""mmcatkd: Class Attention Transfer knowledge distillation for OpenMMLab."""
import os
import os.path as osp
import shutil
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
# What OpenMMLab wheels ship in PACKAGE/.mim/: MIM (`mim train mmcatkd
# CONFIG`), MMEngine (`_base_ = 'mmcatkd::...'`, `cfg_path='mmcatkd::...'`)
# and `python -m mmcatkd.run mmcatkd::tools/train.py` look there.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_requirements(name):
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'mmcatkd', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def add_mim_files(mim_dir, link):
    """Put :data:`MIM_FILES` into ``mim_dir``: relative symlinks to the
    source tree (an editable install, so edits show at once) or copies (a
    wheel), as MMPretrain's setup.py does."""
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        source, target = osp.join(HERE, name), osp.join(mim_dir, name)
        if osp.islink(target) or osp.isfile(target):
            os.remove(target)
        elif osp.isdir(target):
            shutil.rmtree(target)
        if link:
            os.symlink(osp.relpath(source, mim_dir), target)
        elif osp.isdir(source):
            shutil.copytree(
                source,
                target,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(source, target)


class BuildPyWithMimFiles(build_py):
    """``build_py`` that adds ``mmcatkd/.mim/``: copied into the wheel's
    build folder, or linked in the source package for ``pip install -e``
    (setuptools' ``editable_mode``), whose imports read the source tree."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            add_mim_files(osp.join(HERE, 'mmcatkd', '.mim'), link=True)
        else:
            add_mim_files(
                osp.join(self.build_lib, 'mmcatkd', '.mim'), link=False)


setup(
    name='mmcatkd',
    version=read_version(),
    description='Class Attention Transfer knowledge distillation (CAT-KD, '
    'CVPR 2023) for MMPretrain/MMRazor',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'tools', 'configs')),
    cmdclass={'build_py': BuildPyWithMimFiles},
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        # Distillation needs no compiled MMCV ops; a full mmcv 2.0-2.1
        # installed already works as well.
        'lite': ['mmcv-lite==2.1.0'],
        'tests': read_requirements('tests.txt'),
        # timm teachers and students (timm://ARCH.TAG), imported only then
        'timm': read_requirements('timm.txt'),
    },
    license='Apache-2.0',
    zip_safe=False,
)
