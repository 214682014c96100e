"""What every GAN's training function does around the shared loop: seed,
build in the strategy's scope under the run's dtype policy, resume from the
newest intact checkpoint or start a new state, and run the loop."""

from __future__ import annotations

import dataclasses

import keras

from zoo.gan.schedule import ConstantThenLinearDecay
from zoo.training.checkpoint import Checkpointer
from zoo.training.distribute import (
    auto_precision,
    dtype_policy,
    loss_scaled,
    make_strategy,
    precision_policy,
)
from zoo.training.loop import TrainingLoop, new_state


class EpochsConfig:
    """What the GAN configs (dataclasses with `epochs`, `decay_epochs`,
    `learning_rate` and `beta_1`) share beyond their fields."""

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.decay_epochs

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def papers_adam(config, steps_per_epoch: int) -> keras.optimizers.Adam:
    """The papers' optimizer: Adam(beta_1) at a rate constant for
    `config.epochs`, then decaying linearly over `config.decay_epochs`; with
    loss scaling under the mixed_float16 policy."""
    rate = ConstantThenLinearDecay(config.learning_rate, steps_per_epoch, config.epochs,
                                   config.decay_epochs)
    return loss_scaled(keras.optimizers.Adam(rate, beta_1=config.beta_1))


def bfloat16_wins_on_cpu(config) -> bool:
    """Whether "auto" computes a GAN in bfloat16 on a CPU with AMX: only where
    its convolutions are large enough (image_size x ngf of at least the
    config's BFLOAT16_FROM) for AMX to beat float32's kernels."""
    return config.image_size * config.ngf >= config.BFLOAT16_FROM


def precision_line(config) -> str:
    """What a run computes in and why, for a recipe to print: e.g. "Compute:
    float32 (auto: no GPU, and this CPU has no AMX-BF16)"."""
    setting = config.mixed_precision
    reason = "as asked"
    if setting == "auto":
        setting, reason = auto_precision(bfloat16_on_cpu=bfloat16_wins_on_cpu(config),
                                         why_not="these networks are too small to gain "
                                                 "from bfloat16 on a CPU")
        reason = f"auto: {reason}"
    return f"Compute: {precision_policy(setting) or 'float32'} ({reason})."


def build_model(config, strategy, make_epochs, build):
    """Seed, then `make_epochs()` and `build(steps_per_epoch)` in `strategy`'s
    scope, under the dtype policy `config.mixed_precision` names (set back
    afterwards, so that what the caller builds next is float32).

    Returns:
        (strategy, epochs, model).
    """
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or make_strategy(config.strategy)
    with dtype_policy(precision_policy(config.mixed_precision,
                                       bfloat16_on_cpu=bfloat16_wins_on_cpu(config))):
        epochs = make_epochs()
        with strategy.scope():
            model = build(epochs.steps_per_epoch)
    return strategy, epochs, model


def restore_or_start(model, epochs, config, objects_of, strategy, *, checkpoint_dir,
                     resume: bool, extra_state: dict | None):
    """The run's checkpointer and state: restored from the newest intact
    checkpoint when resuming, else new.

    Args:
        objects_of: model -> the named objects each checkpoint holds; called
            once every variable exists (image pools are made on the first batch).

    Returns:
        (checkpointer or None, state, the epoch resumed from or None, objects).
    """
    checkpointer = Checkpointer(checkpoint_dir) if checkpoint_dir else None
    state = checkpointer.load_state() if (resume and checkpointer) else None
    resumed_from = state["epoch"] if state else None
    # Every variable (optimizer slots, pools) exists before a checkpoint is read.
    with strategy.scope():
        model.prepare_training(next(iter(epochs(state["epoch"] if state else 0).take(1))))
    objects = objects_of(model)
    if state:
        checkpointer.restore(objects)
    else:
        state = new_state(config=config.to_dict(), extra={})
    state["extra"].update(extra_state or {})
    return checkpointer, state, resumed_from, objects


def run_loop(model, epochs, test, config, state, *, monitor, strategy, checkpointer,
             objects: dict, best_model, callbacks=(), verbose: int = 2,
             batchnorm_data=None) -> None:
    """Train up to `config.total_epochs` through the shared loop."""
    loop = TrainingLoop(state, monitor=monitor, strategy=strategy, checkpointer=checkpointer,
                        callbacks=callbacks, verbose=verbose)
    try:
        loop.run(model, epochs, test, config.total_epochs, checkpoint_objects=objects,
                 best_model=best_model, batchnorm_data=batchnorm_data)
    finally:
        loop.close()
