"""Title: Unpaired image-to-image translation with CycleGAN, tracked in MLflow.

Description: trains the CycleGAN of Zhu et al. (2017): two ResNet generators
(G: A -> B, F: B -> A) against two 70x70 PatchGANs, with the least-squares
GAN loss, cycle and identity losses, image pools and the linear decay of the
learning rate. On the embedded domains, whose true mapping is known, it
scores both directions on held-out images beside doing nothing (identity)
and beside the same generator trained on the true pairs (the upper bound),
and records everything in one MLflow run: parameters, per-epoch losses and
held-out scores, a sample grid per epoch (the UI's image slider), an HTML
results page, and both generators as models that take and give uint8 images.

Needs: zoo's dependencies. The default data (`rgb2bgr`: crops of
scikit-image's sample photos, domain B with red and blue swapped) ship
inside scikit-image, so the recipe runs offline.

    python recipes/cyclegan.py                          # rgb2bgr at 64 px
    python recipes/cyclegan.py --data color2sepia
    python recipes/cyclegan.py --data horse2zebra/ --image-size 256 \\
        --generator resnet9 --ngf 64 --epochs 100 --decay-epochs 100   # the paper's run
    python recipes/cyclegan.py --data tfds:cycle_gan/horse2zebra ...
    python recipes/cyclegan.py ... --resume             # after a crash or Ctrl-C
    zoo run cyclegan ...                                # the same
    zoo translate runs/cyclegan/.../generators photo.png --direction BtoA --out out/
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

from zoo.arguments import parse_checked  # noqa: E402
from zoo.gan.cyclegan.arguments import (  # noqa: E402
    GENERATORS,
    check_cyclegan_arguments,
    cyclegan_config,
)
from zoo.gan.recipe_arguments import gan_parser  # noqa: E402
from zoo.recipe_run import RecipeRun, add_run_arguments, run_recipe  # noqa: E402
from zoo.text import slug  # noqa: E402

EXPERIMENT = "cyclegan"
# The default embedded run: about ten minutes on a 2-core CPU, upper bound
# included. The paper trains 100 + 100 epochs at 256 px with resnet9, ngf 64.
DEFAULTS = SimpleNamespace(data="rgb2bgr", image_size=64, generator="resnet6", ngf=16,
                           epochs=6, decay_epochs=3, batch_size=1, lambda_identity=0.5)
PAGE_ROWS = 8


def parse_args(argv=None):
    parser = gan_parser("cyclegan", "Train CycleGAN on two unpaired image domains.", DEFAULTS,
                        data_help="a folder with trainA/ and trainB/ (and testA/, testB/), "
                                  "tfds:cycle_gan/NAME, or the embedded rgb2bgr / color2sepia",
                        size_help="training side in pixels, a multiple of 4 (at least 24)",
                        epoch_unit="the larger domain once")
    parser.add_argument("--generator", choices=sorted(GENERATORS), default=DEFAULTS.generator,
                        help="residual blocks of the generators: the paper uses resnet9 at "
                             "256 px, resnet6 at 128 px")
    parser.add_argument("--lambda-identity", type=float, default=DEFAULTS.lambda_identity,
                        help="weight of the identity losses relative to the cycle losses "
                             "(0.5 in the paper; 0 turns them off)")
    parser.add_argument("--upper-bound", choices=["paired", "none"], default="paired",
                        help="where the true mapping is known, also train the same generator "
                             "on the true pairs with the same budget, to compare")
    add_run_arguments(parser, saves="checkpoints, samples and the saved generators",
                      registers="the generators as NAME-AtoB and NAME-BtoA",
                      champion_when="the held-out PSNR against the true mapping beats the "
                                    "current champion's and identity's")
    return parse_checked(parser, argv, check_cyclegan_arguments)


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    from zoo.data import load_unpaired
    from zoo.files import atomic_write_text
    from zoo.gan import run_record
    from zoo.gan.cyclegan import GENERATOR_FILES, scoring
    from zoo.gan.cyclegan.resnet import with_image_size
    from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan, validation_batches
    from zoo.gan.run_setup import precision_line
    from zoo.gan.cyclegan.upper_bound import train_paired_generator
    from zoo.gan.distribution import extractor_for
    from zoo.gan.inference import float_translator, save_generator, served_translator, uint8_model
    from zoo.gan.results_page import write_results_page

    # 1. Data: each domain's uint8 images in a fixed order; training shuffles
    #    and jitters each epoch with seeds of the epoch (exact resume). The
    #    embedded domains know the true mapping, which scores the run.
    data = load_unpaired(args.data, args.image_size, args.batch_size, augment=False,
                         shuffle=False, seed=args.seed)
    if data.test_a is None or data.test_b is None:
        sys.exit("cyclegan: error: no held-out images to score on; give a folder with testA/ "
                 "and testB/, or more images.")
    truth = scoring.true_mappings(args.data)
    test = validation_batches(data.test_a, data.test_b, truth["AtoB"], truth["BtoA"])
    held_out = {"AtoB": data.test_a, "BtoA": data.test_b}
    samples = {d: run_record.first_images(images) for d, images in held_out.items()}

    # 2. The configuration, or the one --resume finds beside its checkpoints.
    previous = run.open_output(f"{slug(args.data)}_{args.image_size}px")
    config = CycleGANConfig(**previous["config"]) if previous else cyclegan_config(args)
    print(precision_line(config))

    def train(**tracked):
        return train_cyclegan(config, data.train_a, data.train_b, test,
                              checkpoint_dir=run.checkpoint_dir, resume=run.resuming,
                              strategy=run.strategy, **tracked)

    if not run.is_chief:
        train(verbose=0)
        return run.worker_finished()

    with run.tracked(f"cyclegan-{slug(args.data)}", tags={"data_source": args.data},
                     params={"cyclegan": config.to_dict(), "data": args.data,
                             "upper_bound": args.upper_bound}):
        import mlflow

        def sample_grid(epoch, model):
            run_record.CycleSamples(samples["AtoB"], samples["BtoA"],
                                    float_translator(model.generator_ab),
                                    float_translator(model.generator_ba), run.output / "samples",
                                    run_record.EpochImageLog(run.steps, mlflow))(epoch)

        # 3. Train, then the paired upper bound with the same budget.
        result = train(callbacks=[run.epoch_callback(on_logged=sample_grid)],
                       extra_state=run.extra_state)
        generators = {"AtoB": result.model.generator_ab, "BtoA": result.model.generator_ba}
        upper = {}
        for direction, train_images in (("AtoB", data.train_a), ("BtoA", data.train_b)):
            if args.upper_bound == "paired" and truth[direction] is not None:
                print(f"[upper bound] Training the generator {direction} on the true pairs "
                      f"({config.total_epochs} epochs)...", flush=True)
                upper[direction] = float_translator(train_paired_generator(
                    config, train_images, truth[direction], name=f"paired_{direction}"))

        # 4. Both generators: .keras files of built-in layers that take any
        #    size (a multiple of 4), uint8 in and out, written before
        #    anything is sent to MLflow; and SavedModels.
        folder = run.output / "generators"
        served = {direction: uint8_model(with_image_size(generator), name=f"cyclegan_{direction}")
                  for direction, generator in generators.items()}
        for direction, model in served.items():
            save_generator(model, folder / GENERATOR_FILES[direction],
                           run.output / f"savedmodel_{direction}")
        translators = {direction: served_translator(model) for direction, model in served.items()}

        # 5. Held-out scores of the generators as saved: against the true
        #    mapping where it is known, beside identity and the upper bound.
        scored = scoring.score_directions(held_out, translators, upper, truth,
                                          extractor_for(args.fid))
        table = scoring.scores_text(scored)
        print(f"\nHeld-out images:\n{table}")
        atomic_write_text(run.output / "scores.json", json.dumps(scored, indent=1, default=float))
        run.log_metrics(scoring.direction_metrics(scored))

        # 6. The results page: each image, its translation, the truth where
        #    known, and the way back.
        page = write_results_page(
            run.output / "results.html", f"CycleGAN on {args.data} ({args.image_size} px)",
            ["input", "translation", "true translation", "back again"],
            scoring.page_rows(held_out, translators, truth, PAGE_ROWS), table)
        run.log_results(page, table)

        # 7. Both MLflow models and, on request, the registry. Without a true
        #    mapping there is nothing to promote on.
        lines = [f"Saved generators: `{folder.resolve()}`"]
        for direction, model in served.items():
            rows = scored.get(direction)
            lines += [f"{direction}: {line}" for line in run.log_model(
                model, samples[direction][:2], name=f"generator_{direction}",
                registered_name=f"{args.register}-{direction}",
                metric=f"test/{direction}/psnr",
                chance_level=rows["identity"]["psnr"] if rows else float("inf"))]
        run.describe(scoring.run_description(
            f"**{args.data}**: CycleGAN at {config.image_size} px",
            [f"{config.total_epochs} epochs ({config.epochs} + {config.decay_epochs} decaying), "
             f"{args.generator}, ngf {config.ngf}, identity weight {config.lambda_identity}"],
            scored, lines))

    # 8. What a person wants to know at the end.
    for direction, rows in scored.items():
        run_record.print_verdict(rows, scoring.MODEL_ROW, against=["identity"],
                                 label=f"{scoring.DIRECTION_NAMES[direction]}: ")
    run.print_end({"Generators": f"{folder}   (translate with: zoo translate {folder} "
                                 f"IMAGE... --direction AtoB|BtoA --out DIR)",
                   "Results page": str(page)}, folder)
    return SimpleNamespace(result=result, upper=upper, rows=scored, output=run.output,
                           run_id=run.run_id)


if __name__ == "__main__":
    run_recipe(main, "cyclegan")
