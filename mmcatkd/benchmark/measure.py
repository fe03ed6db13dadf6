"""Timing, peak memory and counted work of the benchmark's variants."""
import collections
import ctypes
import os
import statistics
import sys
import time
from typing import Callable, Dict, List

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

from .variants import Variant


def progress(message: str) -> None:
    """Progress goes to stderr; the table to stdout."""
    print(message, file=sys.stderr, flush=True)


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_rounds(variants: Dict[str, Variant], device: torch.device,
                warmup: int, iters: int) -> None:
    """Warm every variant up, then time ``iters`` rounds of one step each.

    Each step is timed by the wall clock and by the process's CPU time. On
    a CPU shared with other jobs the wall clock also counts the time the
    scheduler gives to them; CPU time counts this process's work only (with
    one thread, the work itself). The order of the variants rotates from
    round to round so that none always follows the same one.
    """
    for index in range(warmup):
        progress(f'warm-up {index + 1}/{warmup}')
        for variant in variants.values():
            variant.step()
    order = list(variants.values())
    for index in range(iters):
        started = time.perf_counter()
        shift = index % len(order)
        for variant in order[shift:] + order[:shift]:
            synchronize(device)
            wall, cpu = time.perf_counter(), time.process_time()
            variant.step()
            synchronize(device)
            variant.times['wall'].append(time.perf_counter() - wall)
            variant.times['cpu'].append(time.process_time() - cpu)
        progress(f'round {index + 1}/{iters}: '
                 f'{time.perf_counter() - started:.1f} s')


def spread(times: List[float]) -> float:
    """Interquartile range as a fraction of the median."""
    quartiles = statistics.quantiles(times, n=4)
    return (quartiles[2] - quartiles[0]) / statistics.median(times)


def paired_ratio(numerator: List[float], denominator: List[float]) -> float:
    """Median over rounds of the per-round ratio: steps of one round are
    neighbours in time and share the machine's load."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


class CPUPeakMemory:
    """Peak RSS increase during a call, on Linux.

    Resets the kernel's high-water mark (``/proc/self/clear_refs``) and
    reads it back (``VmHWM``). glibc keeps freed memory in its heap, where
    the next step would reuse it unseen, so the mmap threshold is fixed at
    64 KiB (all but the smallest tensors get their own mapping, unmapped
    when freed) and the heap is trimmed before each call. Only for the
    memory pass: a fixed threshold makes allocation slower.
    """

    M_MMAP_THRESHOLD = -3

    def __init__(self) -> None:
        self.libc = ctypes.CDLL('libc.so.6')
        self.libc.mallopt(self.M_MMAP_THRESHOLD, 64 * 1024)

    @staticmethod
    def available() -> bool:
        return (sys.platform.startswith('linux')
                and os.access('/proc/self/clear_refs', os.W_OK))

    @staticmethod
    def _status_kb(field: str) -> int:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
        raise RuntimeError(f'/proc/self/status has no {field}.')

    def measure(self, fn: Callable[[], object]) -> int:
        """Bytes by which ``fn()`` raised the resident set at its peak."""
        self.libc.malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as clear_refs:
            clear_refs.write('5')  # reset VmHWM to the current RSS
        before = self._status_kb('VmRSS')
        fn()
        return (self._status_kb('VmHWM') - before) * 1024


def measure_memory(variants: Dict[str, Variant], device: torch.device) -> str:
    """Set each variant's ``step_memory``; return how it was measured."""
    if device.type == 'cuda':
        for variant in variants.values():
            synchronize(device)
            before = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            variant.step()
            synchronize(device)
            variant.step_memory = (
                torch.cuda.max_memory_allocated(device) - before)
        return ('CUDA: torch.cuda.max_memory_allocated during one step '
                'minus memory_allocated before it')
    if not CPUPeakMemory.available():
        return 'not measured: needs Linux /proc/self/clear_refs'
    meter = CPUPeakMemory()
    # The first pass after the threshold change also pays one-off growth:
    # keep each variant's smaller figure of two.
    for _ in range(2):
        for variant in variants.values():
            measured = meter.measure(variant.step)
            if variant.step_memory is None:
                variant.step_memory = measured
            variant.step_memory = min(variant.step_memory, measured)
    return ('CPU: peak RSS increase during one step (VmHWM reset through '
            '/proc/self/clear_refs, minus VmRSS before), glibc mmap '
            'threshold fixed at 64 KiB and heap trimmed first; approximates '
            'the tensors a step allocates, not torch.cuda figures')


class OpCounter(TorchDispatchMode):
    """Counts the aten ops a call dispatches and the bytes of the tensors
    they write (outputs that are views of other tensors excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = collections.Counter()
        self.written = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        outputs = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        self.ops[name] += 1
        for output in tree_leaves(outputs):
            if isinstance(output, torch.Tensor) and not output._is_view():
                self.written[name] += output.numel() * output.element_size()
        return outputs


def count_work(variants: Dict[str, Variant]) -> None:
    """Set each variant's ``work``: FLOPs (matmuls and convolutions, as
    ``torch.utils.flop_counter`` counts them), aten ops and bytes written,
    for one step. Counts are exact and do not depend on the machine's load.
    """
    for variant in variants.values():
        counter = OpCounter()
        flops = FlopCounterMode(display=False)
        with flops, counter:
            variant.step()
        variant.work = dict(
            flops=flops.get_total_flops(),
            ops=sum(counter.ops.values()),
            written_bytes=sum(counter.written.values()),
            op_counts=dict(counter.ops))


def work_difference(work: dict, *others: dict) -> dict:
    """``work`` minus the sum of ``others``: totals and per-op counts."""
    difference = {
        key: work[key] - sum(other[key] for other in others)
        for key in ('flops', 'ops', 'written_bytes')
    }
    names = set(work['op_counts']).union(*(o['op_counts'] for o in others))
    per_op = {
        name:
        work['op_counts'].get(name, 0) - sum(other['op_counts'].get(name, 0)
                                             for other in others)
        for name in sorted(names)
    }
    difference['op_counts'] = {
        name: count
        for name, count in per_op.items() if count
    }
    return difference
