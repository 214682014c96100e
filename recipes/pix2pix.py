"""Title: Paired image-to-image translation with Pix2Pix, tracked in MLflow.

Description: trains the Pix2Pix of Isola et al. (2017), a U-Net generator
against a 70x70 PatchGAN, on pairs of images (edges -> photo, gray -> colour,
labels -> facade...). It scores the generator on held-out pairs beside two
baselines (the input itself, and the same U-Net trained on L1 alone with the
same budget), and records everything in one MLflow run: parameters,
per-epoch losses and validation scores, a sample grid per epoch (the UI's
image slider), an HTML results page, and the generator as a model that
takes and gives uint8 images.

Needs: zoo's dependencies. The default data (`edges2photos`: edge maps and
crops of scikit-image's sample photos) ship inside scikit-image, so the
recipe runs offline.

    python recipes/pix2pix.py                         # edges2photos at 64 px
    python recipes/pix2pix.py --data gray2color
    python recipes/pix2pix.py --data facades/ --image-size 256 --epochs 100 \\
        --decay-epochs 100 --register facades          # the paper's facades run
    python recipes/pix2pix.py ... --resume            # after a crash or Ctrl-C
    zoo run pix2pix ...                               # the same
    zoo translate runs/pix2pix/.../generator.keras photo.png --out out/
"""

from __future__ import annotations

import argparse
import json
import sys
from types import SimpleNamespace

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

import zoo  # noqa: E402
from zoo.arguments import check_number, check_source, parse_checked  # noqa: E402
from zoo.data.pairs import DIRECTIONS  # noqa: E402
from zoo.gan.distribution import extractor_for  # noqa: E402
from zoo.gan.recipe_arguments import (  # noqa: E402
    add_gan_arguments,
    check_gan_arguments,
    gan_config_fields,
)
from zoo.gan.sizes import smallest_input  # noqa: E402
from zoo.recipe_run import RecipeRun, add_run_arguments  # noqa: E402
from zoo.text import slug  # noqa: E402

EXPERIMENT = "pix2pix"
# About fifteen minutes on an idle 2-core CPU for the default embedded run,
# baseline included: an epoch of 384 pairs at 64 px takes about two minutes
# there. The paper's facades run is 100 + 100 epochs at 256 px.
DEFAULTS = SimpleNamespace(data="edges2photos", image_size=64, epochs=2, decay_epochs=1,
                           batch_size=1, ngf=64)
SAMPLE_COUNT = 4
PAGE_ROWS = 16


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="pix2pix", description="Train Pix2Pix on paired images.")
    parser.add_argument("--data", default=DEFAULTS.data,
                        help="a folder of pairs (side-by-side A|B images, or A/ and B/ "
                             "folders, optionally in train/ and test/), or edges2photos / "
                             "gray2color")
    parser.add_argument("--direction", choices=DIRECTIONS, default="AtoB",
                        help="BtoA translates the other way: B is the input (edges2photos "
                             "BtoA draws edge maps of photos)")
    parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size,
                        help="training side in pixels, a power of two (64, 128, 256)")
    add_gan_arguments(parser, epochs=DEFAULTS.epochs, decay_epochs=DEFAULTS.decay_epochs,
                      ngf=DEFAULTS.ngf, batch_size=DEFAULTS.batch_size)
    parser.add_argument("--gan-loss", choices=["vanilla", "lsgan"], default="vanilla")
    parser.add_argument("--norm", choices=["batch", "instance"], default="batch")
    parser.add_argument("--n-layers-d", type=int, default=3,
                        help="the PatchGAN's stride-2 blocks: 3 judges 70x70 patches (the "
                             "paper's), 2 34x34, 1 16x16")
    parser.add_argument("--test-mode", choices=["paper", "deterministic"], default="paper",
                        help="paper: dropout and batch statistics at test time, as the paper; "
                             "deterministic: inference mode")
    parser.add_argument("--baseline", choices=["l1", "none"], default="l1",
                        help="also train the L1-only U-Net with the same budget, to compare")
    add_run_arguments(parser, saves="checkpoints, samples and the saved generator",
                      registers="register the generator as NAME (alias 'candidate'; "
                                "'champion' when its test PSNR beats the current champion's)")
    return parse_checked(parser, argv, check_arguments)


def check_arguments(args) -> None:
    """What can be checked before the data is read and TensorFlow is loaded."""
    from zoo.arguments import ArgumentError

    check_source("--data", args.data, "pairs")
    check_number("--image-size", args.image_size, 32)
    if args.image_size & (args.image_size - 1):
        raise ArgumentError("--image-size", f"{args.image_size} is not a power of two; the "
                                            f"U-Net halves it down to 1x1. Use 64, 128 or 256.")
    check_gan_arguments(args)
    check_number("--n-layers-d", args.n_layers_d, 1)

    smallest = smallest_input(args.n_layers_d)
    if smallest > args.image_size:
        raise ArgumentError("--n-layers-d", f"{args.n_layers_d} blocks need images of at least "
                                            f"{smallest} px; this run's --image-size is "
                                            f"{args.image_size}. Use fewer blocks or larger "
                                            f"images.")


def make_config(args, adversarial: bool = True):
    from zoo.gan.pix2pix.training import Pix2PixConfig

    return Pix2PixConfig(**gan_config_fields(args), gan_loss=args.gan_loss, norm=args.norm,
                         n_layers_d=args.n_layers_d, test_mode=args.test_mode,
                         adversarial=adversarial)


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    from zoo.data.pairs import load_pairs
    from zoo.files import atomic_write_text
    from zoo.gan import reports
    from zoo.gan.evaluation import comparison_table, input_baseline, paired_scores
    from zoo.gan.inference import (float_translator, save_generator, served_translator,
                                   uint8_model, with_image_statistics)
    from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix
    from zoo.gan.results_page import write_results_page

    # 1. Data: (A, B) uint8 pairs in a fixed order; training shuffles and
    #    jitters each epoch with seeds of the epoch (exact resume).
    data = load_pairs(args.data, args.image_size, args.batch_size, augment=False,
                      shuffle=False, seed=args.seed, direction=args.direction)
    if data.test is None:
        sys.exit("pix2pix: error: no held-out pairs to score on; give a folder with a test/ "
                 "folder, or more pairs.")
    samples = next(data.test.unbatch().batch(SAMPLE_COUNT).as_numpy_iterator())

    # 2. The configuration, or the one --resume finds beside its checkpoints.
    direction = "" if args.direction == "AtoB" else "_BtoA"
    previous = run.open_output(f"{slug(args.data)}{direction}_{args.image_size}px")
    config = Pix2PixConfig(**previous["config"]) if previous else make_config(args)
    baseline_config = (Pix2PixConfig(**{**config.to_dict(), "adversarial": False})
                       if args.baseline == "l1" else None)

    def train_both(on_epoch_end=None, baseline_on_epoch_end=None, **tracked):
        """Pix2Pix, then the L1-only baseline with the same budget."""
        result = train_pix2pix(config, data.train, data.test, checkpoint_dir=run.checkpoint_dir,
                               resume=run.resuming, strategy=run.strategy,
                               on_epoch_end=on_epoch_end, **tracked)
        baseline = None
        if baseline_config is not None:
            baseline = train_pix2pix(
                baseline_config, data.train, data.test, resume=args.resume,
                checkpoint_dir=run.output / "l1_baseline" / "checkpoints",
                strategy=run.strategy, on_epoch_end=baseline_on_epoch_end,
                verbose=tracked.get("verbose", 2))
        return result, baseline

    if not run.is_chief:
        train_both(verbose=0)
        return run.worker_finished()

    paper = config.test_mode == "paper"

    def shipped(generator):
        """uint8 batch -> uint8 batch, through the generator as it is saved."""
        return served_translator(uint8_model(with_image_statistics(generator) if paper
                                             else generator))

    with run.tracked(f"pix2pix-{slug(args.data)}{direction}", tags={"data_source": args.data},
                     params={"pix2pix": config.to_dict(), "data": args.data,
                             "direction": args.direction, "baseline": args.baseline}):
        import mlflow

        sample_log = reports.EpochImageLog(run.steps, mlflow)

        def on_epoch_end(epoch, logs, model):
            if run.log_epoch(epoch, logs):
                reports.EpochSamples(*samples, float_translator(model.generator, training=paper),
                                     run.output / "samples", sample_log)(epoch)

        def baseline_on_epoch_end(epoch, logs, model):
            run.log_epoch(epoch, {k: v for k, v in logs.items() if k.startswith("val_")},
                          prefix="l1_only_")

        # 3. Train.
        result, baseline = train_both(on_epoch_end, baseline_on_epoch_end,
                                      extra_state=run.extra_state)
        generator = result.model.generator

        # 4. The generator: a .keras file of built-in layers, uint8 in and
        #    out, written before anything is sent to MLflow; and a SavedModel.
        #    In paper mode its BatchNorm layers use each image's statistics.
        served = uint8_model(with_image_statistics(generator) if paper else generator,
                             name="pix2pix_generator")
        model_path = run.output / "generator.keras"
        save_generator(served, model_path, run.output / "generator_savedmodel")

        # 5. Held-out scores beside the baselines, of the generators as saved
        #    (what `zoo translate` gives).
        extractor = extractor_for(args.fid)
        rows = {"input (identity)": input_baseline(data.test, extractor=extractor)}
        if baseline is not None:
            rows["L1-only U-Net"] = paired_scores(
                shipped(baseline.model.generator), data.test, extractor=extractor)
        rows["pix2pix"] = paired_scores(shipped(generator), data.test, extractor=extractor)
        table = comparison_table(rows)
        print(f"\nHeld-out pairs ({rows['pix2pix']['images']} images):\n{table}")
        atomic_write_text(run.output / "scores.json", json.dumps(rows, indent=1, default=float))
        run.log_metrics(reports.score_metrics(rows, "pix2pix"))

        # 6. The results page: input, output and target side by side.
        page = write_results_page(run.output / "results.html",
                                  f"pix2pix on {args.data} ({args.image_size} px)",
                                  ["input", "pix2pix", "target"],
                                  _page_rows(data.test, shipped(generator)), table)
        run.steps("results page", mlflow.log_artifact, str(page))
        run.steps("scores table", mlflow.log_text, table, "evaluation/scores.txt")

        # 7. The MLflow model and, on request, the registry: never a champion
        #    that does no better than the input itself.
        lines = [f"Saved generator: `{model_path.resolve()}`"] + run.log_model(
            served, samples[0][:2], metric="test/psnr",
            chance_level=rows["input (identity)"]["psnr"])
        run.describe(reports.description(
            f"**{args.data}**: Pix2Pix at {config.image_size} px", rows, "pix2pix",
            facts=[f"{config.total_epochs} epochs ({config.epochs} + {config.decay_epochs}"
                   f" decaying), {args.gan_loss} GAN loss, {args.norm} norm, "
                   f"test mode {config.test_mode}"],
            model_lines=lines))

    # 8. What a person wants to know at the end.
    verdict = "beats" if reports.beats(rows, "pix2pix") else "does NOT beat"
    print(f"\npix2pix {verdict} every baseline on held-out PSNR: "
          + ", ".join(f"{name} {scores['psnr']:.2f} dB" for name, scores in rows.items()))
    run.print_end({"Generator": f"{model_path}   (translate with: zoo translate {model_path} "
                                f"IMAGE... --out DIR)",
                   "Results page": str(page)}, model_path)
    return SimpleNamespace(result=result, baseline=baseline, rows=rows, output=run.output,
                           run_id=run.run_id)


def _page_rows(pairs, translate) -> list:
    rows = []
    for a, b in pairs.unbatch().batch(PAGE_ROWS).take(1).as_numpy_iterator():
        outputs = translate(a)
        rows = [[a[i], outputs[i], b[i]] for i in range(len(a))]
    return rows


if __name__ == "__main__":
    try:
        main()
    except zoo.ZooError as error:  # bad input: say what and how to fix it, no traceback
        sys.exit(f"pix2pix: error: {error}")
