"""mmcatkd: Class Attention Transfer knowledge distillation for OpenMMLab."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'mmcatkd', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmcatkd',
    version=read_version(),
    description='Class Attention Transfer knowledge distillation (CAT-KD, '
    'CVPR 2023) for MMPretrain/MMRazor',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'tools', 'configs')),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        # Distillation needs no compiled MMCV ops; a full mmcv 2.0-2.1
        # installed already works as well.
        'lite': ['mmcv-lite==2.1.0'],
        'tests': read_requirements('tests.txt'),
    },
    license='Apache-2.0',
    zip_safe=False,
)
