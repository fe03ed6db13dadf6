"""Attention and fidelity of several classifiers on one dataset.

    python tools/analyze_attention.py DATA_CONFIG \
        --model student STUDENT_CONFIG STUDENT.pth \
        --model t_weak TEACHER_CONFIG T_WEAK.pth \
        --model t_strong TEACHER_CONFIG T_STRONG.pth \
        [--affinity] [--out results.json]

The measurements of Guo et al., "Why does Knowledge Distillation Work?
Rethink its Attention and Fidelity Mechanism" (ESWA 2025,
https://arxiv.org/abs/2405.00739), defined in :mod:`mmcatkd.evaluation`:

- per model: top-1 accuracy, ECE (count-weighted and the authors'
  unweighted mean over 10 bins), mean prediction entropy and, with
  ``--affinity``, the accuracy under the training augmentation of
  DATA_CONFIG (or ``--aug-config``) divided by the accuracy on the base
  views: as the authors measure it, the images through the config's
  ``base_pipeline`` (RandomResizedCrop(0.2-1) alone,
  ``--affinity-base crop``), or through the test pipeline
  (``--affinity-base test``);
- per pair (a, b): top-1 agreement (fidelity), KL(p_b || p_a) (with the
  student listed first: KL(teacher || student), the direction of the KD
  loss), the authors' ``kl_authors`` = 10 KL(p_a || p_b) and the IoU of
  their binarised class-summed CAMs;
- with three or more models: the first model against the ensemble (mean
  logits) of the others, and the CAM IoU of all models together.

A model is a config and a checkpoint: a plain MMPretrain classifier config,
or a distillation config, whose student (``architecture``) is taken, with
the ``architecture.*`` weights of its checkpoint. The dataset is the
``test_dataloader`` (``--split val``: ``val_dataloader``) of DATA_CONFIG,
in order; each model normalises the images with its own preprocessor.
"""
from mmcatkd.cli.analyze_attention import main

if __name__ == '__main__':
    main()
