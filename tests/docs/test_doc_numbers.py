"""Every number of our own runs that README.md, docs/*.md and the method
READMEs under configs/ quote comes from one file, docs/results.yml: each
quotation below is rebuilt from that file (means and differences computed
here from its per-seed values) and must appear in its document as written,
so a number changed in one place and not the other fails."""
import os.path as osp
import re

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

with open(osp.join(PROJECT_ROOT, 'docs', 'results.yml')) as _file:
    RESULTS = yaml.safe_load(_file)
DEMO = RESULTS['demo']
OLD = RESULTS['demo_mmpretrain_head']
UNSEEN = RESULTS['unseen']
BENCH = RESULTS['benchmark']
METHODS = ('baseline', 'kd', 'catkd', 'cat_alone')


def _doc(path):
    with open(osp.join(PROJECT_ROOT, path)) as file:
        return file.read()


def _f(value):
    return f'{value:.2f}'


def _mean(method):
    seeds = DEMO['students'].values()
    return sum(seed[method] for seed in seeds) / len(seeds)


def _gains(method):
    """Per seed, ``method`` minus the student alone, as the docs print it."""
    return [
        f'+{seed[method] - seed["baseline"]:.1f}'
        for _, seed in sorted(DEMO['students'].items())
    ]


def _seed_row(label, seed):
    return '| {} | {} |'.format(label,
                                ' | '.join(_f(seed[m]) for m in METHODS))


def quotations():
    """(document, text it must contain), built from docs/results.yml."""
    seed0 = DEMO['students'][0]
    means = {method: _mean(method) for method in METHODS}
    cat_gains, alone_gains = _gains('catkd'), _gains('cat_alone')
    quotes = [
        # the demo, seed 0: README table and docs/demo.md's results
        ('README.md', '| {} | {} |'.format(
            _f(DEMO['teacher']), ' | '.join(_f(seed0[m]) for m in METHODS))),
        ('docs/demo.md', f'training digits | {_f(DEMO["teacher"])} |'),
        ('docs/demo.md',
         f'The teacher learned the task ({_f(DEMO["teacher"])} %)'),
        ('docs/demo.md', f'reaches {_f(seed0["baseline"])} %'),
        ('docs/demo.md', f'digits per class | {_f(seed0["baseline"])} |'),
        ('docs/demo.md', f'KL divergence (T=4) | {_f(seed0["kd"])} |'),
        ('docs/demo.md', f'CE + 0.2 * CAT | {_f(seed0["catkd"])} |'),
        ('docs/demo.md', f'0.2 * CAT, no labels | {_f(seed0["cat_alone"])} |'),
        ('docs/demo.md', f'| online teacher (twice) | 4 min 32 s, 4 min 7 s '
         f'| 83 s, 83 s | {_f(seed0["catkd"])} / {_f(seed0["cat_alone"])} |'),
        # the demo's folder README, seed 0 and the unseen-class runs
        ('configs/demo/README.md', 'labels of all 1,198 training digits | '
         f'{_f(DEMO["teacher"])} |'),
        ('configs/demo/README.md',
         f'labels of 10 digits per class | {_f(seed0["baseline"])} |'),
        ('configs/demo/README.md',
         f'teacher logits (KL, T = 4) | {_f(seed0["kd"])} |'),
        ('configs/demo/README.md', f'CE + 0.2 CAT | {_f(seed0["catkd"])} |'),
        ('configs/demo/README.md',
         f'the same images, no labels | {_f(seed0["cat_alone"])} |'),
        ('configs/demo/README.md', f'teacher {_f(OLD["teacher"])} %'),
        ('configs/demo/README.md', 'digits 0-7, no labels | {} (unseen 8-9: '
         '{}) |'.format(*(_f(UNSEEN['cat_alone_step300'][k])
                          for k in ('all', 'unseen')))),
        ('configs/demo/README.md', 'labels of digits 0-7 | {} (unseen 8-9: '
         '{}) |'.format(*(_f(UNSEEN['cross_entropy_0_7'][k])
                          for k in ('all', 'unseen')))),
        # three seeds
        ('docs/demo.md', _seed_row('0 (the demo)', seed0)),
        ('docs/demo.md', _seed_row('1', DEMO['students'][1])),
        ('docs/demo.md', _seed_row('2', DEMO['students'][2])),
        ('docs/demo.md',
         '| mean | {} |'.format(' | '.join(_f(means[m]) for m in METHODS))),
        ('docs/demo.md', 'by {}, {} and {} points'.format(*cat_gains)),
        ('docs/demo.md', 'it was too ({}, {}, {})'.format(*alone_gains)),
        ('README.md', f'CAT-KD (mean {_f(means["catkd"])}) and CAT alone '
         f'({_f(means["cat_alone"])}) were ahead of the student\nalone '
         f'({_f(means["baseline"])})'),
        ('README.md', f'({_f(means["kd"])} mean)'),
        # demo wall clock
        ('README.md', f'`make demo` took {DEMO["fresh_wall_idle"]} wall'),
        ('README.md', f'({DEMO["fresh_wall_loaded"]}\nwhile other jobs'),
        ('docs/demo.md', f'| {DEMO["fresh_wall_idle"]} |'),
        ('docs/demo.md', f'| {DEMO["fresh_wall_loaded"]} |'),
        # the earlier runs with MMPretrain's head
        ('docs/demo.md', 'the seed-0 numbers were teacher {},\nbaseline {}, '
         'KD {}, CAT-KD {}, CAT alone {}'.format(
             _f(OLD['teacher']),
             *(_f(OLD['students_seed0'][m]) for m in METHODS))),
        ('docs/demo.md',
         '{} / {} / {} / {} (baseline / KD'.format(*(_f(OLD['means'][m])
                                                     for m in METHODS))),
        ('docs/your_own_pair.md',
         f'reached {_f(OLD["teacher"])} % with MMPretrain\'s head and '
         f'{_f(DEMO["teacher"])} % with MDistiller\'s'),
        # the unseen-class run (made with the earlier models)
        ('docs/visualization.md', "the teacher is that demo's, "
         f'{_f(OLD["teacher"])} %'),
        ('docs/visualization.md',
         f'whose teacher reaches {_f(DEMO["teacher"])} %'),
        ('docs/visualization.md',
         "labels; MMPretrain's head) | {} | {} | {} |".format(
             *(_f(UNSEEN['teacher'][k]) for k in ('all', 'seen', 'unseen')))),
        ('docs/visualization.md', '| 300 | **{}** | **{}** | **{}** |'.format(
            *(_f(UNSEEN['cat_alone_step300'][k])
              for k in ('all', 'seen', 'unseen')))),
        ('docs/visualization.md',
         '{} % on all,\n{} % on 0-7 and **{} %**'.format(
             *(_f(UNSEEN['cross_entropy_0_7'][k])
               for k in ('all', 'seen', 'unseen')))),
        ('README.md', f"MMPretrain's head, {_f(UNSEEN['teacher']['all'])} %)"),
        ('README.md', f'reaches {_f(UNSEEN["cat_alone_step300"]["unseen"])} % '
         'on the digits 8 and 9'),
        ('README.md', 'a cross-entropy student: '
         f'{_f(UNSEEN["cross_entropy_0_7"]["unseen"])} %'),
    ]
    # the benchmark: docs/performance.md's summary table and prose
    names = {
        'r32x4-shv1': 'resnet32x4 → ShuffleNetV1, 32 px, batch 64',
        'r34-r18': 'ResNet-34 → ResNet-18, 224 px, batch 16'
    }
    for pair, name in names.items():
        bench = BENCH[pair]
        row = '| {} | {:.3f} | {:.3f} | {:.1f} % |'.format(
            name, bench['catkd_over_logit_kd'],
            bench['catkd_over_teacher_and_student'],
            100 * bench['cam_and_loss_share'])
        quotes.append(('docs/performance.md', row))
    shv1, r18 = BENCH['r32x4-shv1'], BENCH['r34-r18']
    quotes += [
        ('docs/performance.md',
         '(CPU time {:.3f} and {:.3f})'.format(shv1['catkd_over_logit_kd'],
                                               r18['catkd_over_logit_kd'])),
        ('docs/performance.md', 'measured apart ({:.3f},\n  {:.3f})'.format(
            shv1['catkd_over_teacher_and_student'],
            r18['catkd_over_teacher_and_student'])),
        ('docs/performance.md', 'is {:.1f}-{:.1f} % of the step'.format(
            100 * r18['cam_and_loss_share'],
            100 * shv1['cam_and_loss_share'])),
        ('docs/performance.md',
         'the cached step is {:.2f}× the logit-KD step and\n'
         '{:.2f}× the student\'s own step'.format(
             BENCH['cached_over_logit_kd'], BENCH['cached_over_student'])),
        ('docs/performance.md', '(above: {:.2f}× the online step'.format(
            BENCH['cached_over_logit_kd'])),
    ]
    return quotes


@pytest.mark.parametrize(
    'doc,text', quotations(), ids=lambda item: str(item)[:60])
def test_the_doc_quotes_the_results_file(doc, text):
    assert text in _doc(doc), (
        f'{doc} does not say {text!r}, which docs/results.yml gives')


def _targets_by_cpu_time(block_start):
    """The ratios of a benchmark output block of docs/performance.md."""
    text = _doc('docs/performance.md')
    block = text[text.index(block_start):]
    block = block[:block.index('```')]
    cpu = block[block.index('targets by cpu time'):]
    return [
        float(re.search(rf'{re.escape(label)}\s+([\d.]+)', cpu).group(1))
        for label in ('CAT-KD step / logit-KD step',
                      'CAT-KD step / (teacher fwd + student step)',
                      'CAM + CAT loss / CAT-KD step')
    ]


@pytest.mark.parametrize('pair', ['r32x4-shv1', 'r34-r18'])
def test_the_results_file_is_the_benchmark_output_shown(pair):
    """The file's ratios are the tool's output printed in
    docs/performance.md (the first output block of the pair)."""
    bench = BENCH[pair]
    assert _targets_by_cpu_time(f'{pair}: batch') == [
        bench['catkd_over_logit_kd'], bench['catkd_over_teacher_and_student'],
        bench['cam_and_loss_share']
    ]


def test_a_changed_number_is_caught():
    """A results file that disagrees with the docs yields a quotation the
    docs do not contain."""
    original = DEMO['teacher']
    try:
        DEMO['teacher'] = 97.99
        missing = [(doc, text) for doc, text in quotations()
                   if text not in _doc(doc)]
    finally:
        DEMO['teacher'] = original
    assert {doc
            for doc, _ in missing} >= {
                'README.md', 'docs/demo.md', 'docs/visualization.md',
                'docs/your_own_pair.md'
            }
