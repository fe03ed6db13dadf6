# CAT-KD (Guo et al., CVPR 2023, Eq. 6): cross-entropy on the 10 labelled
# digits per class + beta * CAT, the mean squared difference between the
# teacher's and the student's class activation maps average-pooled to 2x2
# (Eq. 5).
#
# Unnormalised maps, as the authors' same-family CIFAR-100 CAT-KD configs
# (this resnet56 -> resnet20 pair included): l2-normalising each 2x2 map
# discards its scale, so nothing ties the scales of the ten class maps
# together (a CAT-alone student's logits drift apart) and the gradient grows
# as 1/|CAM| for the near-zero maps of a freshly initialised student.
# beta = 0.2 by the authors' rule, chosen once and not tuned on accuracy: at
# beta = 1 the CAT loss is ~34 after the first epoch (6 steps), and 0.2 puts
# beta * CAT at ~7, the middle of their 1-50 range on a log scale.
# docs/demo.md has the numbers, and those of a first run with normalised maps.
_base_ = ['./resnet20_1xb16_digits.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='CATDistill',
    architecture={{_base_.cat_student_model}},
    teacher={{_base_.teacher_model}},
    # written by stage 1 of tools/demo.py (which passes its own path)
    teacher_ckpt='work_dirs/demo/teacher/teacher.pth',
    distiller=dict(
        type='CAMDistiller',
        cat_loss=dict(loss_weight=0.2, resolution=2, normalize=False)))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
