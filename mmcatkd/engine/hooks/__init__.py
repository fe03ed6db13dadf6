from .best_score_logger_hook import BestScoreLoggerHook
from .broadcast_buffers_hook import BroadcastBuffersHook, broadcast_buffers
from .cam_agreement_hook import CAMAgreementHook, top1_cam_agreement
from .cat_auto_beta_hook import CATAutoBetaHook, auto_betas
from .checkpoint_match_hook import (CheckpointMatchHook,
                                    CheckpointMismatchError,
                                    state_dict_mismatch)
from .crash_safe_checkpoint_hook import CrashSafeCheckpointHook
from .distill_loss_weight_hook import DistillLossWeightHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .preflight_check_hook import (PreflightCheckHook, PreflightError,
                                   preflight_check)
from .resume_check_hook import ResumeCheckHook
from .rng_state_hook import (RNGStateHook, capture_rng_state,
                             preserved_rng_state, restore_rng_state)
from .train_fidelity_hook import TrainFidelityHook, mean_over_batches

__all__ = [
    'BestScoreLoggerHook', 'BroadcastBuffersHook', 'broadcast_buffers',
    'CAMAgreementHook', 'top1_cam_agreement', 'CATAutoBetaHook', 'auto_betas',
    'CheckpointMatchHook', 'CheckpointMismatchError', 'state_dict_mismatch',
    'CrashSafeCheckpointHook', 'DistillLossWeightHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'PreflightCheckHook', 'PreflightError',
    'preflight_check', 'ResumeCheckHook', 'RNGStateHook', 'capture_rng_state',
    'preserved_rng_state', 'restore_rng_state', 'TrainFidelityHook',
    'mean_over_batches'
]
