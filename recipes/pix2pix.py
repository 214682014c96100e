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

import json
import sys
from types import SimpleNamespace

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

from zoo.arguments import parse_checked  # noqa: E402
from zoo.data.pairs import DIRECTIONS  # noqa: E402
from zoo.gan.pix2pix.arguments import check_pix2pix_arguments, pix2pix_config  # noqa: E402
from zoo.gan.recipe_arguments import gan_parser  # noqa: E402
from zoo.recipe_run import RecipeRun, add_run_arguments, run_recipe  # noqa: E402
from zoo.text import slug  # noqa: E402

EXPERIMENT = "pix2pix"
# About fifteen minutes on an idle 2-core CPU for the default embedded run,
# baseline included: an epoch of 384 pairs at 64 px takes about two minutes
# there. The paper's facades run is 100 + 100 epochs at 256 px.
DEFAULTS = SimpleNamespace(data="edges2photos", image_size=64, epochs=2, decay_epochs=1,
                           batch_size=1, ngf=64)
PAGE_ROWS = 16


def parse_args(argv=None):
    parser = gan_parser("pix2pix", "Train Pix2Pix on paired images.", DEFAULTS,
                        data_help="a folder of pairs (side-by-side A|B images, or A/ and B/ "
                                  "folders, optionally in train/ and test/), or edges2photos / "
                                  "gray2color",
                        size_help="training side in pixels, a power of two (64, 128, 256)")
    parser.add_argument("--direction", choices=DIRECTIONS, default="AtoB",
                        help="BtoA translates the other way: B is the input (edges2photos "
                             "BtoA draws edge maps of photos)")
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
                      registers="the generator as NAME",
                      champion_when="its test PSNR beats the current champion's")
    return parse_checked(parser, argv, check_pix2pix_arguments)


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    from zoo.data.pairs import load_pairs
    from zoo.files import atomic_write_text
    from zoo.gan import run_record
    from zoo.gan.distribution import extractor_for
    from zoo.gan.evaluation import comparison_table, score_rows
    from zoo.gan.inference import (float_translator, save_generator, served_translator,
                                   uint8_model, with_image_statistics)
    from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix
    from zoo.gan.run_setup import precision_line
    from zoo.gan.results_page import paired_rows, write_results_page

    # 1. Data: (A, B) uint8 pairs in a fixed order; training shuffles and
    #    jitters each epoch with seeds of the epoch (exact resume).
    data = load_pairs(args.data, args.image_size, args.batch_size, augment=False,
                      shuffle=False, seed=args.seed, direction=args.direction)
    if data.test is None:
        sys.exit("pix2pix: error: no held-out pairs to score on; give a folder with a test/ "
                 "folder, or more pairs.")
    samples = run_record.first_images(data.test)

    # 2. The configuration, or the one --resume finds beside its checkpoints;
    #    the baseline is the same U-Net without its discriminator.
    direction = "" if args.direction == "AtoB" else "_BtoA"
    previous = run.open_output(f"{slug(args.data)}{direction}_{args.image_size}px")
    config = Pix2PixConfig(**previous["config"]) if previous else pix2pix_config(args)
    print(precision_line(config))
    # Each model resumes from its own checkpoints (the baseline's sit apart).
    configs = {"pix2pix": (config, run.checkpoint_dir, run.resuming)}
    if args.baseline == "l1":
        configs["L1-only U-Net"] = (Pix2PixConfig(**{**config.to_dict(), "adversarial": False}),
                                    run.output / "l1_baseline" / "checkpoints", args.resume)

    def train_all(callbacks=None, extra_state=None, verbose=2):
        """Pix2Pix, then the L1-only baseline with the same budget."""
        return {name: train_pix2pix(each, data.train, data.test, checkpoint_dir=folder,
                                    resume=resume, strategy=run.strategy,
                                    callbacks=(callbacks or {}).get(name, ()), verbose=verbose,
                                    extra_state=extra_state if name == "pix2pix" else None)
                for name, (each, folder, resume) in configs.items()}

    if not run.is_chief:
        train_all(verbose=0)
        return run.worker_finished()

    paper = config.test_mode == "paper"

    def shipped(generator):
        """The generator as it is saved: uint8 in and out; in paper mode its
        BatchNorm layers use each image's statistics."""
        return uint8_model(with_image_statistics(generator) if paper else generator,
                           name="pix2pix_generator")

    with run.tracked(f"pix2pix-{slug(args.data)}{direction}", tags={"data_source": args.data},
                     params={"pix2pix": config.to_dict(), "data": args.data,
                             "direction": args.direction, "baseline": args.baseline}):
        import mlflow

        sample_log = run_record.EpochImageLog(run.steps, mlflow)

        def sample_grid(epoch, model):
            run_record.EpochSamples(*samples,
                                    float_translator(model.generator, training=paper),
                                    run.output / "samples", sample_log)(epoch)

        # 3. Train: the baseline logs its validation curves beside Pix2Pix's.
        results = train_all({"pix2pix": [run.epoch_callback(on_logged=sample_grid)],
                             "L1-only U-Net": [run.epoch_callback(prefix="l1_only_",
                                                                  only="val_")]},
                            extra_state=run.extra_state)

        # 4. The generator: a .keras file of built-in layers, uint8 in and
        #    out, written before anything is sent to MLflow; and a SavedModel.
        served = shipped(results["pix2pix"].model.generator)
        model_path = run.output / "generator.keras"
        save_generator(served, model_path, run.output / "generator_savedmodel")

        # 5. Held-out scores beside the baselines, of the generators as saved
        #    (what `zoo translate` gives).
        translators = {"input (identity)": None} | {
            name: served_translator(served if name == "pix2pix" else
                                    shipped(result.model.generator))
            for name, result in reversed(results.items())}
        rows = score_rows(translators, data.test, extractor_for(args.fid), realism=True)
        table = comparison_table(rows)
        print(f"\nHeld-out pairs ({rows['pix2pix']['images']} images):\n{table}")
        atomic_write_text(run.output / "scores.json", json.dumps(rows, indent=1, default=float))
        run.log_metrics(run_record.score_metrics(rows, "pix2pix"))

        # 6. The results page: input, output and target side by side.
        page = write_results_page(run.output / "results.html",
                                  f"pix2pix on {args.data} ({args.image_size} px)",
                                  ["input", "pix2pix", "target"],
                                  paired_rows(data.test, translators["pix2pix"], PAGE_ROWS),
                                  table)
        run.log_results(page, table)

        # 7. The MLflow model and, on request, the registry: never a champion
        #    that does no better than the input itself.
        lines = [f"Saved generator: `{model_path.resolve()}`"] + run.log_model(
            served, samples[0][:2], metric="test/psnr",
            chance_level=rows["input (identity)"]["psnr"])
        run.describe(run_record.description(
            f"**{args.data}**: Pix2Pix at {config.image_size} px", rows, "pix2pix",
            facts=[f"{config.total_epochs} epochs ({config.epochs} + {config.decay_epochs}"
                   f" decaying), {args.gan_loss} GAN loss, {args.norm} norm, "
                   f"test mode {config.test_mode}"],
            model_lines=lines))

    # 8. What a person wants to know at the end.
    run_record.print_verdict(rows, "pix2pix")
    run.print_end({"Generator": f"{model_path}   (translate with: zoo translate {model_path} "
                                f"IMAGE... --out DIR)",
                   "Results page": str(page)}, model_path)
    return SimpleNamespace(result=results["pix2pix"], baseline=results.get("L1-only U-Net"),
                           rows=rows, output=run.output, run_id=run.run_id)


if __name__ == "__main__":
    run_recipe(main, "pix2pix")
