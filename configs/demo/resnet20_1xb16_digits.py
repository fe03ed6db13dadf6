# The student alone: ResNet-20 trained with cross-entropy on 10 labelled
# digits per class (100 images, a fixed seeded draw from the training split),
# the few-data regime of the paper's Fig. 7-left. The distillation configs
# train the same student on the same 100 images with the same schedule.
_base_ = ['./_base_/models.py', '../_base_/schedules/digits.py']

model = {{_base_.student_model}}
train_dataloader = dict(batch_size=16, dataset=dict(num_per_class=10, seed=0))
