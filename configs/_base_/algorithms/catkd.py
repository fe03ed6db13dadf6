# The CAT-KD algorithm (Guo et al., CVPR 2023): cross-entropy (weight 1) +
# beta * CAT on the two models' CAMs. A data set's CAT-KD _base_ adds data,
# schedule and runtime; an experiment adds the two models, the student's
# classifier, the teacher checkpoint and its CAT options.
#
# The authors' student classifier `conv_test`: a bias-free 1x1 conv (logits =
# GAP(CAM), Eqs. 1-4), initialised by the student family's own init loop.
# ResNet / WRN / MobileNetV2 (CIFAR) and the ImageNet ResNet-18:
# kaiming_normal_(fan_out, relu), i.e. N(0, sqrt(2/K)).
conv_test_fan_out = dict(
    bias=False,
    init_cfg=dict(
        _delete_=True,  # replaces the model file's None (PyTorch's default)
        type='Kaiming',
        layer='Linear',
        mode='fan_out',
        nonlinearity='relu',
        distribution='normal'))
# VGG, ShuffleNetV1/V2 and the ImageNet MobileNetV1: PyTorch's default Conv2d
# init, U(+-1/sqrt(C)) (nn.Linear's default equals it).
conv_test_default = dict(bias=False, init_cfg=None)

model = dict(
    _scope_='mmrazor',
    type='CATDistill',
    teacher_ckpt=None,
    # False: CAT alone; labels are then never read (the paper's CAT runs)
    calculate_student_loss=True,
    distiller=dict(
        type='CAMDistiller',
        cat_loss=dict(
            loss_weight=1.0,
            resolution=2,
            normalize=False,
            binarize=False,
            num_selected=None,
            selection='top')))
