# Stage 1 of `make demo`: the teacher, ResNet-56 trained on all 1,198
# training digits. tools/demo.py writes its weights to
# work_dirs/demo/teacher/teacher.pth, which the student configs load.
_base_ = ['./_base_/models.py', '../_base_/schedules/digits.py']

model = {{_base_.teacher_model}}
# one file name, whatever the schedule, for the students' teacher_ckpt
default_hooks = dict(checkpoint=dict(filename_tmpl='teacher.pth'))
