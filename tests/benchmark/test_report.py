"""The benchmark's ratios and targets, from step times given by hand."""
from types import SimpleNamespace

import pytest

from mmcatkd.benchmark.report import TARGETS, clock_summary, summarise

#: seconds per round of each variant (three rounds)
TIMES = {
    'student': [1.0, 1.2, 1.1],
    'teacher': [0.5, 0.4, 0.6],
    'logit_kd': [1.6, 1.8, 1.7],
    'catkd': [1.7, 1.7, 1.9],
    'catkd_bin': [1.8, 1.8, 2.0],
    'catkd_cached': [1.05, 1.25, 1.15],
    'cam_loss': [0.03, 0.02, 0.04],
    'cam_loss_bin': [0.05, 0.04, 0.06],
}


def _variants(names):
    return {
        name:
        SimpleNamespace(
            times=dict(wall=TIMES[name]),
            work=None,
            step_memory=None,
            state_bytes=lambda: 0)
        for name in names
    }


def test_ratios_of_medians_and_targets():
    """Each ratio is the ratio of the medians (catkd 1.7 / logit KD 1.7 =
    1.0), the paired one the median of per-round ratios, and a target is
    met when its ratio is at most its limit."""
    summary = clock_summary(_variants(TIMES), 'wall')
    ratios, targets = summary['ratios'], summary['targets']
    assert ratios['catkd/logit_kd'] == pytest.approx(1.7 / 1.7)
    assert ratios['catkd/logit_kd paired'] == pytest.approx(1.7 / 1.6)
    assert ratios['catkd/(teacher+student)'] == pytest.approx(1.7 / 1.6)
    assert ratios['cam_loss/catkd'] == pytest.approx(0.03 / 1.7)
    assert ratios['catkd_cached/student'] == pytest.approx(1.15 / 1.1)
    assert set(targets) == set(TARGETS)
    assert targets['catkd/logit_kd']['met']
    assert not targets['catkd/(teacher+student)']['met']  # 1.0625 > 1.03
    assert targets['cam_loss/catkd']['met']  # 0.0176 <= 0.02
    assert not targets['catkd_cached/logit_kd']['met']  # 0.676 > 0.6
    assert targets['catkd_cached/student']['met']  # 1.045 <= 1.05


def test_without_the_cached_variant_its_ratios_are_left_out():
    """build_variants leaves the cached variant (f) out without a cache
    folder: the summary then has no cached ratios or targets, and the
    others are unchanged."""
    names = [name for name in TIMES if name != 'catkd_cached']
    full = clock_summary(_variants(TIMES), 'wall')
    summary = summarise(_variants(names), batch_size=4, clocks=['wall'])
    wall = summary['clocks']['wall']
    assert set(wall['targets']) == {
        key
        for key in TARGETS if not key.startswith('catkd_cached')
    }
    assert not any('catkd_cached' in key for key in wall['ratios'])
    assert wall['ratios'] == {
        key: value
        for key, value in full['ratios'].items() if 'catkd_cached' not in key
    }
    assert summary['variants']['student']['images_per_s'] == (
        pytest.approx(4 / 1.1))
